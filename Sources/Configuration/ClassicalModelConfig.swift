import Yams

/// One configured classical model and its hyperparameters, named as in scikit-learn. The
/// paper fixes only KNN (k = 100, Minkowski); the rest are scikit-learn's defaults, except
/// where noted.
public enum ClassicalModelConfig: Equatable, Sendable {
  case logisticRegression(LogisticRegressionConfig)
  case decisionTree(DecisionTreeConfig)
  case randomForest(RandomForestConfig)
  case knn(NeighboursConfig)
  /// `ann` (one hidden layer) and `mlp` (two or more).
  case network(name: String, NetworkConfig)
  case bagging(BaggingConfig)
  case stacking(StackingConfig)

  /// The model's key in the config, its name in tables and files.
  public var name: String {
    switch self {
    case .logisticRegression: "logistic_regression"
    case .decisionTree: "decision_tree"
    case .randomForest: "random_forest"
    case .knn: "knn"
    case .network(let name, _): name
    case .bagging: "bagging"
    case .stacking: "stacking"
    }
  }

  /// The models the seed compares, in its Table 3 order.
  public static let names = [
    "logistic_regression", "decision_tree", "knn", "ann", "mlp", "random_forest", "bagging",
    "stacking",
  ]

  public static let allDefaults: [ClassicalModelConfig] = names.map { defaults(for: $0)! }

  /// The model called `name` with its default hyperparameters; nil for an unknown name.
  public static func defaults(for name: String) -> ClassicalModelConfig? {
    switch name {
    case "logistic_regression": .logisticRegression(LogisticRegressionConfig())
    case "decision_tree": .decisionTree(DecisionTreeConfig())
    case "random_forest": .randomForest(RandomForestConfig())
    case "knn": .knn(NeighboursConfig())
    case "ann": .network(name: "ann", NetworkConfig(hidden: [32]))
    case "mlp": .network(name: "mlp", NetworkConfig(hidden: [64, 32]))
    case "bagging": .bagging(BaggingConfig())
    case "stacking": .stacking(StackingConfig())
    default: nil
    }
  }

  /// The `models` section: model names as keys, each with its hyperparameters (an empty
  /// value keeps the defaults).
  static func readAll(_ node: Node, keyPath: String, source: ConfigSource) throws(ConfigError)
    -> [ClassicalModelConfig]
  {
    var section = try MappingReader(node, keyPath: keyPath, source: source)
    var models: [ClassicalModelConfig] = []
    for (name, value) in section.takeAll() {
      guard let defaults = defaults(for: name) else {
        throw source.error(
          .unknownKey, at: value, key: MappingReader.join(keyPath, name),
          "unknown model; expected some of \(names.joined(separator: ", "))")
      }
      if case .scalar(let scalar) = value, scalar.string.isEmpty || scalar.string == "~" {
        models.append(defaults)
        continue
      }
      var reader = try MappingReader(
        value, keyPath: MappingReader.join(keyPath, name), source: source)
      models.append(try defaults.read(&reader))
      try reader.finish()
    }
    guard !models.isEmpty else {
      throw source.error(.missingKey, at: node, key: keyPath, "no model given")
    }
    for case .bagging(let bagging) in models where defaults(for: bagging.base) == nil {
      throw source.error(
        .wrongType, at: node, key: keyPath + ".bagging.base",
        "unknown base model '\(bagging.base)'")
    }
    for case .stacking(let stacking) in models {
      if let unknown = stacking.base.first(where: {
        defaults(for: $0) == nil || $0 == "stacking" || $0 == "bagging"
      }) {
        throw source.error(
          .wrongType, at: node, key: keyPath + ".stacking.base",
          "'\(unknown)' cannot be a base model; expected some of "
            + names.filter { $0 != "stacking" && $0 != "bagging" }.joined(separator: ", "))
      }
    }
    return models
  }

  private func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalModelConfig {
    switch self {
    case .logisticRegression(var c):
      c.penalty = try section.choice("penalty", default: c.penalty)
      c.c = try section.double("c", default: c.c, range: .greaterThan(0))
      c.l1Ratio = try section.double("l1_ratio", default: c.l1Ratio, range: .between(0, 1))
      c.maxIterations = try section.int(
        "max_iterations", default: c.maxIterations, range: 1...1_000_000)
      return .logisticRegression(c)
    case .decisionTree(var c):
      try c.read(&section)
      return .decisionTree(c)
    case .randomForest(var c):
      c.trees = try section.int("trees", default: c.trees, range: 1...100_000)
      c.maxFeatures = try section.choice("max_features", default: c.maxFeatures)
      c.bootstrap = try section.bool("bootstrap", default: c.bootstrap)
      try c.tree.read(&section)
      return .randomForest(c)
    case .knn(var c):
      c.neighbours = try section.int("neighbours", default: c.neighbours, range: 1...100_000)
      c.p = try section.int("p", default: c.p, range: 1...2)
      c.weights = try section.choice("weights", default: c.weights)
      return .knn(c)
    case .network(let name, var c):
      let minimum = name == "ann" ? 1 : 2
      c.hidden = try section.intList(
        "hidden", default: c.hidden, count: minimum...(name == "ann" ? 1 : 16), range: 1...65_536)
      c.activation = try section.choice("activation", default: c.activation)
      return .network(name: name, c)
    case .bagging(var c):
      c.base = try section.string("base") ?? c.base
      c.estimators = try section.int("estimators", default: c.estimators, range: 1...10_000)
      c.maxSamples = try section.double(
        "max_samples", default: c.maxSamples,
        range: NumberRange(lower: 0, lowerInclusive: false, upper: 1))
      return .bagging(c)
    case .stacking(var c):
      c.base = try section.stringList("base", count: 1...16) ?? c.base
      c.folds = try section.int("folds", default: c.folds, range: 2...100)
      return .stacking(c)
    }
  }
}

public struct LogisticRegressionConfig: Equatable, Sendable {
  public enum Penalty: String, CaseIterable, Sendable { case none, l1, l2, elasticnet }
  public var penalty = Penalty.l2
  /// Inverse regularisation strength (scikit-learn's C).
  public var c = 1.0
  public var l1Ratio = 0.5
  public var maxIterations = 100
}

public struct DecisionTreeConfig: Equatable, Sendable {
  /// nil: grow until leaves are pure or too small.
  public var maxDepth: Int? = nil
  public var minSamplesSplit = 2
  public var minSamplesLeaf = 1

  mutating func read(_ section: inout MappingReader) throws(ConfigError) {
    maxDepth = try section.int("max_depth", range: 1...1000) ?? maxDepth
    minSamplesSplit = try section.int(
      "min_samples_split", default: minSamplesSplit, range: 2...Int(Int32.max))
    minSamplesLeaf = try section.int(
      "min_samples_leaf", default: minSamplesLeaf, range: 1...Int(Int32.max))
  }
}

public struct RandomForestConfig: Equatable, Sendable {
  public enum MaxFeatures: String, CaseIterable, Sendable { case sqrt, log2, all }
  public var trees = 100
  public var maxFeatures = MaxFeatures.sqrt
  public var bootstrap = true
  public var tree = DecisionTreeConfig()
}

public struct NeighboursConfig: Equatable, Sendable {
  public enum Weights: String, CaseIterable, Sendable { case uniform, distance }
  /// The paper's k.
  public var neighbours = 100
  /// Minkowski p: 1 (Manhattan) or 2 (Euclidean).
  public var p = 2
  public var weights = Weights.uniform
}

public struct NetworkConfig: Equatable, Sendable {
  public enum Activation: String, CaseIterable, Sendable { case relu, sigmoid }
  /// Widths of the hidden layers.
  public var hidden: [Int]
  public var activation = Activation.relu

  public init(hidden: [Int], activation: Activation = .relu) {
    self.hidden = hidden
    self.activation = activation
  }
}

public struct BaggingConfig: Equatable, Sendable {
  /// The model copied onto bootstrap samples, with its hyperparameters from `models`.
  public var base = "decision_tree"
  public var estimators = 10
  /// Each bootstrap sample's size as a share of the training rows.
  public var maxSamples = 1.0
}

public struct StackingConfig: Equatable, Sendable {
  /// Base models (hyperparameters from `models`) whose out-of-fold probabilities feed a
  /// logistic-regression meta-model.
  public var base = ["logistic_regression", "decision_tree", "knn", "random_forest"]
  public var folds = 5
}
