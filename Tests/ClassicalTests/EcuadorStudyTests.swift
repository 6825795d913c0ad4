import Configuration
import Evaluation
import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Classical

/// The real Ecuador study (`ecuador/ta.tif`, five factors as bands; `lsl.csv`, 350 points)
/// read the way a user's study is — a config naming a multi-band stack and a points CSV —
/// then every model fitted on tools/fixtures/classical.py's split and its test AUC compared
/// with scikit-learn's on the same rows.
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct EcuadorStudyTests {
  struct Fixture: Decodable {
    struct Model: Decodable {
      let name: String
      let aucTest: Double
    }
    let features: [String]
    let trainIndices: [Int]
    let testIndices: [Int]
    let models: [Model]
    let crossValidation: CrossValidation
  }

  struct CrossValidation: Decodable {
    /// Each training row's fold, in `trainIndices` order.
    let fold: [Int]
    let aucs: [String: [Double]]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/ecuador.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  func study() throws -> (ClassicalStudy, ClassicalStudy.Survey, PixelTable) {
    let directory = try TestPaths.temporaryDirectory()
    let ecuador = TestPaths.sharedData.appendingPathComponent("ecuador").path
    let text = """
      study:
        files:
          factors: \(ecuador)/ta.tif
          inventories:
            lsl: {points: \(ecuador)/lsl.csv, x: x, y: y, label: lslpts}
      """
    let config = try ClassicalConfig.parse(
      text, file: directory.appendingPathComponent("config.yaml").path)
    guard case .files(let files) = config.study else { throw ClassicalError("test", "not files") }
    let study = try ClassicalStudy(files: files, warpDirectory: directory.path)
    let survey = try study.survey()
    let points = try study.points(
      path: "\(ecuador)/lsl.csv", x: "x", y: "y", label: "lslpts", survey: survey)
    return (
      study, survey, try study.table(pixels: points.pixels, labels: points.labels, survey: survey)
    )
  }

  /// The band descriptions name the factors, and the values read at the points are the
  /// ones the CSV lists (extracted from the same raster by its authors).
  @Test func theStackAndPointsGiveTheCSVsTable() throws {
    let (study, _, table) = try study()
    #expect(study.factors.map(\.name) == Self.fixture.features)
    #expect(table.rows == 350 && table.positives == 175)
    let text = try String(
      contentsOf: TestPaths.sharedData.appendingPathComponent("ecuador/lsl.csv"), encoding: .utf8)
    var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",") }
    let header = lines.removeFirst().map(String.init)
    for (row, line) in lines.enumerated() {
      for (column, name) in Self.fixture.features.enumerated() {
        let expected = Float(line[header.firstIndex(of: name)!])!
        let value = table.features[row, column]
        #expect(abs(value - expected) <= 1e-4 * max(1, abs(expected)), "row \(row) \(name)")
      }
    }
  }

  /// Each model's test AUC against scikit-learn's with the same hyperparameters. The
  /// deterministic models (LR, KNN) must agree closely; the randomised ones (forest,
  /// bagging, network) draw other random numbers than scikit-learn, and on 105 test points
  /// one swapped pair moves the AUC by 1/(52·53), so they get a wider margin.
  @Test(arguments: [
    ("logistic_regression", 0.003), ("knn_p2", 0.01), ("knn_p1", 0.01), ("decision_tree", 0.06),
    ("random_forest", 0.04), ("mlp", 0.04), ("bagging", 0.04), ("stacking", 0.04),
  ])
  func theTestAUCIsScikitLearns(model name: String, tolerance: Double) throws {
    let (_, _, table) = try study()
    let train = table.selecting(rows: Self.fixture.trainIndices)
    let test = table.selecting(rows: Self.fixture.testIndices)
    let encoder = FeatureEncoder(fittedOn: train, oneHot: true)
    let trainX = try encoder.encode(train.features, source: "train")
    let testX = try encoder.encode(test.features, source: "test")
    let model = Self.model(name)
    try model.fit(trainX, train.labels)
    let auc = try ROCCurve(labels: test.labels, scores: model.predictProbability(testX)).auc
    let expected = try #require(Self.fixture.models.first { $0.name == name }).aucTest
    #expect(abs(auc - expected) <= tolerance, "\(name): ours \(auc), scikit-learn \(expected)")
  }

  /// A classical sweep's score: each fold's AUC, its scaling fitted on the other folds,
  /// against scikit-learn's on the same folds. A fold holds 49 rows, where one swapped
  /// pair moves the AUC by 1/600; the deterministic models must agree to within that.
  @Test(arguments: [("logistic_regression", 0.002), ("knn", 0.004)])
  func crossValidatedAUCsAreScikitLearns(model name: String, tolerance: Double) throws {
    let (_, _, table) = try study()
    let train = table.selecting(rows: Self.fixture.trainIndices)
    let config = try ClassicalConfig.parse(
      "models: {logistic_regression: , knn: {neighbours: 15, p: 2}}", file: "test.yaml")
    let model = try #require(config.models.first { $0.name == name })
    let aucs = try ClassicalModels(config: config, communicator: nil).crossValidatedAUC(
      model, on: train, fold: Self.fixture.crossValidation.fold)
    let expected = try #require(Self.fixture.crossValidation.aucs[name])
    #expect(aucs.count == 5)
    for (fold, (ours, theirs)) in zip(aucs, expected).enumerated() {
      #expect(
        abs(ours - theirs) <= tolerance,
        "\(name) fold \(fold): ours \(ours), scikit-learn \(theirs)")
    }
  }

  /// The fixture's models, with its hyperparameters.
  static func model(_ name: String) -> any Classifier {
    let tree = { DecisionTree(settings: .init(maxDepth: 5)) }
    let knn = { (p: Int) in NearestNeighbours(settings: .init(neighbours: 15, p: p)) }
    switch name {
    case "logistic_regression": return LogisticRegression()
    case "knn_p2": return knn(2)
    case "knn_p1": return knn(1)
    case "decision_tree": return tree()
    case "random_forest": return RandomForest(settings: .init())
    case "mlp":
      var training = TrainingConfig.classicalDefaults
      training.batchSize = 32
      training.maxEpochs = 400
      training.patience = 30
      return NeuralNetwork(settings: .init(name: "ann", hidden: [16]), training: training)
    case "bagging":
      return Bagging(settings: .init(estimators: 20), makeBase: { DecisionTree() })
    case "stacking":
      return Stacking(
        settings: .init(folds: 5), makeBase: [{ LogisticRegression() }, tree, { knn(2) }],
        makeMeta: { LogisticRegression() })
    default: preconditionFailure(name)
    }
  }
}
