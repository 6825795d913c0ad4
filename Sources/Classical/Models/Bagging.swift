import TensorEngine

/// Bootstrap aggregation (scikit-learn's BaggingClassifier): copies of a base model, each
/// fitted on its own bootstrap sample of the training rows (drawn with replacement from a
/// seed per copy), their probabilities averaged.
public final class Bagging: Classifier {
  public struct Settings: Codable, Equatable, Sendable {
    public var estimators = 10
    /// Each sample's size as a share of the training rows.
    public var maxSamples = 1.0
    public var seed: UInt64 = 0

    public init(estimators: Int = 10, maxSamples: Double = 1.0, seed: UInt64 = 0) {
      self.estimators = estimators
      self.maxSamples = maxSamples
      self.seed = seed
    }
  }

  public let name = "bagging"
  public let settings: Settings
  private let makeBase: () -> any Classifier
  public private(set) var estimators: [any Classifier] = []

  /// - Parameter makeBase: a fresh, unfitted base model (with its hyperparameters).
  public init(settings: Settings, makeBase: @escaping () -> any Classifier) {
    self.settings = settings
    self.makeBase = makeBase
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    let size = max(1, Int((settings.maxSamples * Double(x.rows)).rounded()))
    var fitted: [any Classifier] = []
    for copy in 0..<settings.estimators {
      var random = RandomGenerator(seed: settings.seed &+ 0x9E37_79B9 &* UInt64(copy + 1))
      let sample = (0..<size).map { _ in Int(random.next() % UInt64(x.rows)) }
      let model = makeBase()
      do { try model.fit(x.selecting(rows: sample), sample.map { y[$0] }) } catch {
        throw ClassicalError(name, "copy \(copy): \(error)")
      }
      fitted.append(model)
    }
    estimators = fitted
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard !estimators.isEmpty else { throw ClassicalError(name, "predict before fit") }
    var total = [Double](repeating: 0, count: x.rows)
    for model in estimators {
      for (row, p) in try model.predictProbability(x).enumerated() { total[row] += Double(p) }
    }
    return total.map { Float($0 / Double(estimators.count)) }
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    var parts: [StoredModel] = []
    for model in estimators { parts.append(try model.stored()) }
    return StoredModel(kind: name, settings: settings, parts: parts)
  }

  /// Rebuilds a stored bagging model; `rebuild` turns each part back into its model.
  public init(stored: StoredModel, rebuild: (StoredModel) throws(ClassicalError) -> any Classifier)
    throws(ClassicalError)
  {
    settings = try stored.decodeSettings(Settings.self)
    makeBase = { preconditionFailure("a stored bagging model is not refitted") }
    for part in stored.parts { estimators.append(try rebuild(part)) }
    guard estimators.count == settings.estimators else {
      throw ClassicalError(
        name, "\(estimators.count) stored copies; the settings say \(settings.estimators)")
    }
  }
}
