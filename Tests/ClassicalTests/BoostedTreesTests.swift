import Foundation
import Testing

@testable import Classical

/// XGBoost through its C API against Python's xgboost (the same 1.7.4) and the `shap`
/// package, on tools/fixtures/boosted_trees.py's table: fits that reproduce Python's
/// predictions, Python's models read back, SHAP values that add up to the margin and equal
/// shap.TreeExplainer's.
@Suite struct BoostedTreesTests {
  struct Fixture: Decodable {
    struct Model: Decodable {
      struct Parameters: Decodable {
        let nEstimators: Int
        let maxDepth: Int
        let learningRate: Double
        let subsample: Double
        let colsampleBytree: Double
        let maxBin: Int
        let growPolicy: String
        let maxLeaves: Int
        let randomState: UInt64
      }
      let parameters: Parameters
      let modelJson: String
      let probabilities: [Float]
      let shapRows: Int
      let shapValues: [Float]
      let expectedValue: Float
    }
    let x: [Float]
    let y: [Float]
    let rows: Int
    let columns: Int
    let models: [String: Model]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/boosted_trees.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  static var x: FeatureMatrix {
    FeatureMatrix(rows: fixture.rows, columns: fixture.columns, values: fixture.x)
  }

  static func settings(_ name: String) -> BoostedTrees.Settings {
    let p = fixture.models[name]!.parameters
    var s = BoostedTrees.Settings()
    s.trees = p.nEstimators
    s.maxDepth = p.maxDepth
    s.learningRate = p.learningRate
    s.subsample = p.subsample
    s.columnSample = p.colsampleBytree
    s.maxBin = p.maxBin
    s.growPolicy = BoostedTrees.Settings.GrowPolicy(rawValue: p.growPolicy)!
    s.maxLeaves = p.maxLeaves
    s.seed = p.randomState
    s.threads = 1
    return s
  }

  @Test(arguments: ["depthwise", "lossguide"])
  func fitsReproducePythonsPredictions(_ name: String) throws {
    let model = BoostedTrees(settings: Self.settings(name))
    try model.fit(Self.x, Self.fixture.y)
    let ours = try model.predictProbability(Self.x)
    let theirs = Self.fixture.models[name]!.probabilities
    let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-6, "\(name): largest difference \(worst)")
  }

  @Test(arguments: ["depthwise", "lossguide"])
  func shapValuesAreTreeExplainersAndAddUpToTheMargin(_ name: String) throws {
    let reference = Self.fixture.models[name]!
    let model = BoostedTrees(settings: Self.settings(name))
    try model.load(json: reference.modelJson, columns: Self.fixture.columns)
    #expect(try model.predictProbability(Self.x) == reference.probabilities)
    let rows = reference.shapRows
    let head = Self.x.selecting(rows: 0..<rows)
    let contributions = try model.contributions(head)
    let margins = try model.margin(head)
    let columns = Self.fixture.columns
    for row in 0..<rows {
      var sum: Float = 0
      for column in 0...columns { sum += contributions[row, column] }
      #expect(abs(sum - margins[row]) < 2e-5, "row \(row): \(sum) vs margin \(margins[row])")
      #expect(abs(contributions[row, columns] - reference.expectedValue) < 1e-5)
      for column in 0..<columns {
        let theirs = reference.shapValues[row * columns + column]
        #expect(abs(contributions[row, column] - theirs) < 1e-5, "row \(row), column \(column)")
      }
    }
  }

  @Test func fitsAreReproducibleBySeedAndSurviveStorage() throws {
    func fitted(seed: UInt64) throws -> BoostedTrees {
      var settings = Self.settings("depthwise")
      settings.seed = seed
      settings.threads = 2
      let model = BoostedTrees(settings: settings)
      try model.fit(Self.x, Self.fixture.y)
      return model
    }
    let (a, b, c) = (try fitted(seed: 3), try fitted(seed: 3), try fitted(seed: 4))
    #expect(try a.predictProbability(Self.x) == b.predictProbability(Self.x))
    #expect(try a.predictProbability(Self.x) != c.predictProbability(Self.x))
    let rebuilt = try BoostedTrees(stored: a.stored())
    #expect(rebuilt.name == "xgboost" && rebuilt.settings == a.settings)
    #expect(try rebuilt.predictProbability(Self.x) == a.predictProbability(Self.x))
    #expect(throws: ClassicalError.self) {
      try BoostedTrees().predictProbability(Self.x)
    }
    #expect(throws: ClassicalError.self) {
      try a.predictProbability(FeatureMatrix(rows: 1, columns: 2, values: [0, 0]))
    }
  }
}
