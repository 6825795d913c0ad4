import Foundation
import Yams

/// A whole run configuration: study area, data preparation, both networks and training.
/// Loaded from YAML, with `--set section.key=value` overrides validated exactly like the
/// file. Every key except `study_area` has the paper's value as its default.
public struct LandslideConfig: Equatable, Sendable {
  public var studyArea: StudyAreaConfig
  public var data = DataConfig()
  public var susceptibility = SusceptibilityConfig()
  public var density = DensityConfig()
  public var training = TrainingConfig()

  /// Reads, overrides and validates a config file.
  /// - Parameter overrides: `section.key=value` strings, applied in order.
  public static func load(file: String, overrides: [String] = []) throws(ConfigError)
    -> LandslideConfig
  {
    try parse(ConfigDocument.text(of: file), file: file, overrides: overrides)
  }

  /// Parses YAML text; `file` names it in errors and anchors relative paths.
  public static func parse(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> LandslideConfig
  {
    var document = try ConfigDocument.reader(text, file: file, overrides: overrides)
    guard document.contains("study_area") else {
      throw ConfigError(
        .missingKey, location: file, key: "study_area",
        message: "missing; expected a 'synthetic' or 'files' section")
    }
    let studyArea = try document.section("study_area", default: nil, StudyAreaConfig.read)!
    var config = LandslideConfig(studyArea: studyArea)
    config.data = try document.section("data", default: config.data, DataConfig.read)
    config.susceptibility = try document.section(
      "susceptibility", default: config.susceptibility, SusceptibilityConfig.read)
    config.density = try document.section("density", default: config.density, DensityConfig.read)
    config.training = try document.section(
      "training", default: config.training
    ) { section throws(ConfigError) in try TrainingConfig.read(&section) }
    try document.finish()
    return config
  }
}

extension ConfigError {
  /// A YAML parse failure, located at the line and column the parser reports.
  init(yaml error: any Error, file: String) {
    switch error as? YamlError {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { "\($0.text), \(problem)" } ?? problem
      self.init(.syntax, location: "\(file):\(mark)", key: "", message: "invalid YAML: \(detail)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
      self.init(
        .duplicateKey, location: "\(file):\(context.mark)", key: "",
        message: "the section starting here has duplicate keys: \(keys)")
    default:
      self.init(.syntax, location: file, key: "", message: "invalid YAML: \(error)")
    }
  }
}
