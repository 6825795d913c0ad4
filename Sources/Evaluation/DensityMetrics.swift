/// How well predicted landslide area density matches the observed one: mean absolute
/// error and Pearson's R, over all cells and over the cells where a landslide was
/// observed (density > 0): ~85 % of cells are zero, which flatters both figures.
public struct DensityMetrics: Equatable, Sendable {
  public let meanAbsoluteError: Double
  public let pearsonR: Double
  public let meanAbsoluteErrorPositive: Double
  public let pearsonRPositive: Double
  public let cells: Int
  /// Cells with observed density > 0.
  public let positiveCells: Int

  /// Throws when the lengths differ, there are no cells, a value is not finite, no cell
  /// has observed density > 0, or either density is constant over all or positive cells
  /// (R is then undefined).
  public init(observed: [Float], predicted: [Float]) throws(EvaluationError) {
    try InputChecks.sameCount([(.observedDensity, observed), (.predictedDensity, predicted)])
    try InputChecks.finite(observed, .observedDensity)
    try InputChecks.finite(predicted, .predictedDensity)
    let positive = observed.indices.filter { observed[$0] > 0 }
    guard !positive.isEmpty else {
      throw EvaluationError(
        .observedDensity,
        "no cell of \(observed.count) has density > 0; the positive-cell metrics are undefined")
    }
    let observedPositive = positive.map { observed[$0] }
    let predictedPositive = positive.map { predicted[$0] }
    meanAbsoluteError = Self.meanAbsoluteError(observed: observed, predicted: predicted)
    pearsonR = try Self.pearsonR(observed: observed, predicted: predicted, over: "all cells")
    meanAbsoluteErrorPositive = Self.meanAbsoluteError(
      observed: observedPositive, predicted: predictedPositive)
    pearsonRPositive = try Self.pearsonR(
      observed: observedPositive, predicted: predictedPositive, over: "the positive cells")
    cells = observed.count
    positiveCells = positive.count
  }

  /// The mean of |observed − predicted|, accumulated in Double; `observed` must not be
  /// empty.
  public static func meanAbsoluteError(observed: [Float], predicted: [Float]) -> Double {
    precondition(!observed.isEmpty && observed.count == predicted.count)
    let total = zip(observed, predicted).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
    return total / Double(observed.count)
  }

  /// Pearson's correlation, two-pass in Double and clamped to [−1, 1] against rounding.
  /// A constant array, which has no correlation, is an error naming `over` (the cells).
  public static func pearsonR(observed: [Float], predicted: [Float], over cells: String)
    throws(EvaluationError) -> Double
  {
    precondition(!observed.isEmpty && observed.count == predicted.count)
    // Tested on the values themselves: a mean of equal values need not equal them in
    // floating point, so a zero sum of squares would not reliably show it.
    for (input, values) in [
      (EvaluationError.Input.observedDensity, observed), (.predictedDensity, predicted),
    ]
    where values.allSatisfy({ $0 == values[0] }) {
      throw EvaluationError(
        input, "constant (\(values[0])) over \(cells) (\(values.count)); Pearson R is undefined")
    }
    let count = Double(observed.count)
    let meanObserved = observed.reduce(0.0) { $0 + Double($1) } / count
    let meanPredicted = predicted.reduce(0.0) { $0 + Double($1) } / count
    var products = 0.0
    var observedSquares = 0.0
    var predictedSquares = 0.0
    for (o, p) in zip(observed, predicted) {
      let dx = Double(o) - meanObserved
      let dy = Double(p) - meanPredicted
      products += dx * dy
      observedSquares += dx * dx
      predictedSquares += dy * dy
    }
    return min(
      1, max(-1, products / (observedSquares.squareRoot() * predictedSquares.squareRoot())))
  }
}
