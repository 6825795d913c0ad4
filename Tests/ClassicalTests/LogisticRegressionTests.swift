import Evaluation
import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Classical

/// The fixtures' keys are Python's.
private let snakeCase = {
  let decoder = JSONDecoder()
  decoder.keyDecodingStrategy = .convertFromSnakeCase
  return decoder
}()

/// Logistic regression against scikit-learn (tools/fixtures/classical.py), hand-worked
/// optima and itself across thread counts and its model file.
@Suite struct LogisticRegressionTests {
  struct Fixture: Decodable {
    struct Fit: Decodable {
      let name: String
      let penalty: String
      let c: Double
      let l1Ratio: Double
      let coefficients: [Double]
      let intercept: Double
      let probeProbabilities: [Double]
    }
    let rows: Int
    let columns: Int
    let values: [Float]
    let labels: [Float]
    let probeRows: [Int]
    let fits: [Fit]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/logistic.json")
    return try! snakeCase.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  static var table: FeatureMatrix {
    FeatureMatrix(rows: fixture.rows, columns: fixture.columns, values: fixture.values)
  }

  static func settings(_ fit: Fixture.Fit) -> LogisticRegression.Settings {
    .init(
      penalty: LogisticRegression.Penalty(rawValue: fit.penalty)!, c: fit.c,
      l1Ratio: fit.l1Ratio)
  }

  /// scikit-learn's coefficients for every penalty: within 1e-5 relative for the exact
  /// Newton fits (l2, none), 1e-4 for saga's (l1, elasticnet) with the same zeros; and its
  /// probabilities.
  @Test(arguments: fixture.fits.map(\.name))
  func coefficientsMatchScikitLearn(_ name: String) throws {
    let fit = try #require(Self.fixture.fits.first { $0.name == name })
    let model = LogisticRegression(settings: Self.settings(fit))
    try model.fit(Self.table, Self.fixture.labels)
    #expect(model.report?.converged == true)
    let relative = fit.penalty == "l1" || fit.penalty == "elasticnet" ? 1e-4 : 1e-5
    let fitted = model.coefficients + [model.intercept]
    let expected = fit.coefficients + [fit.intercept]
    for (ours, theirs) in zip(fitted, expected) {
      #expect(abs(ours - theirs) <= relative * abs(theirs) + 1e-7, "\(ours) vs \(theirs)")
      #expect((ours == 0) == (theirs == 0), "zero pattern: \(ours) vs \(theirs)")
    }
    let probes = Self.table.selecting(rows: Self.fixture.probeRows)
    for (ours, theirs) in zip(try model.predictProbability(probes), fit.probeProbabilities) {
      #expect(abs(Double(ours) - theirs) < 1e-5)
    }
  }

  /// x = ±1, four rows each; at x = 1 three of four are landslides, at x = −1 one of four.
  /// Symmetric, so the intercept is 0, and the gradient in w is 8σ(w) − 6.
  static let tiny = (
    x: FeatureMatrix(rows: 8, columns: 1, values: [1, 1, 1, 1, -1, -1, -1, -1]),
    y: [Float]([1, 1, 1, 0, 1, 0, 0, 0])
  )

  @Test func aTinyTableHasItsHandWorkedOptimum() throws {
    // No penalty: the saturated model, P(1 | x = 1) = 3/4, so w = logit(3/4) = ln 3.
    let plain = LogisticRegression(settings: .init(penalty: .none))
    try plain.fit(Self.tiny.x, Self.tiny.y)
    #expect(abs(plain.coefficients[0] - log(3)) < 1e-6)
    #expect(abs(plain.intercept) < 1e-12)
    let probabilities = try plain.predictProbability(Self.tiny.x)
    #expect(abs(probabilities[0] - 0.75) < 1e-6 && abs(probabilities[7] - 0.25) < 1e-6)

    // l2, C = 1: w + 8σ(w) − 6 = 0 (w ≈ 0.69), not ln 3.
    let ridge = LogisticRegression(settings: .init(penalty: .l2, c: 1))
    try ridge.fit(Self.tiny.x, Self.tiny.y)
    let w = ridge.coefficients[0]
    #expect(abs(w + 8 / (1 + exp(-w)) - 6) < 1e-6)
    #expect(abs(ridge.intercept) < 1e-12)

    // l1: |8σ(w) − 6|·C = 1 where w ≠ 0; C = 1 gives σ(w) = 5/8, w = ln(5/3). At w = 0
    // the gradient is −2C, inside [−1, 1] for C = 0.4: w = 0 exactly.
    let lasso = LogisticRegression(settings: .init(penalty: .l1, c: 1))
    try lasso.fit(Self.tiny.x, Self.tiny.y)
    #expect(abs(lasso.coefficients[0] - log(5.0 / 3)) < 1e-6)
    let zeroed = LogisticRegression(settings: .init(penalty: .l1, c: 0.4))
    try zeroed.fit(Self.tiny.x, Self.tiny.y)
    #expect(zeroed.coefficients == [0])
  }

  /// 20 000 rows (several chunks, on the workers): the sums, hence the coefficients, do not
  /// depend on the thread count.
  @Test func twoThreadsGiveTheCoefficientsOfOne() throws {
    var random = RandomGenerator(seed: 17)
    let rows = 20_000
    let columns = 5
    var values = [Float](repeating: 0, count: rows * columns)
    var labels = [Float](repeating: 0, count: rows)
    for row in 0..<rows {
      var margin: Float = -0.2
      for column in 0..<columns {
        let value = random.nextNormal() + (column == 1 ? values[row * columns] : 0)
        values[row * columns + column] = value
        margin += value * [0.8, -0.5, 0, 0.3, 1.1][column]
      }
      labels[row] = random.nextUniform() < 1 / (1 + exp(-margin)) ? 1 : 0
    }
    let table = FeatureMatrix(rows: rows, columns: columns, values: values)
    let pool = ThreadPool.shared
    let threads = pool.threadCount
    defer { pool.threadCount = threads }
    for settings in [
      LogisticRegression.Settings(), .init(penalty: .elasticnet, c: 0.001, l1Ratio: 0.7),
    ] {
      var fits: [[Double]] = []
      for count in [1, 2] {
        pool.threadCount = count
        let model = LogisticRegression(settings: settings)
        try model.fit(table, labels)
        #expect(model.report?.converged == true)
        fits.append(model.coefficients + [model.intercept])
      }
      #expect(fits[0] == fits[1])
    }
  }

  @Test func aStoredModelPredictsAsTheFittedOne() throws {
    let fit = try #require(Self.fixture.fits.first { $0.penalty == "elasticnet" })
    let model = LogisticRegression(settings: Self.settings(fit))
    try model.fit(Self.table, Self.fixture.labels)
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("logistic.safetensors").path
    try model.stored().write(to: path)
    let stored = try StoredModel.read(path).model
    #expect(stored.settings.contains("\"converged\":true"))
    let rebuilt = try LogisticRegression(stored: stored)
    #expect(rebuilt.settings == model.settings)
    #expect(rebuilt.report == model.report)
    #expect(rebuilt.coefficients == model.coefficients && rebuilt.intercept == model.intercept)
    #expect(try rebuilt.predictProbability(Self.table) == model.predictProbability(Self.table))
  }

  /// One Newton step is not enough: the model is kept and says so.
  @Test func aFitThatRunsOutOfIterationsIsKeptWithAWarning() throws {
    let model = LogisticRegression(settings: .init(maxIterations: 1))
    try model.fit(Self.table, Self.fixture.labels)
    #expect(model.report?.converged == false)
    #expect(model.report?.iterations == 1)
    #expect(model.warning?.contains("not converged after 1") == true)
    #expect(try model.stored().settings.contains("\"converged\":false"))
  }

  @Test func tablesItCannotFitAreRefusedByName() throws {
    let model = LogisticRegression(settings: .init(penalty: .none))
    let oneClass = #expect(throws: ClassicalError.self) {
      try model.fit(Self.tiny.x, [Float](repeating: 1, count: 8))
    }
    #expect(oneClass?.subject == "logistic_regression")
    // Separable: every x = 1 is a landslide, every x = −1 is not.
    let separable = #expect(throws: ClassicalError.self) {
      try model.fit(Self.tiny.x, [1, 1, 1, 1, 0, 0, 0, 0])
    }
    #expect(separable?.message.contains("separable") == true)
    // The same table with a penalty has an optimum.
    try LogisticRegression().fit(Self.tiny.x, [1, 1, 1, 1, 0, 0, 0, 0])
    #expect(throws: ClassicalError.self) {
      try LogisticRegression(settings: .init(c: 0)).fit(Self.tiny.x, Self.tiny.y)
    }
    #expect(throws: ClassicalError.self) {
      try LogisticRegression().predictProbability(Self.tiny.x)
    }
    let fitted = LogisticRegression()
    try fitted.fit(Self.tiny.x, Self.tiny.y)
    #expect(throws: ClassicalError.self) {
      try fitted.predictProbability(FeatureMatrix(rows: 1, columns: 2, values: [0, 0]))
    }
  }
}

/// The real Ecuador points with tools/fixtures/classical.py's split and scaling.
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct EcuadorLogisticRegressionTests {
  struct Fixture: Decodable {
    struct Scaling: Decodable {
      let min: [Double]
      let max: [Double]
    }
    struct Model: Decodable {
      let name: String
      let aucTest: Double
      let coefficients: [Double]?
      let intercept: Double?
    }
    let features: [String]
    let trainIndices: [Int]
    let testIndices: [Int]
    let scaling: Scaling
    let models: [Model]
  }

  @Test func theTestAUCIsScikitLearns() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/ecuador.json")
    let fixture = try snakeCase.decode(Fixture.self, from: Data(contentsOf: url))
    let text = try String(
      contentsOf: TestPaths.sharedData.appendingPathComponent("ecuador/lsl.csv"), encoding: .utf8)
    var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",") }
    let header = lines.removeFirst().map(String.init)
    let columns = fixture.features.map { header.firstIndex(of: $0)! }
    let labelColumn = try #require(header.firstIndex(of: "lslpts"))
    let raw = lines.map { line in columns.map { Double(line[$0])! } }
    let labels = lines.map { $0[labelColumn] == "TRUE" ? Float(1) : 0 }

    // Min–max scaling fitted on the training rows, as the fixture's.
    let width = columns.count
    let minimum = (0..<width).map { j in fixture.trainIndices.map { raw[$0][j] }.min()! }
    let maximum = (0..<width).map { j in fixture.trainIndices.map { raw[$0][j] }.max()! }
    #expect(minimum == fixture.scaling.min && maximum == fixture.scaling.max)
    func table(_ rows: [Int]) -> FeatureMatrix {
      FeatureMatrix(
        rows: rows.count, columns: width,
        values: rows.flatMap { row in
          (0..<width).map { Float((raw[row][$0] - minimum[$0]) / (maximum[$0] - minimum[$0])) }
        })
    }

    let expected = try #require(fixture.models.first { $0.name == "logistic_regression" })
    let model = LogisticRegression()
    try model.fit(table(fixture.trainIndices), fixture.trainIndices.map { labels[$0] })
    #expect(model.report?.converged == true)
    let sklearn = try #require(expected.coefficients) + [try #require(expected.intercept)]
    for (ours, theirs) in zip(model.coefficients + [model.intercept], sklearn) {
      #expect(abs(ours - theirs) <= 1e-5 * abs(theirs) + 1e-7)
    }
    let probabilities = try model.predictProbability(table(fixture.testIndices))
    let auc = try ROCCurve(labels: fixture.testIndices.map { labels[$0] }, scores: probabilities)
      .auc
    #expect(abs(auc - expected.aucTest) < 0.002)
  }
}
