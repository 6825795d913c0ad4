import Yams

/// Reads one YAML mapping (a config section) into typed values. Each accessor consumes a
/// key, applies its default when the key is absent and checks type and range; `finish()`
/// then rejects every key that no accessor asked for, so a typo never passes silently.
struct MappingReader {
  let source: ConfigSource
  /// Dotted path of this section; empty for the document root.
  let keyPath: String
  let node: Node
  private let entries: [String: (key: Node, value: Node)]
  private var consumed: Set<String> = []

  init(_ node: Node, keyPath: String, source: ConfigSource) throws(ConfigError) {
    guard case .mapping(let mapping) = node else {
      throw source.error(
        .wrongType, at: node, key: keyPath, "expected a section of keys, found \(node.shown)")
    }
    var entries: [String: (key: Node, value: Node)] = [:]
    for (key, value) in mapping {
      guard case .scalar(let scalar) = key else {
        throw source.error(.wrongType, at: key, key: keyPath, "keys must be plain names")
      }
      // Yams rejects duplicate keys while composing, so each name appears once.
      entries[scalar.string] = (key, value)
    }
    self.source = source
    self.keyPath = keyPath
    self.node = node
    self.entries = entries
  }

  static func join(_ parent: String, _ key: String) -> String {
    parent.isEmpty ? key : "\(parent).\(key)"
  }

  func path(_ key: String) -> String { MappingReader.join(keyPath, key) }

  /// The raw node under `key`, marked as consumed; nil when absent.
  mutating func take(_ key: String) -> Node? {
    consumed.insert(key)
    return entries[key]?.value
  }

  func contains(_ key: String) -> Bool { entries[key] != nil }

  /// Every entry in the document's order, all marked as consumed: for sections whose keys
  /// are data (a sweep's searched keys), not names known in advance.
  mutating func takeAll() -> [(key: String, value: Node)] {
    guard case .mapping(let mapping) = node else { return [] }
    return mapping.compactMap { key, value in
      guard case .scalar(let scalar) = key else { return nil }
      consumed.insert(scalar.string)
      return (scalar.string, value)
    }
  }

  /// The node under `key` without consuming it (for error locations).
  func peek(_ key: String) -> Node? { entries[key]?.value }

  func error(_ kind: ConfigError.Kind, _ key: String, at node: Node?, _ message: String)
    -> ConfigError
  {
    source.error(kind, at: node, key: path(key), message)
  }

  // MARK: Typed accessors

  mutating func section(_ key: String) throws(ConfigError) -> MappingReader? {
    guard let node = take(key) else { return nil }
    return try MappingReader(node, keyPath: path(key), source: source)
  }

  /// Reads the section under `key` with `read`, then rejects its unknown keys; `value`
  /// when the section is absent.
  mutating func section<Value>(
    _ key: String, default value: Value,
    _ read: (inout MappingReader) throws(ConfigError) -> Value
  ) throws(ConfigError) -> Value {
    guard var section = try section(key) else { return value }
    let result = try read(&section)
    try section.finish()
    return result
  }

  /// A study section: exactly one of `synthetic` (an empty value keeps `synthetic`'s
  /// defaults) or `files`, each read by its reader.
  mutating func syntheticOrFiles<Synthetic, Files>(
    _ synthetic: Synthetic, _ readSynthetic: (inout MappingReader) throws(ConfigError) -> Synthetic,
    _ readFiles: (inout MappingReader) throws(ConfigError) -> Files
  ) throws(ConfigError) -> StudySource<Synthetic, Files> {
    let (hasSynthetic, hasFiles) = (contains("synthetic"), contains("files"))
    guard hasSynthetic != hasFiles else {
      throw source.error(
        hasSynthetic ? .conflictingKeys : .missingKey, at: node, key: keyPath,
        "expected exactly one of 'synthetic' or 'files'")
    }
    if hasSynthetic {
      return .synthetic(try section("synthetic", default: synthetic, readSynthetic))
    }
    return .files(
      try section(
        "files", default: nil, { (reader) throws(ConfigError) in try readFiles(&reader) })!)
  }

  mutating func int(_ key: String, default value: Int, range: ClosedRange<Int>)
    throws(ConfigError) -> Int
  {
    guard let node = take(key) else { return value }
    return try integer(node, key: key, range: range)
  }

  /// An integer that may be absent (nil), for keys whose absence means something.
  mutating func int(_ key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
    guard let node = take(key) else { return nil }
    return try integer(node, key: key, range: range)
  }

  mutating func double(_ key: String, default value: Double, range: NumberRange)
    throws(ConfigError) -> Double
  {
    guard let node = take(key) else { return value }
    return try number(node, key: key, range: range)
  }

  mutating func bool(_ key: String, default value: Bool) throws(ConfigError) -> Bool {
    guard let node = take(key) else { return value }
    guard case .scalar = node, let bool = node.bool else {
      throw error(.wrongType, key, at: node, "expected true or false, found \(node.shown)")
    }
    return bool
  }

  mutating func choice<Choice: RawRepresentable & CaseIterable>(
    _ key: String, default value: Choice
  ) throws(ConfigError) -> Choice where Choice.RawValue == String {
    guard let node = take(key) else { return value }
    let names = Choice.allCases.map(\.rawValue)
    guard case .scalar(let scalar) = node, let choice = Choice(rawValue: scalar.string) else {
      throw error(
        .wrongType, key, at: node,
        "expected one of \(names.joined(separator: ", ")), found \(node.shown)")
    }
    return choice
  }

  mutating func string(_ key: String) throws(ConfigError) -> String? {
    guard let node = take(key) else { return nil }
    guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
      throw error(.wrongType, key, at: node, "expected text, found \(node.shown)")
    }
    return scalar.string
  }

  mutating func intList(
    _ key: String, default value: [Int], count: ClosedRange<Int>, range: ClosedRange<Int>
  ) throws(ConfigError) -> [Int] {
    guard let node = take(key) else { return value }
    let items = try list(node, key: key, count: count, what: "integers")
    var result: [Int] = []
    for item in items { result.append(try integer(item, key: key, range: range)) }
    return result
  }

  mutating func doubleList(_ key: String, count: ClosedRange<Int>, range: NumberRange)
    throws(ConfigError) -> [Double]?
  {
    guard let node = take(key) else { return nil }
    var result: [Double] = []
    for item in try list(node, key: key, count: count, what: "numbers") {
      result.append(try number(item, key: key, range: range))
    }
    return result
  }

  mutating func stringList(_ key: String, count: ClosedRange<Int>) throws(ConfigError) -> [String]?
  {
    guard let node = take(key) else { return nil }
    var result: [String] = []
    for item in try list(node, key: key, count: count, what: "names") {
      guard case .scalar(let scalar) = item, !scalar.string.isEmpty else {
        throw error(.wrongType, key, at: item, "expected text, found \(item.shown)")
      }
      result.append(scalar.string)
    }
    return result
  }

  /// Rejects keys that no accessor consumed, suggesting the closest known key.
  func finish() throws(ConfigError) {
    let known = consumed.sorted()
    for (name, entry) in entries.sorted(by: { $0.key < $1.key }) where !consumed.contains(name) {
      var message = "unknown key; expected one of: \(known.joined(separator: ", "))"
      if let suggestion = known.min(by: { editDistance($0, name) < editDistance($1, name) }),
        editDistance(suggestion, name) <= 2
      {
        message =
          "unknown key (did you mean '\(suggestion)'?); expected one of: "
          + known.joined(separator: ", ")
      }
      throw error(.unknownKey, name, at: entry.key, message)
    }
  }

  // MARK: Scalars

  private func integer(_ node: Node, key: String, range: ClosedRange<Int>) throws(ConfigError)
    -> Int
  {
    guard case .scalar = node, let value = node.int else {
      throw error(
        .wrongType, key, at: node,
        "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(node.shown)")
    }
    guard range.contains(value) else {
      throw error(
        .outOfRange, key, at: node,
        "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(value)")
    }
    return value
  }

  private func number(_ node: Node, key: String, range: NumberRange) throws(ConfigError)
    -> Double
  {
    guard case .scalar = node, let value = node.float, value.isFinite else {
      throw error(
        .wrongType, key, at: node, "expected a number \(range.description), found \(node.shown)")
    }
    guard range.contains(value) else {
      throw error(
        .outOfRange, key, at: node, "expected a number \(range.description), found \(node.shown)")
    }
    return value
  }

  private func list(_ node: Node, key: String, count: ClosedRange<Int>, what: String)
    throws(ConfigError) -> [Node]
  {
    guard case .sequence(let sequence) = node else {
      throw error(.wrongType, key, at: node, "expected a list of \(what), found \(node.shown)")
    }
    guard count.contains(sequence.count) else {
      let expected =
        count.lowerBound == count.upperBound
        ? "exactly \(count.lowerBound)" : "\(count.lowerBound) to \(count.upperBound)"
      throw error(
        .outOfRange, key, at: node, "expected \(expected) \(what), found \(sequence.count)")
    }
    return Array(sequence)
  }
}

extension Node {
  /// "a section", "a list", or the scalar's text quoted, for error messages.
  var shown: String {
    switch self {
    case .mapping: return "a section"
    case .sequence: return "a list"
    case .scalar(let scalar): return scalar.string.isEmpty ? "nothing" : "'\(scalar.string)'"
    case .alias: return "an alias"
    }
  }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  guard !a.isEmpty else { return b.count }
  guard !b.isEmpty else { return a.count }
  var previous = Array(0...b.count)
  for i in 1...a.count {
    var current = [i] + Array(repeating: 0, count: b.count)
    for j in 1...b.count {
      let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
      current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, substitution)
    }
    previous = current
  }
  return previous[b.count]
}

/// What a study section names: a synthetic area's settings or the user's files.
enum StudySource<Synthetic, Files> {
  case synthetic(Synthetic)
  case files(Files)
}
