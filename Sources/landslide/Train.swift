import ArgumentParser
import Configuration
import Distributed
import Foundation
import GeoData
import TensorEngine
import Training

/// `landslide train`: the ensemble end to end, from a config to checkpoints and metrics.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train the susceptibility and density networks, join them, and score the test split.",
    discussion: """
      Stages, in order: susceptibility; density on cells with landslides against \
      log(1 + density); the same cells on the original scale; all cells; the joined \
      ensemble (hazard = probability × density) fine-tuning the density. Each stage stops \
      early on its validation loss and keeps the weights of its minimum.

      SIGTERM or SIGUSR1 stop training after the current step on every rank with a \
      checkpoint and exit code 75; `--resume auto` continues from it.

      RUN-DIR receives metrics.jsonl (one JSON line per stage and epoch), \
      checkpoints/final.safetensors, test/ (the test split's labels and predictions as \
      .npy in the paper's layouts) and metrics.json (test metrics). A synthetic study \
      area is generated and prepared under --data (default RUN-DIR/data) on first use \
      and reused afterwards.
      """)

  @Option(help: "Run config (YAML).")
  var config: String

  @OptionGroup var overrides: ConfigOverrides

  @Option(help: "Directory for everything this run writes.")
  var runDir: String

  @Option(help: "Directory of the study area and its shards (default: RUN-DIR/data).")
  var data: String?

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  @Option(
    help: ArgumentHelp(
      "Continue from a checkpoint: `auto` (the newest valid one in RUN-DIR/checkpoints, if any) or a path.",
      valueName: "auto|path"))
  var resume: String?

  @Flag(help: "Resume from a checkpoint even if it was made with a different config.")
  var force = false

  func run() throws {
    try runOnRanks(train)
  }

  private func train(_ world: Communicator?) throws {
    ThreadPool.shared.threadCount = threads
    let rank = world?.rank ?? 0
    let say: (String) -> Void = { if rank == 0 { print($0) } }
    let settings = try LandslideConfig.load(file: config, overrides: overrides.values)
    if resume == nil { try CheckpointFiles.refuseFreshStart(in: path("checkpoints")) }
    // Rank 0 generates and prepares the data; the others then find it ready.
    if rank == 0 {
      try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
      _ = try StudyData.ensure(settings, in: data ?? path("data"), log: say)
    }
    try world?.barrier()
    let study = try StudyData.ensure(settings, in: data ?? path("data"), log: say)
    let shards = try ShardSet(directory: study.shards)
    let trainer = try EnsembleTrainer(
      config: settings, shards: shards, staticCount: study.manifest.staticPredictors.count,
      metricsPath: path("metrics.jsonl"), communicator: world, log: say)
    trainer.checkpointDirectory = path("checkpoints")
    trainer.configHash = try configHash()
    if let resume {
      if let checkpoint = CheckpointFiles.toResume(resume, in: path("checkpoints"), warn: warn) {
        try trainer.resume(from: checkpoint, force: force)
      } else {
        say("no checkpoint in \(path("checkpoints")); starting afresh")
      }
    }
    let clock = ContinuousClock()
    let start = clock.now
    try trainer.train()
    guard rank == 0 else { return }
    let checkpoints = path("checkpoints")
    try FileManager.default.createDirectory(
      atPath: checkpoints, withIntermediateDirectories: true)
    let checkpoint = (checkpoints as NSString).appendingPathComponent("final.safetensors")
    try EnsembleCheckpoint.write(trainer.ensemble, to: checkpoint)
    print(
      "trained in \(Int((clock.now - start).components.seconds)) s on \(world?.size ?? 1) rank(s); "
        + "checkpoint \(checkpoint)")

    let test = try SplitPredictions(
      trainer.ensemble, shards: shards, side: .test, study: study.study,
      batchSize: settings.training.batchSize)
    try test.write(to: path("test"))
    print("test predictions in \(path("test"))")
    // Undefined metrics (e.g. a density network that predicts one value everywhere) are
    // reported, not fatal: the trained weights are already safe.
    let metrics: [String: Double]
    do {
      metrics = try test.metrics()
    } catch {
      FileHandle.standardError.write(Data("warning: no test metrics: \(error)\n".utf8))
      return
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(metrics), to: path("metrics.json"))
    print("test split (\(test.labels.count) cells): " + Self.headline(metrics))
    print("metrics in \(path("metrics.json"))")
  }

  /// The figures a reader looks for first, with the oracle's beside them when known.
  static func headline(_ metrics: [String: Double]) -> String {
    func value(_ key: String) -> String {
      metrics[key].map { String(format: "%.3f", $0) } ?? "–"
    }
    var line =
      "AUC \(value("auc")), F1 \(value("f1")), IoU \(value("iou")), "
      + "density R (positive cells) \(value("pearson_r_positive")), MAE \(value("mae"))"
    if metrics["oracle_auc"] != nil {
      line +=
        "; oracle AUC \(value("oracle_auc")), oracle R (positive cells) "
        + value("oracle_pearson_r_positive")
    }
    return line
  }

  /// A hash of the config file's text and the overrides, in order.
  private func configHash() throws -> String {
    ConfigHash.of(
      text: try String(contentsOfFile: config, encoding: .utf8), overrides: overrides.values)
  }

  private func path(_ name: String) -> String {
    (runDir as NSString).appendingPathComponent(name)
  }
}
