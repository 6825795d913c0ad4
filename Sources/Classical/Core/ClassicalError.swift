/// A classical-model failure a user can act on: bad input (named by its file, and the
/// field where there is one) or a model asked to do what it cannot.
public struct ClassicalError: Error, CustomStringConvertible, Equatable {
  /// The file or model the error is about ("configs/classical.yaml", "random_forest").
  public let subject: String
  public let message: String

  public init(_ subject: String, _ message: String) {
    self.subject = subject
    self.message = message
  }

  public var description: String { "\(subject): \(message)" }
}
