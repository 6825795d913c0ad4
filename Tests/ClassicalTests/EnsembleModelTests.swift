import Configuration
import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Classical

/// Remembers the label of every row it was fitted on (by its values) and answers 0.5 for
/// rows it never saw: the perfect leak detector for stacking.
final class Memorizer: Classifier {
  let name = "memorizer"
  private var seen: [[Float]: Float] = [:]

  func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    seen = [:]
    for row in 0..<x.rows { seen[Array(x.row(row))] = y[row] }
  }

  func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    (0..<x.rows).map { seen[Array(x.row($0))] ?? 0.5 }
  }

  func stored() throws(ClassicalError) -> StoredModel { StoredModel(kind: name, settings: [Int]()) }
}

/// Predicts the mean label it was fitted on, and records what it was fitted on.
final class MeanModel: Classifier {
  let name = "mean"
  var fittedOn: [FeatureMatrix] = []
  private var mean: Float = 0.5

  func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    fittedOn.append(x)
    mean = y.reduce(0, +) / Float(y.count)
  }

  func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    [Float](repeating: mean, count: x.rows)
  }

  func stored() throws(ClassicalError) -> StoredModel {
    StoredModel(
      kind: name, settings: [Int](), arrays: [.init(name: "mean", shape: [1], values: [mean])])
  }
}

/// Rows with distinct values; the label is whether the first two columns sum above 1.
func distinctTable(rows: Int, columns: Int = 3, seed: UInt64 = 7) -> (FeatureMatrix, [Float]) {
  var random = RandomGenerator(seed: seed)
  var values: [Float] = []
  var labels: [Float] = []
  for _ in 0..<rows {
    let row = (0..<columns).map { _ in random.nextUniform() }
    values += row
    labels.append(row[0] + row[1] + 0.3 * (random.nextUniform() - 0.5) > 1 ? 1 : 0)
  }
  return (FeatureMatrix(rows: rows, columns: columns, values: values), labels)
}

@Suite struct StackingTests {
  /// The meta-model sees out-of-fold probabilities only: a base model that memorises its
  /// training rows gives the meta-model nothing but 0.5 (every row was held out of the
  /// fit that scored it). Fitting the base models on all rows first (the leak) would hand
  /// the meta-model the labels themselves.
  @Test func theMetaModelSeesOnlyOutOfFoldProbabilities() throws {
    let (x, y) = distinctTable(rows: 200)
    let meta = MeanModel()
    let stacking = Stacking(
      settings: .init(folds: 5, seed: 3), makeBase: [{ Memorizer() }, { MeanModel() }],
      makeMeta: { meta })
    try stacking.fit(x, y)
    let features = try #require(stacking.outOfFold)
    #expect(meta.fittedOn.count == 1)
    #expect(meta.fittedOn[0] == features)
    #expect((0..<features.rows).allSatisfy { features[$0, 0] == 0.5 })
    // The mean model's out-of-fold value is its fold's complement's positive share: never
    // the row's own label.
    #expect((0..<features.rows).allSatisfy { features[$0, 1] > 0 && features[$0, 1] < 1 })
    // For prediction the base models are refitted on every row: the memoriser now knows
    // the training rows.
    let probabilities = try stacking.predictProbability(x)
    #expect(probabilities.count == x.rows)
  }

  /// Folds are stratified: each holds both classes in nearly the table's proportion, and
  /// every row is in exactly one.
  @Test func foldsAreStratified() {
    let y: [Float] = (0..<103).map { $0 % 4 == 0 ? 1 : 0 }
    let folds = stratifiedFolds(y, count: 5, seed: 1)
    for k in 0..<5 {
      let rows = folds.indices.filter { folds[$0] == k }
      let positives = rows.filter { y[$0] == 1 }.count
      #expect((20...21).contains(rows.count))
      #expect((5...6).contains(positives))
    }
  }
}

@Suite struct BaggingTests {
  /// Each copy gets its own bootstrap sample (rows drawn with replacement, the sample's
  /// size set by max_samples), the same for a seed; probabilities are the copies' mean.
  @Test func copiesFitBootstrapSamplesAndAverage() throws {
    let (x, y) = distinctTable(rows: 120)
    var made: [MeanModel] = []
    let bagging = Bagging(
      settings: .init(estimators: 4, maxSamples: 0.5, seed: 9),
      makeBase: {
        let model = MeanModel()
        made.append(model)
        return model
      })
    try bagging.fit(x, y)
    #expect(made.count == 4)
    #expect(made.allSatisfy { $0.fittedOn[0].rows == 60 })
    // Samples differ between copies and repeat rows (drawn with replacement).
    let samples = made.map { model in
      Set((0..<60).map { Array(model.fittedOn[0].row($0)) })
    }
    #expect(samples[0] != samples[1])
    #expect(samples.contains { $0.count < 60 })
    let means = try made.map { try $0.predictProbability(x)[0] }
    let expected = means.reduce(0, +) / 4
    #expect(abs(try bagging.predictProbability(x)[5] - expected) < 1e-6)
  }
}

@Suite struct NeuralNetworkTests {
  func settings(epochs: Int) -> TrainingConfig {
    var training = TrainingConfig.classicalDefaults
    training.maxEpochs = epochs
    training.patience = epochs
    training.batchSize = 32
    training.learningRate = 1e-2
    return training
  }

  /// The MLP learns a non-linear rule through the training loop and its stored form
  /// predicts exactly what it does.
  @Test func anMLPLearnsThroughTheLoopAndRoundTrips() throws {
    var random = RandomGenerator(seed: 4)
    var values: [Float] = []
    var labels: [Float] = []
    for _ in 0..<600 {
      let (a, b) = (random.nextUniform() * 2 - 1, random.nextUniform() * 2 - 1)
      values += [a, b]
      labels.append(a * a + b * b < 0.5 ? 1 : 0)
    }
    let x = FeatureMatrix(rows: 600, columns: 2, values: values)
    let network = NeuralNetwork(
      settings: .init(name: "mlp", hidden: [16, 16]), training: settings(epochs: 60))
    try network.fit(x, labels)
    let probabilities = try network.predictProbability(x)
    let auc = try mannWhitneyAUC(labels, probabilities)
    #expect(auc > 0.95, "training AUC \(auc)")
    let rebuilt = try NeuralNetwork(stored: network.stored())
    #expect(try rebuilt.predictProbability(x) == probabilities)
  }

  @Test func aTableOfOneClassIsRefused() {
    let x = FeatureMatrix(rows: 3, columns: 1, values: [1, 2, 3])
    let network = NeuralNetwork(
      settings: .init(name: "ann", hidden: [4]), training: settings(epochs: 1))
    #expect(throws: ClassicalError.self) { try network.fit(x, [1, 1, 1]) }
  }
}

/// The AUC by the Mann–Whitney count, written out here so that the test does not lean on
/// the code under test.
func mannWhitneyAUC(_ labels: [Float], _ scores: [Float]) throws -> Double {
  var wins = 0.0
  var pairs = 0.0
  for i in labels.indices where labels[i] == 1 {
    for j in labels.indices where labels[j] == 0 {
      pairs += 1
      wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
    }
  }
  return wins / pairs
}

@Suite struct FeatureEncoderTests {
  let columns = [
    TableColumn(name: "slope"), TableColumn(name: "lithology", categories: [2, 5, 7]),
    TableColumn(name: "elevation"),
  ]

  func table(_ rows: [[Float]]) -> PixelTable {
    PixelTable(
      columns: columns,
      features: FeatureMatrix(rows: rows.count, columns: 3, values: rows.flatMap { $0 }),
      labels: rows.map { _ in 0 }, pixels: Array(rows.indices))
  }

  /// One-hot: a factor's classes in ascending order take its place, named `name=code`;
  /// continuous factors are min–max scaled with the training table's range.
  @Test func oneHotLayoutAndScaling() throws {
    let training = table([[10, 5, 100], [30, 2, 300], [20, 7, 200]])
    let encoder = FeatureEncoder(fittedOn: training, oneHot: true)
    #expect(
      encoder.encodedNames == ["slope", "lithology=2", "lithology=5", "lithology=7", "elevation"])
    let encoded = try encoder.encode(
      FeatureMatrix(rows: 2, columns: 3, values: [20, 7, 300, 40, 2, 0]), source: "test")
    #expect(encoded.values == [0.5, 0, 0, 1, 1, 1.5, 1, 0, 0, -0.5])
    let codes = try FeatureEncoder(fittedOn: training, oneHot: false).encode(
      training.features, source: "test")
    #expect(codes.values == [0, 5, 0, 1, 2, 1, 0.5, 7, 0.5])
  }

  @Test func anUnknownClassIsNamed() {
    let encoder = FeatureEncoder(fittedOn: table([[1, 5, 1], [2, 2, 2]]), oneHot: true)
    let error = #expect(throws: ClassicalError.self) {
      try encoder.encode(FeatureMatrix(rows: 1, columns: 3, values: [1, 3, 1]), source: "window 4")
    }
    #expect(error?.subject == "window 4")
    #expect(error?.message.contains("lithology holds class 3") == true)
  }
}
