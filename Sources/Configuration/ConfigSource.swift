import Yams

/// Where a config's values came from: the file, and the `--set` overrides applied on top.
/// Errors use it to point at the line of the file or at the override that holds a key.
struct ConfigSource {
  let file: String
  /// Key path → the `--set` argument that set it.
  var overrides: [String: String] = [:]

  /// The override that supplied `keyPath` or one of its parent sections, if any.
  func override(covering keyPath: String) -> String? {
    var path = Substring(keyPath)
    while true {
      if let argument = overrides[String(path)] { return argument }
      guard let dot = path.lastIndex(of: ".") else { return nil }
      path = path[..<dot]
    }
  }

  func location(of node: Node?, keyPath: String) -> String {
    if let argument = override(covering: keyPath) { return "--set \(argument)" }
    guard let mark = node?.mark else {
      // Sections and keys an override created have no place in the file.
      let created = overrides.keys.sorted().first { $0.hasPrefix(keyPath + ".") }
      return created.map { "--set \(overrides[$0]!)" } ?? file
    }
    return "\(file):\(mark.line):\(mark.column)"
  }

  func error(_ kind: ConfigError.Kind, at node: Node?, key: String, _ message: String)
    -> ConfigError
  {
    ConfigError(kind, location: location(of: node, keyPath: key), key: key, message: message)
  }
}
