/// The checks every metric makes of its inputs before computing anything.
enum InputChecks {
  /// Throws unless the arrays, named in the message, have one value per cell each.
  static func sameCount(_ arrays: [(EvaluationError.Input, [Float])]) throws(EvaluationError) {
    let counts = arrays.map(\.1.count)
    guard Set(counts).count <= 1 else {
      let listed = arrays.map { "\($0.0.rawValue) \($0.1.count)" }.joined(separator: ", ")
      throw EvaluationError(
        nil, "the inputs differ in length (\(listed)); expected one value per cell in each")
    }
    guard let count = counts.first, count > 0 else {
      throw EvaluationError(nil, "no cells to evaluate")
    }
  }

  static func finite(_ values: [Float], _ input: EvaluationError.Input) throws(EvaluationError) {
    if let index = values.firstIndex(where: { !$0.isFinite }) {
      throw EvaluationError(
        input, "value \(values[index]) at index \(index); expected a finite number")
    }
  }

  /// Labels are presence (1) or absence (0); anything else is a mistake upstream, for
  /// example a density passed as labels.
  static func binary(_ labels: [Float]) throws(EvaluationError) {
    if let index = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
      throw EvaluationError(.labels, "value \(labels[index]) at index \(index); expected 0 or 1")
    }
  }
}
