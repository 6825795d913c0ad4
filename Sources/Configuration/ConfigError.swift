/// A config that cannot be used, located precisely enough to fix: the file and line (or
/// the `--set` argument) where the problem is, the key, and what was expected.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    case unreadable
    case syntax
    case unknownKey
    case duplicateKey
    case missingKey
    case wrongType
    case outOfRange
    case conflictingKeys
    case missingFile
    case invalidOverride
  }

  public let kind: Kind
  /// "configs/ensemble.yaml:12:5", or "--set training.batch_size=0" for an override.
  public let location: String
  /// Dotted key path, e.g. "training.batch_size"; empty for the whole document.
  public let key: String
  public let message: String

  public init(_ kind: Kind, location: String, key: String, message: String) {
    self.kind = kind
    self.location = location
    self.key = key
    self.message = message
  }

  public var description: String {
    key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
  }
}
