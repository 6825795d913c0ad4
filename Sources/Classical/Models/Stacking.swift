import TensorEngine

/// Stacked generalisation (scikit-learn's StackingClassifier): the base models' P(landslide)
/// become the features of a logistic-regression meta-model. The meta-model is fitted on
/// out-of-fold probabilities (stratified K folds from a seed: each row's feature comes from
/// base models that never saw that row), so no row's own label leaks into its
/// meta-feature; the base models are then refitted on every row for prediction.
public final class Stacking: Classifier {
  public struct Settings: Codable, Equatable, Sendable {
    public var folds = 5
    public var seed: UInt64 = 0
    /// The base models' names, in the meta-model's column order.
    public var base: [String] = []

    public init(folds: Int = 5, seed: UInt64 = 0, base: [String] = []) {
      self.folds = folds
      self.seed = seed
      self.base = base
    }
  }

  public let name = "stacking"
  public private(set) var settings: Settings
  private let makeBase: [() -> any Classifier]
  private let makeMeta: () -> any Classifier
  public private(set) var baseModels: [any Classifier] = []
  public private(set) var meta: (any Classifier)?
  /// The meta-model's training features (rows × base models), kept for inspection.
  public private(set) var outOfFold: FeatureMatrix?

  /// - Parameters:
  ///   - makeBase: fresh, unfitted base models.
  ///   - makeMeta: a fresh meta-model (logistic regression).
  public init(
    settings: Settings, makeBase: [() -> any Classifier], makeMeta: @escaping () -> any Classifier
  ) {
    self.settings = settings
    self.makeBase = makeBase
    self.makeMeta = makeMeta
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    let fold = stratifiedFolds(y, count: settings.folds, seed: settings.seed)
    var features = FeatureMatrix(
      rows: x.rows, columns: makeBase.count,
      values: [Float](repeating: 0, count: x.rows * makeBase.count))
    for k in 0..<settings.folds {
      let inside = (0..<x.rows).filter { fold[$0] != k }
      let held = (0..<x.rows).filter { fold[$0] == k }
      guard !held.isEmpty else { continue }
      for (column, make) in makeBase.enumerated() {
        let model = make()
        do {
          try model.fit(x.selecting(rows: inside), inside.map { y[$0] })
          let probabilities = try model.predictProbability(x.selecting(rows: held))
          for (row, p) in zip(held, probabilities) { features[row, column] = p }
        } catch {
          throw ClassicalError(name, "fold \(k + 1), base model \(model.name): \(error)")
        }
      }
    }
    let meta = makeMeta()
    try meta.fit(features, y)
    var refitted: [any Classifier] = []
    for make in makeBase {
      let model = make()
      try model.fit(x, y)
      refitted.append(model)
    }
    settings.base = refitted.map(\.name)
    baseModels = refitted
    self.meta = meta
    outOfFold = features
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard let meta else { throw ClassicalError(name, "predict before fit") }
    var features = FeatureMatrix(
      rows: x.rows, columns: baseModels.count,
      values: [Float](repeating: 0, count: x.rows * baseModels.count))
    for (column, model) in baseModels.enumerated() {
      for (row, p) in try model.predictProbability(x).enumerated() { features[row, column] = p }
    }
    return try meta.predictProbability(features)
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    guard let meta else { throw ClassicalError(name, "store before fit") }
    var parts: [StoredModel] = []
    for model in baseModels { parts.append(try model.stored()) }
    parts.append(try meta.stored())
    return StoredModel(kind: name, settings: settings, parts: parts)
  }

  /// Rebuilds a stored stacking model: its base models, then the meta-model last.
  public init(stored: StoredModel, rebuild: (StoredModel) throws(ClassicalError) -> any Classifier)
    throws(ClassicalError)
  {
    settings = try stored.decodeSettings(Settings.self)
    makeBase = []
    makeMeta = { preconditionFailure("a stored stacking model is not refitted") }
    guard stored.parts.count == settings.base.count + 1 else {
      throw ClassicalError(
        name,
        "\(stored.parts.count) stored parts; expected \(settings.base.count) base models "
          + "and the meta-model")
    }
    for part in stored.parts.dropLast() { baseModels.append(try rebuild(part)) }
    meta = try rebuild(stored.parts[stored.parts.count - 1])
  }
}
