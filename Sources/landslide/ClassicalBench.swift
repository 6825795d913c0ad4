import ArgumentParser
import Classical
import Configuration
import Distributed
import Evaluation
import Foundation
import TensorEngine

/// `landslide classical bench`: fit and predict times and test AUC of one classical model
/// on a synthetic table, printed, never asserted; tools/bench/classical_compare.py runs it
/// beside scikit-learn on the same .npy files. Run it on a release build.
struct ClassicalBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time one classical model's fit and prediction on a synthetic table.",
    discussion: """
      The table is ROWS × COLUMNS Float32 in [0, 1) with 0/1 labels drawn from a fixed \
      logistic process, or x.npy, y.npy, q.npy and qy.npy from --table. Prediction covers \
      QUERIES rows: the query table holds at most 1,000,000 distinct rows, and larger \
      counts go over it again in passes, so memory stays that of 1 M rows; the AUC is that \
      of the distinct query rows.
      """)

  enum Model: String, CaseIterable, ExpressibleByArgument {
    case knn
    case randomForest = "random_forest"
    case logisticRegression = "logistic_regression"
    case mlp
  }

  @Option(help: "knn, random_forest, logistic_regression or mlp.")
  var model: Model

  @Option(help: "Training rows (ignored with --table).")
  var rows = 120_000

  @Option(help: "Query rows predicted (default: 10,000,000 for random_forest, else 1,000,000).")
  var queries: Int?

  @Option(help: "Feature columns (ignored with --table).")
  var columns = 21

  @Option(help: "KNN's k (brute force, Euclidean, uniform weights).")
  var neighbours = 100

  @Option(help: "The forest's trees (max_features sqrt, bootstrap).")
  var trees = 100

  @Option(help: "The MLP's hidden layer widths.")
  var hidden = "64,32"

  @Option(help: "The MLP's epochs, all run (batch 256, Adam 1e-3, 10 % held out).")
  var epochs = 20

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads = ComputeThreads.available

  @Option(help: "Seed of the synthetic table, the forest and the network.")
  var seed: UInt64 = 1

  @Option(
    help: ArgumentHelp(
      "A directory holding x.npy [rows, columns], y.npy, q.npy [queries, columns] and qy.npy (or the path of one of them).",
      valueName: "path"))
  var table: String?

  @Flag(help: "Print one JSON object.")
  var json = false

  var hiddenWidths: [Int] { hidden.split(separator: ",").compactMap { Int($0) } }

  func validate() throws {
    guard rows >= 2, queries ?? 1 >= 1, columns >= 1, neighbours >= 1, trees >= 1, epochs >= 1,
      threads >= 1
    else {
      throw ValidationError(
        "--rows must be at least 2; --queries, --columns, --neighbours, --trees, --epochs and --threads positive"
      )
    }
    guard !hiddenWidths.isEmpty, hiddenWidths.allSatisfy({ $0 >= 1 }),
      hiddenWidths.count == hidden.split(separator: ",").count
    else {
      throw ValidationError("--hidden: expected positive widths such as 64,32, found '\(hidden)'")
    }
  }

  func run() throws { try runOnRanks(measure) }

  /// Under mpirun or srun KNN shards its references and the forest splits its trees over
  /// the ranks, as in `classical train`; rank 0 reports.
  private func measure(_ world: Communicator?) throws {
    ThreadPool.shared.threadCount = threads
    let queryCount = queries ?? (model == .randomForest ? 10_000_000 : 1_000_000)
    let distinct = min(queryCount, BenchTable.distinctQueryLimit)
    let data =
      try table.map { try BenchTable.read($0).limitingQueries(to: distinct) }
      ?? BenchTable.synthetic(rows: rows, queries: distinct, columns: columns, seed: seed)
    let classifier = makeModel(world)

    let clock = ContinuousClock()
    var start = clock.now
    try classifier.fit(data.x, data.y)
    let fitSeconds = (clock.now - start).seconds

    // The last, partial pass is cut before the clock starts.
    let remainder = queryCount % data.queries.rows
    let tail = data.queries.selecting(rows: 0..<remainder)
    start = clock.now
    let probabilities = try classifier.predictProbability(data.queries)
    for _ in 1..<(queryCount / data.queries.rows) {
      _ = try classifier.predictProbability(data.queries)
    }
    if remainder > 0 { _ = try classifier.predictProbability(tail) }
    let predictSeconds = (clock.now - start).seconds
    let auc = try ROCCurve(labels: data.queryLabels, scores: probabilities).auc

    let compute = ComputeReport.current
    let result = ClassicalBenchResult(
      model: model.rawValue, rows: data.x.rows, queries: queryCount, columns: data.x.columns,
      threads: threads, fitSeconds: fitSeconds.rounded(to: 6),
      predictSeconds: predictSeconds.rounded(to: 6), auc: auc.rounded(to: 6),
      blasCore: compute.blasCore, isa: compute.isa)
    if world?.rank ?? 0 == 0 { print(json ? Bench.encodedLine(result) : result.line) }
  }

  /// The model with the benchmark's hyperparameters; the rest are the config's defaults.
  private func makeModel(_ world: Communicator?) -> any Classifier {
    switch model {
    case .knn:
      return NearestNeighbours(
        settings: .init(neighbours: neighbours, p: 2, weights: .uniform), communicator: world)
    case .randomForest:
      return RandomForest(
        settings: .init(trees: trees, maxFeatures: .sqrt, seed: seed), communicator: world)
    case .logisticRegression:
      return LogisticRegression()
    case .mlp:
      // Patience of every epoch: the network trains for exactly `epochs`.
      var training = TrainingConfig.classicalDefaults
      training.seed = Int(truncatingIfNeeded: seed & 0x7FFF_FFFF)
      training.maxEpochs = epochs
      training.patience = epochs
      return NeuralNetwork(
        settings: .init(name: "mlp", hidden: hiddenWidths), training: training)
    }
  }
}

/// The benchmark's training rows and query rows, each with its 0/1 labels.
struct BenchTable {
  var x: FeatureMatrix
  var y: [Float]
  var queries: FeatureMatrix
  var queryLabels: [Float]

  /// Distinct query rows held at once (84 MB at 21 columns).
  static let distinctQueryLimit = 1_000_000

  /// The first `count` query rows, when there are more.
  func limitingQueries(to count: Int) -> BenchTable {
    guard count < queries.rows else { return self }
    var limited = self
    limited.queries = queries.selecting(rows: 0..<count)
    limited.queryLabels = Array(queryLabels.prefix(count))
    return limited
  }

  /// Reads x.npy, y.npy, q.npy and qy.npy from `path`, a directory or one of those files.
  static func read(_ path: String) throws -> BenchTable {
    let directory = path.hasSuffix(".npy") ? (path as NSString).deletingLastPathComponent : path
    func array(_ name: String) throws(NumPyError) -> NumPyArray {
      try NumPyArray.read(path: (directory as NSString).appendingPathComponent(name))
    }
    let (x, y, q, qy) = (
      try array("x.npy"), try array("y.npy"), try array("q.npy"), try array("qy.npy")
    )
    guard x.shape.count == 2, q.shape.count == 2, q.shape[1] == x.shape[1],
      y.values.count == x.shape[0], qy.values.count == q.shape[0], q.shape[0] > 0
    else {
      throw ClassicalError(
        directory,
        "expected x.npy [rows, columns], y.npy [rows], q.npy [queries, columns] and qy.npy "
          + "[queries] with queries > 0; found \(x.shape), \(y.shape), \(q.shape), \(qy.shape)")
    }
    return BenchTable(
      x: FeatureMatrix(rows: x.shape[0], columns: x.shape[1], values: x.values), y: y.values,
      queries: FeatureMatrix(rows: q.shape[0], columns: q.shape[1], values: q.values),
      queryLabels: qy.values)
  }

  /// Rows uniform in [0, 1)^columns labelled 1 with probability σ(−1 + Σⱼ wⱼ (xⱼ − ½)),
  /// wⱼ = ±4/√(j+1) alternating in sign (the process classical_compare.py draws from).
  static func synthetic(rows: Int, queries: Int, columns: Int, seed: UInt64) -> BenchTable {
    var random = RandomGenerator(seed: seed)
    let (x, y) = logisticRows(rows, columns: columns, random: &random)
    let (q, qy) = logisticRows(queries, columns: columns, random: &random)
    return BenchTable(x: x, y: y, queries: q, queryLabels: qy)
  }

  private static func logisticRows(_ rows: Int, columns: Int, random: inout RandomGenerator)
    -> (FeatureMatrix, [Float])
  {
    let weights = (0..<columns).map { Float($0 % 2 == 0 ? 4 : -4) / Float($0 + 1).squareRoot() }
    var values = [Float](repeating: 0, count: rows * columns)
    var labels = [Float](repeating: 0, count: rows)
    values.withUnsafeMutableBufferPointer { values in
      for row in 0..<rows {
        var logit: Float = -1
        for column in 0..<columns {
          let value = random.nextUniform()
          values[row * columns + column] = value
          logit += weights[column] * (value - 0.5)
        }
        labels[row] = random.nextUniform() < 1 / (1 + exp(-logit)) ? 1 : 0
      }
    }
    return (FeatureMatrix(rows: rows, columns: columns, values: values), labels)
  }
}

/// One model's figures, with the documented `--json` keys.
struct ClassicalBenchResult: Encodable {
  let model: String
  let rows: Int
  let queries: Int
  let columns: Int
  let threads: Int
  let fitSeconds: Double
  let predictSeconds: Double
  let auc: Double
  /// The OpenBLAS kernel and our kernels' vector instructions, as `bench --json` has them.
  let blasCore: String
  let isa: String

  enum CodingKeys: String, CodingKey {
    case model, rows, queries, columns, threads
    case fitSeconds = "fit_seconds"
    case predictSeconds = "predict_seconds"
    case auc
    case blasCore = "blas_core"
    case isa
  }

  var line: String {
    "\(model): fit \(fitSeconds) s on \(rows) rows × \(columns) columns, predict "
      + "\(predictSeconds) s for \(queries) queries "
      + "(\(Int((Double(queries) / predictSeconds).rounded())) rows/s), test AUC \(auc); "
      + "\(threads) thread(s), OpenBLAS \(blasCore), \(isa)"
  }
}
