import Yams

/// One `--set section.key=value` argument: a dotted key path and a YAML value.
struct Override {
  let argument: String
  let path: [String]
  let value: Node

  init(_ argument: String) throws(ConfigError) {
    let invalid = { (message: String) in
      ConfigError(.invalidOverride, location: "--set \(argument)", key: "", message: message)
    }
    guard let equals = argument.firstIndex(of: "=") else {
      throw invalid("expected section.key=value")
    }
    let keyPath = String(argument[..<equals])
    let path = keyPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard !keyPath.isEmpty, path.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
      throw invalid("expected section.key=value with a dotted key path, found '\(keyPath)'")
    }
    let text = String(argument[argument.index(after: equals)...])
    let value: Node?
    do {
      value = try Yams.compose(yaml: text)
    } catch {
      throw invalid("the value '\(text)' is not valid YAML: \(error)")
    }
    self.argument = argument
    self.path = path
    self.value = value ?? Node("", Tag(.null))
  }

  var keyPath: String { path.joined(separator: ".") }

  /// Sets the value inside `root`, creating missing sections on the way.
  func apply(to root: inout Node) throws(ConfigError) {
    try Override.set(value, at: path[...], in: &root, argument: argument)
  }

  private static func set(
    _ value: Node, at path: ArraySlice<String>, in node: inout Node, argument: String
  ) throws(ConfigError) {
    guard case .mapping(var mapping) = node else {
      throw ConfigError(
        .invalidOverride, location: "--set \(argument)", key: "",
        message: "cannot set a key inside a value that is not a section")
    }
    let key = path.first!
    if path.count == 1 {
      mapping[key] = value
    } else {
      var child = mapping[key] ?? Node([(Node, Node)]())
      try set(value, at: path.dropFirst(), in: &child, argument: argument)
      mapping[key] = child
    }
    node = .mapping(mapping)
  }
}
