/// A rainfall-threshold failure a user can act on: bad input named by its file (and row or
/// field where there is one), or a step asked to do what it cannot.
public struct RainfallError: Error, CustomStringConvertible, Equatable {
  /// The file or step the error is about ("catalogue.csv", "events").
  public let subject: String
  public let message: String

  public init(_ subject: String, _ message: String) {
    self.subject = subject
    self.message = message
  }

  public var description: String { "\(subject): \(message)" }
}
