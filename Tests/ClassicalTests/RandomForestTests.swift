import Evaluation
import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Classical

@Suite struct RandomForestTests {
  static let settings = RandomForest.Settings(trees: 24, seed: 17)

  static func fitted(_ settings: RandomForest.Settings = settings) throws -> (
    forest: RandomForest, x: FeatureMatrix
  ) {
    let (x, y) = noisyTable(rows: 600, columns: 5, seed: 21)
    let forest = RandomForest(settings: settings)
    try forest.fit(x, y)
    return (forest, x)
  }

  @Test func theSameSeedGrowsTheSameForest() throws {
    let (first, x) = try Self.fitted()
    let (again, _) = try Self.fitted()
    var other = Self.settings
    other.seed = 18
    let (reseeded, _) = try Self.fitted(other)
    #expect(try again.predictProbability(x) == first.predictProbability(x))
    #expect(try reseeded.predictProbability(x) != first.predictProbability(x))
  }

  /// Trees are split over the pool's threads, rows too when predicting: neither changes
  /// a bit of the forest or of its probabilities.
  @Test func theForestIsTheSameOnOneOrTwoThreads() throws {
    let original = ThreadPool.shared.threadCount
    defer { ThreadPool.shared.threadCount = original }
    ThreadPool.shared.threadCount = 1
    let (single, x) = try Self.fitted()
    let singleProbability = try single.predictProbability(x)
    ThreadPool.shared.threadCount = 2
    let (double, _) = try Self.fitted()
    #expect(try double.stored() == single.stored())
    #expect(try double.predictProbability(x) == singleProbability)
  }

  /// What ranks do: trees grown by index in separate runs (even and odd, as on two ranks),
  /// put back in tree order, are the forest grown whole.
  @Test func treesGrownApartByIndexMakeTheWholeForest() throws {
    let (whole, x) = try Self.fitted()
    let (_, y) = noisyTable(rows: 600, columns: 5, seed: 21)
    let table = try TreeTable(x, y, model: "random_forest")
    let grower = RandomForest(settings: Self.settings)
    let even = grower.fitTrees(Array(stride(from: 0, to: 24, by: 2)), on: table)
    let odd = grower.fitTrees(Array(stride(from: 1, to: 24, by: 2)), on: table)
    let trees: [FittedTree] = (0..<24).map { (index: Int) -> FittedTree in
      index % 2 == 0 ? even[index / 2] : odd[index / 2]
    }
    let assembled = RandomForest(settings: Self.settings, trees: trees, columns: x.columns)
    #expect(try assembled.stored() == whole.stored())
    #expect(try assembled.predictProbability(x) == whole.predictProbability(x))
  }

  /// The probability is the mean of the trees' leaf values; each tree is a decision tree
  /// on its bootstrap sample (rows drawn with replacement: most drawn once or more, some
  /// not at all).
  @Test func theProbabilityIsTheMeanOfTheTrees() throws {
    let (forest, x) = try Self.fitted()
    let stored = try forest.stored()
    let trees = try stored.parts.map { try DecisionTree(stored: $0) }
    let perTree = try trees.map { try $0.predictProbability(x) }
    let probability = try forest.predictProbability(x)
    for row in stride(from: 0, to: x.rows, by: 37) {
      let mean = perTree.reduce(0.0) { $0 + Double($1[row]) } / Double(trees.count)
      #expect(probability[row] == Float(mean))
    }
    #expect(trees.map(\.settings.maxFeatures) == Array(repeating: 2, count: 24))
    #expect(Set(trees.map(\.settings.seed)).count == 24)
  }

  @Test func aStoredForestRebuildsFromItsFile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let (forest, x) = try Self.fitted()
    let path = directory.appendingPathComponent("forest.safetensors").path
    try forest.stored().write(to: path)
    let rebuilt = try RandomForest(stored: StoredModel.read(path).model)
    #expect(rebuilt.settings == forest.settings)
    #expect(try rebuilt.predictProbability(x) == forest.predictProbability(x))
    var missing = try forest.stored()
    missing.parts.removeLast()
    #expect(throws: ClassicalError.self) { try RandomForest(stored: missing) }
  }

  /// On the same noisy problem, the AUC on held-out rows is within 0.02 of
  /// scikit-learn's RandomForestClassifier(n_estimators=100).
  @Test func itsAUCMatchesScikitLearns() throws {
    let fixture = TreeFixtures.shared.forest
    func table(_ codes: [Int]) -> FeatureMatrix {
      FeatureMatrix(
        rows: codes.count / fixture.columns, columns: fixture.columns,
        values: codes.map { Float(Double($0) / 1000) })
    }
    let forest = RandomForest(settings: .init(seed: 1))
    try forest.fit(table(fixture.trainCodes), fixture.trainY.map { Float($0) })
    let auc = try ROCCurve(
      labels: fixture.testY.map { Float($0) },
      scores: forest.predictProbability(table(fixture.testCodes))
    ).auc
    #expect(abs(auc - fixture.testAuc) < 0.02, "AUC \(auc), scikit-learn \(fixture.testAuc)")
  }

  /// Counts of columns per node as scikit-learn computes them, and the settings file form.
  @Test func maxFeaturesResolvesAndCodes() throws {
    #expect(RandomForest.MaxFeatures.sqrt.count(columns: 21) == 4)
    #expect(RandomForest.MaxFeatures.log2.count(columns: 21) == 4)
    #expect(RandomForest.MaxFeatures.sqrt.count(columns: 2) == 1)
    #expect(RandomForest.MaxFeatures.log2.count(columns: 1) == 1)
    #expect(RandomForest.MaxFeatures.all.count(columns: 21) == 21)
    let encoded = try JSONEncoder().encode([RandomForest.MaxFeatures.log2, .count(5)])
    #expect(String(decoding: encoded, as: UTF8.self) == #"["log2",5]"#)
    #expect(
      try JSONDecoder().decode([RandomForest.MaxFeatures].self, from: encoded) == [
        .log2, .count(5),
      ])
    #expect(throws: (any Error).self) {
      try JSONDecoder().decode([RandomForest.MaxFeatures].self, from: Data(#"["half"]"#.utf8))
    }
  }

  @Test func badSettingsAreNamed() throws {
    let (x, y) = noisyTable(rows: 50, columns: 3, seed: 2)
    for settings in [
      RandomForest.Settings(trees: 0), .init(maxFeatures: .count(4)), .init(minSamplesLeaf: 0),
    ] {
      let error = #expect(throws: ClassicalError.self) {
        try RandomForest(settings: settings).fit(x, y)
      }
      #expect(error?.subject == "random_forest")
    }
  }
}
