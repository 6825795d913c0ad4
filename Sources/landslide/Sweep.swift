import ArgumentParser
import Configuration
import Distributed
import Foundation
import Sweep
import TensorEngine
import Training

/// `landslide sweep`: many trainings of the ensemble, or fits of one classical model, over
/// a search space, shared out over groups of ranks.
struct Sweep: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search hyperparameters: train one trial per point of a grid or random space.",
    discussion: """
      The job's ranks split into `groups` groups; each trains one trial at a time with the \
      data-parallel trainer on its own ranks, and rank 0 (which trains in group 0) hands \
      trials to whichever group is free from a thread of its own. With \
      successive_halving, trials that rank low at epochs r, rη, rη², … are stopped.

      With `system: classical` (base: a classical config; see configs/sweep-classical.yaml) \
      a trial fits the sweep's `model` once per stratified fold of an inventory's training \
      table, ranks by the folds' mean AUC (validation_auc), then refits on the whole table, \
      reports its test AUC and saves it as trials/NNNN/model.safetensors.

      RUN-DIR/sweep/ receives results.csv and results.jsonl (one row per ended trial: \
      parameters, best validation loss and AUC, epochs, seconds, status, checkpoint), \
      summary.json (the best trial), and trials/NNNN/ with each trial's metrics.jsonl, \
      checkpoints and log. Trials that fail are recorded as failed and the sweep goes on.

      Running the same command again skips trials that ended (failed ones too, unless \
      --retry-failed) and resumes the others from their newest checkpoint. SIGTERM or \
      SIGUSR1 stop every group after a checkpoint; the job then exits 75.
      """)

  @Option(help: "Sweep config (YAML): base run config, search space, method, groups.")
  var config: String

  @Option(help: "Directory for everything the sweep writes.")
  var runDir: String

  @Option(
    help: ArgumentHelp(
      "Directory of the study area and its shards (default: RUN-DIR/data); for a classical "
        + "sweep, a study as `classical synth` writes it, read instead of the config's study."))
  var data: String?

  @Option(help: "Compute threads per rank (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  @Flag(help: "Train again the trials that failed in an earlier run.")
  var retryFailed = false

  @Flag(help: "Check the sweep and list its trials' overrides, then stop without training.")
  var dryRun = false

  @Option(help: "With --dry-run: the number of ranks the job will have (default: 1).")
  var ranks: Int?

  func run() throws {
    if let ranks {
      guard dryRun else { throw ValidationError("--ranks applies to --dry-run only") }
      guard ranks >= 1 else { throw ValidationError("--ranks must be at least 1") }
    }
    StopRequest.install()
    let world =
      MPIRuntime.isLaunchedByLauncher ? try MPIRuntime.initialize(concurrentThreads: true) : nil
    let rank = world?.rank ?? 0
    ComputeReport.log(rank: rank)
    ThreadPool.shared.threadCount = threads
    // Config and validation errors arise on every rank alike: rank 0 reports, all exit.
    let runner: SweepRunner
    do {
      runner = try SweepRunner(
        config: try SweepConfig.load(file: config), runDirectory: runDir, dataDirectory: data,
        world: world, retryFailed: retryFailed, ranks: dryRun ? ranks : nil)
    } catch {
      guard world != nil else { throw error }
      if rank == 0 { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
      MPIRuntime.finalize()
      throw ExitCode.failure
    }
    if rank == 0 {
      print(
        "sweep \(config): \(runner.trials.count) trials (\(runner.config.method.rawValue)) on "
          + "\(runner.groups) group(s) of \(runner.groupSize) rank(s)")
    }
    if dryRun {
      if rank == 0, runner.groups > runner.trials.count {
        print(
          "warning: \(runner.groups) groups for \(runner.trials.count) trials leave "
            + "\(runner.groups - runner.trials.count) idle; set `groups` in \(config)")
      }
      if rank == 0 {
        for trial in runner.trials {
          print(
            "trial \(trial.index): " + trial.overrides.map { "--set \($0)" }.joined(separator: " "))
        }
      }
      if world != nil { MPIRuntime.finalize() }
      return
    }
    let stopped: Bool
    do {
      stopped = try runner.run { print($0) }
    } catch {
      // A failure outside a trial may strand other ranks in a collective: end the job.
      guard let world, world.size > 1 else { throw error }
      FileHandle.standardError.write(Data("rank \(rank): error: \(error)\n".utf8))
      usleep(500_000)
      world.abort(code: 1)
    }
    if world != nil { MPIRuntime.finalize() }
    if stopped {
      if rank == 0 { print("sweep stopped on request; run the same command to resume it") }
      throw ExitCode(StopRequest.exitCode)
    }
  }
}
