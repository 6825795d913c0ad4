import ArgumentParser
import Configuration
import Distributed
import Foundation
import TensorEngine
import Training

/// `landslide waveform train`: one variant of the transformer, with checkpoints and test
/// metrics.
struct WaveformTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train one variant of the full-waveform transformer and score the test split.",
    discussion: """
      Variants: mod1 (waveform), mod2 (PGV), mod3 (waveform + static), mod4 (PGV + static), \
      arias (Arias intensity + static), lowpass (waveform low-passed at model.low_pass_hz + \
      static). PGV and Arias intensity are log-scaled, standardised and appended to the \
      static covariates.

      Under mpirun or srun the ranks share each global batch and average gradients. SIGTERM \
      or SIGUSR1 stop training after the current step with a checkpoint and exit code 75; \
      `--resume auto` continues from it.

      RUN-DIR receives metrics.jsonl (one JSON line per epoch), checkpoints/ (step \
      checkpoints, best.safetensors, final.safetensors: the weights of the minimum \
      validation loss) and metrics.json (test AUC, accuracy, IoU, F1).
      """)

  @OptionGroup var options: WaveformDataOptions

  @Option(help: "mod1, mod2, mod3, mod4, arias or lowpass.")
  var variant: WaveformVariant

  @Option(help: "Directory for everything this run writes.")
  var runDir: String

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
    ThreadPool.shared.threadCount = options.threads
    let rank = world?.rank ?? 0
    let say: (String) -> Void = { if rank == 0 { print($0) } }
    let checkpoints = path("checkpoints")
    if resume == nil { try CheckpointFiles.refuseFreshStart(in: checkpoints) }
    let (config, data, split) = try options.load()
    if rank == 0 {
      try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
    }
    let trainer = try WaveformTrainer(
      config: config, variant: variant, data: data, split: split,
      metricsPath: path("metrics.jsonl"), communicator: world, log: say)
    trainer.checkpointDirectory = checkpoints
    trainer.configHash = try options.configHash()
    if let resume {
      if let checkpoint = CheckpointFiles.toResume(resume, in: checkpoints, warn: warn) {
        try trainer.resume(from: checkpoint, force: force)
      } else {
        say("no checkpoint in \(checkpoints); starting afresh")
      }
    }
    let clock = ContinuousClock()
    let start = clock.now
    try trainer.train()
    let seconds = (clock.now - start).seconds
    let result = try WaveformBenchmark.score(trainer, seconds: seconds)
    guard rank == 0 else { return }
    let final = (checkpoints as NSString).appendingPathComponent("final.safetensors")
    try trainer.write(to: final, metadata: ["config_hash": trainer.configHash])
    let metrics: [String: Double] = [
      "auc": result.auc, "accuracy": result.accuracy, "iou": result.iou, "f1": result.f1,
    ]
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(metrics), to: path("metrics.json"))
    print(
      "trained \(variant.rawValue) in \(Int(seconds)) s on \(world?.size ?? 1) rank(s); "
        + "checkpoint \(final)")
    print(
      "test split (\(split.test.count) sites): "
        + String(
          format: "AUC %.3f, accuracy %.3f, IoU %.3f, F1 %.3f", result.auc, result.accuracy,
          result.iou, result.f1))
  }

  private func path(_ name: String) -> String {
    (runDir as NSString).appendingPathComponent(name)
  }
}

extension WaveformVariant: ExpressibleByArgument {}
