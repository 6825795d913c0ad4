import Foundation
import Yams

/// The first steps every config file shares (run, waveform and sweep configs): reading the
/// file, composing its YAML, applying `--set` overrides, and handing back a reader of the
/// top-level section that remembers where each value came from.
enum ConfigDocument {
  /// The text of `file`; `what` names the kind of file in the error ("config", "sweep").
  static func text(of file: String, what: String = "config") throws(ConfigError) -> String {
    do {
      return try String(contentsOfFile: file, encoding: .utf8)
    } catch {
      throw ConfigError(
        .unreadable, location: file, key: "",
        message: "cannot read the \(what) file (\(error.localizedDescription))")
    }
  }

  /// The top-level section of `text` with `overrides` applied in order; an empty document
  /// is an empty section.
  static func reader(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> MappingReader
  {
    var source = ConfigSource(file: file)
    var root: Node
    do {
      root = try Yams.compose(yaml: text) ?? Node([(Node, Node)]())
    } catch {
      throw ConfigError(yaml: error, file: file)
    }
    if case .scalar(let scalar) = root, scalar.string.isEmpty { root = Node([(Node, Node)]()) }
    for argument in overrides {
      let override = try Override(argument)
      try override.apply(to: &root)
      source.overrides[override.keyPath] = argument
    }
    return try MappingReader(root, keyPath: "", source: source)
  }
}
