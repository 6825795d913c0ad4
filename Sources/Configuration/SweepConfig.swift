import Foundation
import Yams

/// A hyperparameter sweep: the run config every trial starts from, the search space over
/// its keys, how trials are chosen and ranked, and how the job's ranks share them.
///
///     base: tiny.yaml                 # relative to this file
///     set: {density.joint_epochs: 0}  # applied to every trial
///     method: grid                    # or random (with trials: N)
///     groups: 2                       # default: one group per rank
///     metric: validation_auc          # or validation_loss, of `stage`
///     successive_halving: {min_epochs: 1, reduction_factor: 3}
///     space:
///       training.learning_rate: {min: 1.0e-4, max: 1.0, log: true, count: 5}
///       training.batch_size: [8, 16, 32, 64]
///       susceptibility.blocks_total: [6, 16, 64]
///
/// A classical sweep (`system: classical`, `base` a classical config) searches one
/// configured model, ranked by its mean cross-validated AUC on an inventory's training
/// table:
///
///     system: classical
///     base: classical.yaml
///     model: random_forest
///     folds: 5
///     space:
///       models.random_forest.trees: [100, 300]
///       models.random_forest.max_features: [sqrt, log2, all]
public struct SweepConfig: Equatable, Sendable {
  /// What each trial trains.
  public enum System: String, CaseIterable, Sendable {
    /// The hazard ensemble of `landslide train` (SPEC.md §1): `base` is its run config.
    case ensemble
    /// One classical model of `landslide classical train` (SPEC.md §3), scored by
    /// stratified K-fold cross-validation on an inventory's training table: `base` is a
    /// classical config.
    case classical
  }

  public enum Method: String, CaseIterable, Sendable {
    /// Every combination of the listed values, the last key varying fastest.
    case grid
    /// `trials` draws from the space with the sweep's seed.
    case random
  }

  /// What ranks trials: the best value over the epochs of `stage`.
  public enum Metric: String, CaseIterable, Sendable {
    case validationLoss = "validation_loss"
    case validationAUC = "validation_auc"

    /// AUC is better high, a loss low.
    public var higherIsBetter: Bool { self == .validationAUC }
  }

  /// Asynchronous successive halving: at epochs min_epochs · reduction_factor^k of the
  /// metric's stage a trial goes on only while it ranks in the top 1/reduction_factor
  /// (at least the first place) of the trials that reached that epoch, itself included.
  public struct SuccessiveHalving: Equatable, Sendable {
    public var minEpochs = 1
    public var reductionFactor = 3

    public init(minEpochs: Int = 1, reductionFactor: Int = 3) {
      self.minEpochs = minEpochs
      self.reductionFactor = reductionFactor
    }
  }

  /// The sweep file, as given (errors name it).
  public let file: String
  public var system = System.ensemble
  /// The run config every trial starts from (resolved against the sweep file's folder).
  public var base: String
  /// `section.key=value` overrides applied to every trial, before the trial's own.
  public var baseOverrides: [String] = []
  public var method = Method.grid
  /// Number of random draws (random search only).
  public var trials: Int?
  public var seed = 1
  /// Groups of ranks training trials side by side; nil: one group per rank.
  public var groups: Int?
  public var metric = Metric.validationLoss
  /// The training stage whose epochs the metric and successive halving follow.
  public var stage = "susceptibility"
  public var halving: SuccessiveHalving?
  /// Runs of the sweep in which a trial may take its process down (a crash, an
  /// out-of-memory kill) before it is recorded as failed rather than resumed again.
  public var maxCrashes = 2
  /// The searched keys, in the file's order.
  public var space: [SweepParameter] = []
  /// Classical sweeps: the configured model whose hyperparameters are searched, the
  /// inventory whose training table scores it (nil: the study's first) and the number of
  /// cross-validation folds.
  public var model: String?
  public var inventory: String?
  public var folds = 5

  /// Stage names of `landslide train`, in order (see `TrainingStage`).
  public static let stages = [
    "susceptibility", "density_log", "density_positive", "density_all", "joint",
  ]

  /// Reads and validates a sweep file (each trial's run config is checked when the
  /// trials are made, against `base`).
  public static func load(file: String) throws(ConfigError) -> SweepConfig {
    try parse(ConfigDocument.text(of: file, what: "sweep"), file: file)
  }

  public static func parse(_ text: String, file: String) throws(ConfigError) -> SweepConfig {
    var document = try ConfigDocument.reader(text, file: file)
    guard let base = try document.string("base") else {
      throw ConfigError(
        .missingKey, location: file, key: "base",
        message: "missing; expected the run config each trial starts from, e.g. tiny.yaml")
    }
    let folder = (file as NSString).deletingLastPathComponent
    var config = SweepConfig(
      file: file,
      base: base.hasPrefix("/") ? base : (folder as NSString).appendingPathComponent(base))
    guard FileManager.default.fileExists(atPath: config.base) else {
      throw document.error(
        .missingFile, "base", at: document.peek("base"),
        "no run config at \(config.base)")
    }
    if var overrides = try document.section("set") {
      for (key, value) in overrides.takeAll() {
        config.baseOverrides.append(
          "\(key)=\(try SweepValue(value, reader: overrides, key: key).yaml)")
      }
    }
    config.system = try document.choice("system", default: config.system)
    let classical = config.system == .classical
    if classical {
      config.metric = .validationAUC
      guard let model = try document.string("model") else {
        throw ConfigError(
          .missingKey, location: file, key: "model",
          message: "missing; a classical sweep searches one configured model, e.g. random_forest")
      }
      config.model = model
      config.inventory = try document.string("inventory")
      config.folds = try document.int("folds", default: config.folds, range: 2...100)
      for key in ["stage", "successive_halving"] where document.contains(key) {
        throw document.error(
          .conflictingKeys, key, at: document.peek(key),
          "applies to ensemble sweeps; a classical trial fits its model once per fold")
      }
    } else {
      for key in ["model", "inventory", "folds"] where document.contains(key) {
        throw document.error(
          .conflictingKeys, key, at: document.peek(key), "applies to system: classical only")
      }
    }
    config.method = try document.choice("method", default: config.method)
    config.trials = try document.int("trials", range: 1...1_000_000)
    config.seed = try document.int("seed", default: config.seed, range: 0...Int(Int32.max))
    config.groups = try document.int("groups", range: 1...1_000_000)
    config.maxCrashes = try document.int("max_crashes", default: config.maxCrashes, range: 1...100)
    let metricNode = document.peek("metric")
    config.metric = try document.choice("metric", default: config.metric)
    if classical, config.metric != .validationAUC {
      throw document.error(
        .conflictingKeys, "metric", at: metricNode,
        "a classical sweep ranks trials by validation_auc, their mean cross-validated AUC")
    }
    let stageNode = document.peek("stage")
    if let stage = try document.string("stage") {
      guard stages.contains(stage) else {
        throw document.error(
          .wrongType, "stage", at: stageNode,
          "expected one of \(stages.joined(separator: ", ")), found '\(stage)'")
      }
      config.stage = stage
    }
    if config.metric == .validationAUC, config.stage != "susceptibility" {
      throw document.error(
        .conflictingKeys, "metric", at: stageNode,
        "validation_auc exists for the susceptibility stage only; use validation_loss for "
          + config.stage)
    }
    config.halving = try document.section("successive_halving", default: nil) {
      (section: inout MappingReader) throws(ConfigError) in
      var halving = SuccessiveHalving()
      halving.minEpochs = try section.int(
        "min_epochs", default: halving.minEpochs, range: 1...100_000)
      halving.reductionFactor = try section.int(
        "reduction_factor", default: halving.reductionFactor, range: 2...1000)
      return halving
    }
    let spaceNode = document.peek("space")
    guard var space = try document.section("space") else {
      throw ConfigError(
        .missingKey, location: file, key: "space",
        message:
          "missing; expected the searched keys, e.g. training.learning_rate: [1.0e-3, 1.0e-2]")
    }
    for (key, value) in space.takeAll() {
      config.space.append(
        try SweepParameter(key: key, node: value, reader: space, system: config.system))
    }
    guard !config.space.isEmpty else {
      throw document.error(
        .outOfRange, "space", at: spaceNode, "the search space is empty; name at least one key"
      )
    }
    try document.finish()
    switch config.method {
    case .random:
      guard config.trials != nil else {
        throw ConfigError(
          .missingKey, location: file, key: "trials",
          message: "random search needs the number of trials to draw")
      }
    case .grid:
      if config.trials != nil {
        throw ConfigError(
          .conflictingKeys, location: file, key: "trials",
          message: "applies to random search; a grid has one trial per combination")
      }
      if let continuous = config.space.first(where: { !$0.domain.isFinite }) {
        throw ConfigError(
          .conflictingKeys, location: file, key: "space.\(continuous.key)",
          message: "a grid needs finite values: give the range a count, or list the values")
      }
    }
    return config
  }
}

/// One searched key and the values it may take.
public struct SweepParameter: Equatable, Sendable {
  /// A run-config key path, e.g. training.learning_rate, or susceptibility.blocks_total.
  public let key: String
  public let domain: Domain

  public enum Domain: Equatable, Sendable {
    case values([SweepValue])
    /// From `min` to `max`; `count` evenly spaced values (on a log scale when `log`) or,
    /// without a count, any value in between (random search).
    case range(min: Double, max: Double, log: Bool, integer: Bool, count: Int?)

    var isFinite: Bool {
      if case .range(_, _, _, _, nil) = self { return false }
      return true
    }
  }

  /// Searched total block count, shared out over the four ResNet stages (see
  /// `SweepParameter.blocksPerStage`).
  public static let blocksTotal = "susceptibility.blocks_total"

  init(key: String, node: Node, reader: MappingReader, system: SweepConfig.System)
    throws(ConfigError)
  {
    let path = reader.path(key)
    let error = { (kind: ConfigError.Kind, at: Node?, message: String) in
      reader.error(kind, key, at: at, message)
    }
    let section = key.split(separator: ".").first.map(String.init) ?? ""
    guard key.contains(".") else {
      throw error(
        .wrongType, nil, "expected a dotted run-config key such as training.learning_rate")
    }
    let shared = system == .ensemble ? ["study_area", "data"] : ["study", "tables"]
    guard !shared.contains(section) else {
      throw error(
        .conflictingKeys, nil,
        system == .ensemble
          ? "trials share one prepared study area; sweep model and training keys, or run one sweep per study"
          : "trials share one study and its tables; sweep models, encoding and training keys, or run one sweep per table"
      )
    }
    self.key = key
    switch node {
    case .sequence(let items):
      guard !items.isEmpty else { throw error(.outOfRange, node, "expected at least one value") }
      var values: [SweepValue] = []
      for item in items { values.append(try SweepValue(item, reader: reader, key: key)) }
      domain = .values(values)
    case .mapping:
      var range = try MappingReader(node, keyPath: path, source: reader.source)
      let min = try range.double("min", default: .nan, range: NumberRange())
      let max = try range.double("max", default: .nan, range: NumberRange())
      let log = try range.bool("log", default: false)
      let integer = try range.bool("integer", default: key == Self.blocksTotal)
      let count = try range.int("count", range: 1...100_000)
      try range.finish()
      guard !min.isNaN, !max.isNaN, min <= max else {
        throw error(
          .outOfRange, node, "expected a range with min ≤ max, e.g. {min: 1.0e-4, max: 1.0}")
      }
      guard !log || min > 0 else {
        throw error(.outOfRange, node, "a log range needs min > 0, found \(min)")
      }
      domain = .range(min: min, max: max, log: log, integer: integer, count: count)
    case .scalar, .alias:
      throw error(
        .wrongType, node,
        "expected a list of values or a range {min, max, log, integer, count}, found \(node.shown)")
    }
    if key == Self.blocksTotal {
      let wholeAtLeastFour: Bool
      switch domain {
      case .values(let values):
        wholeAtLeastFour = values.allSatisfy { value in
          if case .integer(let total) = value { return total >= 4 }
          return false
        }
      case .range(let min, _, _, let integer, _):
        wholeAtLeastFour = integer && min >= 4
      }
      guard wholeAtLeastFour else {
        throw error(
          .outOfRange, node, "expected whole block counts of at least 4 (one per stage)")
      }
    }
  }

  /// The domain's values when it has finitely many.
  func finiteValues(of domain: Domain) -> [SweepValue]? {
    switch domain {
    case .values(let values): return values
    case .range(_, _, _, _, nil): return nil
    case .range(let min, let max, let log, let integer, let count?):
      return (0..<count).map { index in
        let fraction = count == 1 ? 0 : Double(index) / Double(count - 1)
        return SweepParameter.value(at: fraction, min: min, max: max, log: log, integer: integer)
      }
    }
  }

  /// The point `fraction` of the way from `min` to `max` (geometrically when `log`),
  /// rounded to 12 significant digits so that a log grid from 1e-4 lists 0.001, not
  /// 0.0010000000000000002.
  public static func value(at fraction: Double, min: Double, max: Double, log: Bool, integer: Bool)
    -> SweepValue
  {
    let exact =
      log
      ? Foundation.pow(10, log10(min) + fraction * (log10(max) - log10(min)))
      : min + fraction * (max - min)
    if integer { return .integer(Int(exact.rounded())) }
    return .number(Double(String(format: "%.12g", exact)) ?? exact)
  }

  /// The values every trial may draw from, when finite.
  public var values: [SweepValue]? { finiteValues(of: domain) }

  /// A total of `total` blocks over the four ResNet stages in ResNet-34's proportions
  /// 3 : 4 : 6 : 3 (largest remainders, at least one per stage): 16 → [3, 4, 6, 3],
  /// 6 → [1, 2, 2, 1], 64 → [12, 16, 24, 12].
  public static func blocksPerStage(total: Int) -> [Int] {
    let weights = [3.0, 4.0, 6.0, 3.0]
    let shares = weights.map { Double(total - 4) * $0 / 16 }
    var blocks = shares.map { 1 + Int($0) }
    let fractions = shares.map { $0 - $0.rounded(.down) }
    let order = shares.indices.sorted { fractions[$0] > fractions[$1] }
    for index in order.prefix(total - blocks.reduce(0, +)) { blocks[index] += 1 }
    return blocks
  }
}

/// One value of a searched key: rendered as YAML into a `--set` override.
public enum SweepValue: Equatable, Sendable, CustomStringConvertible {
  case integer(Int)
  case number(Double)
  case text(String)
  case list([SweepValue])

  init(_ node: Node, reader: MappingReader, key: String) throws(ConfigError) {
    switch node {
    case .scalar(let scalar):
      if let integer = node.int {
        self = .integer(integer)
      } else if let number = node.float, number.isFinite {
        self = .number(number)
      } else {
        self = .text(scalar.string)
      }
    case .sequence(let items):
      var values: [SweepValue] = []
      for item in items { values.append(try SweepValue(item, reader: reader, key: key)) }
      self = .list(values)
    case .mapping, .alias:
      throw reader.error(
        .wrongType, key, at: node, "expected a value or a list of values, found \(node.shown)")
    }
  }

  /// YAML flow text: `0.001`, `[1, 1, 1, 1]`, `focal_tversky`.
  public var yaml: String {
    switch self {
    case .integer(let value): return String(value)
    case .number(let value):
      // YAML 1.1 needs a dot or an exponent with a sign to read a float.
      let text = "\(value)"
      return text.contains("e") && !text.contains("e-") && !text.contains("e+")
        ? text.replacingOccurrences(of: "e", with: "e+") : text
    case .text(let value): return value
    case .list(let values): return "[" + values.map(\.yaml).joined(separator: ", ") + "]"
    }
  }

  public var description: String { yaml }
}

extension SweepValue: Encodable {
  /// JSON numbers, strings and arrays, so that results.jsonl loads into typed columns.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .integer(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .text(let value): try container.encode(value)
    case .list(let values): try container.encode(values)
    }
  }
}
