/// A coding key made from any name: for JSON objects whose keys are data (a trial's
/// parameters, a model's figures) rather than a type's fields.
public struct NamedKey: CodingKey {
  public let stringValue: String
  public init(_ name: String) { stringValue = name }
  public init?(stringValue: String) { self.stringValue = stringValue }
  public var intValue: Int? { nil }
  public init?(intValue: Int) { nil }
}
