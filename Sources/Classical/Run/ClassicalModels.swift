import Configuration
import Distributed

/// Builds the configured models (with their hyperparameters, the run's seed and ranks)
/// and rebuilds stored ones: the one place that knows every model type.
public final class ClassicalModels {
  let config: ClassicalConfig
  let communicator: Communicator?
  /// The networks' per-epoch log (rank 0) and progress lines.
  public var metricsPath: String?
  public var log: (String) -> Void = { _ in }

  public init(config: ClassicalConfig, communicator: Communicator?) {
    self.config = config
    self.communicator = communicator
  }

  var seed: UInt64 { UInt64(config.tables.seed) }

  /// The configured hyperparameters of the model called `name` (a base model of bagging
  /// or stacking), or its defaults when the config does not list it.
  func configured(_ name: String) -> ClassicalModelConfig {
    config.models.first { $0.name == name } ?? ClassicalModelConfig.defaults(for: name)!
  }

  /// Whether the model reads categorical factors one-hot (true) or as codes: trees (and
  /// bagged trees) compare values and take codes unless `trees_one_hot`.
  public func oneHot(for model: ClassicalModelConfig) -> Bool {
    switch model {
    case .decisionTree, .randomForest: config.encoding.treesOneHot
    case .bagging(let bagging): oneHot(for: configured(bagging.base))
    default: config.encoding.oneHot
    }
  }

  /// A fresh, unfitted model.
  public func make(_ model: ClassicalModelConfig) -> any Classifier {
    switch model {
    case .logisticRegression(let c):
      var settings = LogisticRegression.Settings()
      settings.penalty = LogisticRegression.Penalty(rawValue: c.penalty.rawValue)!
      settings.c = c.c
      settings.l1Ratio = c.l1Ratio
      settings.maxIterations = c.maxIterations
      return LogisticRegression(settings: settings)
    case .decisionTree(let c):
      return DecisionTree(
        settings: .init(
          maxDepth: c.maxDepth, minSamplesSplit: c.minSamplesSplit,
          minSamplesLeaf: c.minSamplesLeaf, seed: seed))
    case .randomForest(let c):
      var settings = RandomForest.Settings()
      settings.trees = c.trees
      settings.maxFeatures =
        switch c.maxFeatures {
        case .sqrt: .sqrt
        case .log2: .log2
        case .all: .all
        }
      settings.maxDepth = c.tree.maxDepth
      settings.minSamplesSplit = c.tree.minSamplesSplit
      settings.minSamplesLeaf = c.tree.minSamplesLeaf
      settings.bootstrap = c.bootstrap
      settings.seed = seed
      return RandomForest(settings: settings, communicator: communicator)
    case .knn(let c):
      var settings = NearestNeighbours.Settings()
      settings.neighbours = c.neighbours
      settings.p = c.p
      settings.weights = c.weights == .distance ? .distance : .uniform
      return NearestNeighbours(settings: settings, communicator: communicator)
    case .network(let name, let c):
      let network = NeuralNetwork(
        settings: .init(name: name, hidden: c.hidden, activation: c.activation.rawValue),
        training: config.training, validationShare: config.validationShare,
        communicator: communicator)
      network.metricsPath = metricsPath
      network.log = log
      return network
    case .bagging(let c):
      let base = configured(c.base)
      return Bagging(
        settings: .init(estimators: c.estimators, maxSamples: c.maxSamples, seed: seed),
        makeBase: { [self] in make(base) })
    case .stacking(let c):
      let bases = c.base.map(configured)
      return Stacking(
        settings: .init(folds: c.folds, seed: seed),
        makeBase: bases.map { base in { [self] in make(base) } },
        makeMeta: { LogisticRegression(settings: .init()) })
    }
  }

  /// The fitted model a stored one describes.
  public static func rebuild(_ stored: StoredModel) throws(ClassicalError) -> any Classifier {
    switch stored.kind {
    case "logistic_regression": return try LogisticRegression(stored: stored)
    case "decision_tree": return try DecisionTree(stored: stored)
    case "random_forest": return try RandomForest(stored: stored)
    case "knn": return try NearestNeighbours(stored: stored)
    case "neural_network": return try NeuralNetwork(stored: stored)
    case "bagging": return try Bagging(stored: stored, rebuild: rebuild)
    case "stacking": return try Stacking(stored: stored, rebuild: rebuild)
    case "boosted_trees": return try BoostedTrees(stored: stored)
    default:
      throw ClassicalError(
        stored.kind, "unknown model kind; this build reads \(kinds.joined(separator: ", "))")
    }
  }

  static let kinds = [
    "logistic_regression", "decision_tree", "random_forest", "knn", "neural_network", "bagging",
    "stacking", "boosted_trees",
  ]
}
