import ArgumentParser
import Classical
import Configuration
import Foundation
import Rainfall
import TensorEngine

/// `landslide rainfall bench`: one XGBoost fit of the seed's best configuration on the
/// SMOTE-balanced training rows of an event set, timed, never asserted;
/// tools/bench/rainfall_compare.py runs Python's xgboost on the same rows beside it.
struct RainfallBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time XGBoost fits of the seed's best configuration on an event set's rows.",
    discussion: """
      Takes the first repetition's 80 % of --events (split as `rainfall train` splits it), \
      min-max scales it, balances it with SMOTE (k = 5) and writes it to OUT/x.npy and \
      y.npy; also OUT/events_x.npy, events_y.npy, events_regions.npy and train_rows.npy \
      (the raw table and the 80 %) for the protocol's peer. Then fits XGBoost (200 trees, \
      depth 40, learning rate 0.01, subsample and colsample_bytree 0.8, hist) --fits \
      times and prints one JSON object with the fit times.
      """)

  @Option(help: "A directory of `rainfall events` (events.safetensors).")
  var events: String

  @Option(help: "Directory for the .npy tables.")
  var out: String

  @Option(help: "Timed fits.")
  var fits = 3

  @Option(help: "Compute threads (XGBoost's nthread).")
  var threads: Int = ComputeThreads.available

  func run() throws {
    ThreadPool.shared.threadCount = threads
    let set = try EventSet.read((events as NSString).appendingPathComponent(EventSet.fileName))
    let (repetition, _) = ThresholdTraining.repetition(set, testShare: 0.2, seed: 1)
    let train = set.table.selecting(rows: repetition.train)
    let encoder = FeatureEncoder(fittedOn: train, oneHot: false)
    let (x, y, _) = try SMOTE(neighbours: 5, seed: 1).resample(
      try encoder.encode(train.features, source: "training rows"), train.labels,
      codeColumns: ThresholdTraining.codeColumns(encoder))
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    func save(_ name: String, _ shape: [Int], _ values: [Float]) throws {
      try NumPyArray(shape: shape, values: values).write(
        to: (out as NSString).appendingPathComponent(name))
    }
    try save("x.npy", [x.rows, x.columns], x.values)
    try save("y.npy", [y.count], y)
    try save("events_x.npy", [set.table.rows, set.table.columns.count], set.table.features.values)
    try save("events_y.npy", [set.table.rows], set.table.labels)
    try save("events_regions.npy", [set.table.rows], set.regions.map(Float.init))
    try save("train_rows.npy", [repetition.train.count], repetition.train.map(Float.init))
    var settings = BoostedTrees.Settings()
    (settings.trees, settings.maxDepth, settings.learningRate) = (200, 40, 0.01)
    (settings.subsample, settings.columnSample, settings.seed) = (0.8, 0.8, 1)
    var seconds: [Double] = []
    for _ in 0..<fits {
      let model = BoostedTrees(settings: settings)
      let started = ContinuousClock.now
      try model.fit(x, y)
      seconds.append((ContinuousClock.now - started).seconds)
    }
    let record: [String: Any] = [
      "rows": x.rows, "columns": x.columns, "threads": threads, "xgboost": BoostedTrees.version,
      "fit_seconds": seconds,
    ]
    let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
}
