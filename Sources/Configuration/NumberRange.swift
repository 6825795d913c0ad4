/// The values a numeric config key accepts, with a description for error messages.
struct NumberRange: Sendable {
  var lower: Double?
  var lowerInclusive = true
  var upper: Double?
  var upperInclusive = true

  static func atLeast(_ value: Double) -> NumberRange { NumberRange(lower: value) }
  static func greaterThan(_ value: Double) -> NumberRange {
    NumberRange(lower: value, lowerInclusive: false)
  }
  static func between(_ low: Double, _ high: Double) -> NumberRange {
    NumberRange(lower: low, upper: high)
  }
  /// 0 < value < 1: fractions of a split, probabilities of dropping.
  static let openUnitInterval = NumberRange(
    lower: 0, lowerInclusive: false, upper: 1, upperInclusive: false)
  /// 0 ≤ value < 1: dropout rates, decay factors that may be disabled.
  static let halfOpenUnitInterval = NumberRange(lower: 0, upper: 1, upperInclusive: false)

  func contains(_ value: Double) -> Bool {
    if let lower, lowerInclusive ? value < lower : value <= lower { return false }
    if let upper, upperInclusive ? value > upper : value >= upper { return false }
    return true
  }

  var description: String {
    switch (lower, upper) {
    case (let lower?, let upper?):
      return
        "\(lowerInclusive ? "≥" : ">") \(format(lower)) and \(upperInclusive ? "≤" : "<") \(format(upper))"
    case (let lower?, nil): return "\(lowerInclusive ? "≥" : ">") \(format(lower))"
    case (nil, let upper?): return "\(upperInclusive ? "≤" : "<") \(format(upper))"
    case (nil, nil): return "any value"
    }
  }

  private func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }
}
