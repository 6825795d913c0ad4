/// Why a set of predictions cannot be evaluated. Metrics are never NaN: whatever would
/// make one undefined (one class only, a constant density, a NaN score) is this error.
public struct EvaluationError: Error, Equatable, CustomStringConvertible {
  /// The array at fault, so that a caller can name the file it came from.
  public enum Input: String, Sendable {
    case labels
    case scores
    case observedDensity = "observed density"
    case predictedDensity = "predicted density"
  }

  public let input: Input?
  public let message: String

  public init(_ input: Input?, _ message: String) {
    self.input = input
    self.message = message
  }

  public var description: String { input.map { "\($0.rawValue): \(message)" } ?? message }
}
