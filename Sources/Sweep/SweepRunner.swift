import Classical
import Configuration
import Distributed
import Foundation
import GeoData
import TensorEngine
import Training

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a sweep on the job's ranks: they split into groups, each group trains one trial
/// at a time on its own communicator (the ensemble with the data-parallel trainer, or a
/// classical model with its rank-parallel fit), and rank 0 (which also trains, in group 0)
/// coordinates from a thread. Every trial's folder holds its metrics, checkpoints (or
/// fitted model), log and result; a re-run skips trials that ended and resumes the others
/// (an ensemble trial from its newest checkpoint, a classical one from its first fold).
public final class SweepRunner {
  public let config: SweepConfig
  public let trials: [Trial]
  public let groups: Int
  public let groupSize: Int
  let layout: SweepLayout
  let dataDirectory: String
  /// `--data` as given: a classical sweep reads that study instead of its config's.
  let explicitData: String?
  let world: Communicator?
  let retryFailed: Bool
  private let baseText: String
  var rank: Int { world?.rank ?? 0 }

  /// Checks everything that can be checked before training: the groups fit the job, every
  /// trial's run config is valid and its batch splits over a group, and the run directory
  /// holds no other sweep. Every rank checks alike, so every rank fails alike.
  /// - Parameter ranks: the job size to check against (default: the world's); a dry run
  ///   on a login node names the size of the job it plans.
  public init(
    config: SweepConfig, runDirectory: String, dataDirectory: String?, world: Communicator?,
    retryFailed: Bool, ranks: Int? = nil
  ) throws(SweepError) {
    self.config = config
    self.world = world
    self.retryFailed = retryFailed
    layout = SweepLayout(runDirectory: runDirectory)
    explicitData = dataDirectory
    self.dataDirectory = dataDirectory ?? (runDirectory as NSString).appendingPathComponent("data")
    let ranks = ranks ?? world?.size ?? 1
    groups = config.groups ?? ranks
    guard groups <= ranks else {
      throw SweepError(
        "\(config.file): groups: \(groups) groups need at least \(groups) ranks; this job has "
          + "\(ranks) (start it with more ranks, or lower groups)")
    }
    guard ranks % groups == 0 else {
      throw SweepError(
        "\(config.file): groups: \(ranks) ranks cannot form \(groups) equal groups; use a "
          + "divisor of \(ranks)")
    }
    groupSize = ranks / groups
    trials = SearchSpace.trials(config)
    for trial in trials {
      func load<Settings>(_ read: (String, [String]) throws -> Settings) throws(SweepError)
        -> Settings
      {
        do { return try read(config.base, config.baseOverrides + trial.overrides) } catch {
          throw SweepError("\(config.file): trial \(trial.index) (\(trial.label)): \(error)")
        }
      }
      switch config.system {
      case .classical:
        let settings = try load(ClassicalConfig.load(file:overrides:))
        guard settings.models.contains(where: { $0.name == config.model }) else {
          throw SweepError(
            "\(config.file): model: \(config.base) configures no model '\(config.model ?? "")'; "
              + "it has \(settings.models.map(\.name).joined(separator: ", "))")
        }
      case .ensemble:
        let settings = try load(LandslideConfig.load(file:overrides:))
        guard settings.training.batchSize % groupSize == 0 else {
          throw SweepError(
            "\(config.file): trial \(trial.index) (\(trial.label)): training.batch_size "
              + "\(settings.training.batchSize) is a group's global batch and must be a multiple "
              + "of its \(groupSize) ranks (\(ranks) ranks in \(groups) groups)")
        }
      }
    }
    do {
      baseText = try String(contentsOfFile: config.base, encoding: .utf8)
    } catch {
      throw SweepError("\(config.base): cannot read the run config (\(error.localizedDescription))")
    }
    try checkSamePlan()
  }

  /// Runs the trials this job can; returns whether it stopped on request (SIGTERM or
  /// SIGUSR1) with trials left to resume. Throws only what ends the job.
  public func run(log: @escaping (String) -> Void) throws(SweepError) -> Bool {
    let say: (String) -> Void = rank == 0 ? log : { _ in }
    if rank == 0 { try recordPlan() }
    let data = try config.system == .ensemble ? prepareEnsemble(say) : prepareClassical(say)
    let group = try collective("splitting the job into groups") { () throws(MPIError) in
      try world?.split(color: rank / groupSize, key: rank)
    }
    let leader = (group?.rank ?? 0) == 0

    var coordinator: SweepCoordinator?
    var serverDone: DispatchSemaphore?
    if rank == 0 {
      let local = try SweepCoordinator(
        config: config, trials: trials, layout: layout, groups: groups, retryFailed: retryFailed,
        log: say)
      coordinator = local
      if let world, groups > 1 {
        serverDone = local.serveInBackground(
          world, groupSize: groupSize, name: "sweep coordinator")
      }
    }
    let dispatch: TrialDispatch? =
      !leader ? nil : coordinator.map { .local($0, group: 0) } ?? world.map { .remote($0) }

    var interrupted = false
    while true {
      var next: [Int32] = [-1]
      if let dispatch { next[0] = Int32(try dispatch.next() ?? -1) }
      try collective("sharing the next trial") { () throws(MPIError) in
        try group?.broadcast(&next)
      }
      guard next[0] >= 0 else { break }
      let trial = trials[Int(next[0])]
      let outcome =
        switch data {
        case .ensemble(let shards, let staticCount):
          try runTrial(
            trial, group: group, shards: shards, staticCount: staticCount, dispatch: dispatch)
        case .classical(let tables):
          try runClassicalTrial(trial, group: group, tables: tables)
        }
      interrupted = interrupted || outcome.status == .interrupted
      try dispatch?.finished(trial: trial.index, outcome)
    }
    serverDone?.wait()
    if let coordinator {
      let summary = try coordinator.conclude()
      say(Self.describe(summary, in: layout.sweep))
    }
    var stopped: [Int32] = [interrupted || StopRequest.isPending ? 1 : 0]
    try collective("agreeing on the sweep's end") { () throws(MPIError) in
      try world?.allReduce(&stopped, .max)
    }
    return stopped[0] != 0
  }

  /// What every trial reads, made once per run.
  enum TrialData {
    /// The prepared study's shards and its static predictor count.
    case ensemble(ShardSet, staticCount: Int)
    /// The inventory's training and test tables.
    case classical(InventoryTables)
  }

  /// Rank 0 prepares the study (synthesising it on first use); the others then find it.
  private func prepareEnsemble(_ say: (String) -> Void) throws(SweepError) -> TrialData {
    let settings: LandslideConfig
    do {
      settings = try LandslideConfig.load(file: config.base, overrides: config.baseOverrides)
    } catch {
      throw SweepError("\(config.file): base: \(error)")
    }
    if rank == 0 {
      _ = try wrapping { () throws(TrainingError) in
        try StudyData.ensure(settings, in: dataDirectory, log: say)
      }
    }
    try collective("barrier") { () throws(MPIError) in try world?.barrier() }
    let study = try wrapping { () throws(TrainingError) in
      try StudyData.ensure(settings, in: dataDirectory, log: { _ in })
    }
    do {
      return .ensemble(
        try ShardSet(directory: study.shards),
        staticCount: study.manifest.staticPredictors.count)
    } catch {
      throw SweepError("\(study.shards): \(error)")
    }
  }

  /// Trains one trial on this rank's group and returns how it ended (the leader's view).
  /// Failures every rank of the group shares become a failed outcome; a failure on some
  /// ranks only is thrown, to end the job, since the others may wait in a collective
  /// forever (the trial stays `running`, and a later run counts it as a crash).
  private func runTrial(
    _ trial: Trial, group: Communicator?, shards: ShardSet, staticCount: Int,
    dispatch: TrialDispatch?
  ) throws(SweepError) -> TrialOutcome {
    let leader = (group?.rank ?? 0) == 0
    let ranks = group?.size ?? 1
    let directory = layout.trial(trial.index)
    let checkpoints = layout.checkpoints(trial.index)
    let start = ContinuousClock.now
    var outcome = TrialOutcome(status: .completed, epochs: 0, seconds: 0)
    var trainer: EnsembleTrainer?
    func finish(_ status: TrialOutcome.Status, error: String? = nil) -> TrialOutcome {
      let records = (trainer?.records ?? []).filter { $0.stage == config.stage }
      outcome.status = status
      outcome.error = error
      outcome.epochs = records.count
      outcome.bestValidationLoss = SweepCoordinator.best(.validationLoss, records[...])
      outcome.bestValidationAUC = SweepCoordinator.best(.validationAUC, records[...])
      outcome.seconds = (ContinuousClock.now - start).seconds
      return outcome
    }

    // The leader makes the folder and picks the checkpoint to resume from; the group
    // agrees before any rank builds a trainer.
    var resumeStep: [Int64] = [-1]
    var setupError: String?
    let logFile = leader ? TrialLog(path: layout.log(trial.index)) : nil
    if leader {
      do {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true)
        if let checkpoint = CheckpointFiles.newestValid(
          in: checkpoints, warn: { logFile?.write("warning: \($0)") })
        {
          resumeStep[0] = Int64(CheckpointFiles.stepNumber(of: checkpoint) ?? -1)
        }
      } catch {
        setupError = "\(directory): \(error.localizedDescription)"
      }
    }
    try collective("sharing the checkpoint to resume") { () throws(MPIError) in
      try group?.broadcast(&resumeStep)
    }
    if setupError == nil {
      do {
        let settings = try LandslideConfig.load(
          file: config.base, overrides: config.baseOverrides + trial.overrides)
        let training = try EnsembleTrainer(
          config: settings, shards: shards, staticCount: staticCount,
          metricsPath: layout.metrics(trial.index), communicator: ranks > 1 ? group : nil,
          log: { logFile?.write($0) })
        trainer = training
        training.checkpointDirectory = checkpoints
        training.configHash = ConfigHash.of(
          text: baseText, overrides: config.baseOverrides + trial.overrides)
        if resumeStep[0] >= 0 {
          try training.resume(
            from: CheckpointFiles.step(Int(resumeStep[0]), in: checkpoints))
        }
      } catch {
        setupError = "\(error)"
      }
    }
    var failedRanks: [Int32] = [setupError == nil ? 0 : 1]
    try collective("agreeing on the trial's set-up") { () throws(MPIError) in
      try group?.allReduce(&failedRanks, .sum)
    }
    guard failedRanks[0] == 0, let trainer else {
      if let setupError, !leader {
        FileHandle.standardError.write(
          Data("rank \(rank): trial \(trial.index): \(setupError)\n".utf8))
      }
      logFile?.write("error: \(setupError ?? "set-up failed on other ranks of the group")")
      return finish(
        .failed,
        error: setupError ?? "set-up failed on \(failedRanks[0]) other rank(s) of the group")
    }

    // Successive halving: the leader reports each epoch of the sweep's stage and the
    // group follows rank 0's answer.
    var unreachable: SweepError?
    let stage = config.stage
    let metric = config.metric
    let rank = rank
    let lastEpoch = TrainingStage(rawValue: stage).map(trainer.maxEpochs) ?? 0
    trainer.epochEnded = { [unowned trainer] record throws(TrainingError) in
      guard record.stage == stage else { return true }
      let records = trainer.records.filter { $0.stage == stage }
      var goesOn: [Int32] = [1]
      do {
        if let dispatch {
          let best = SweepCoordinator.best(metric, records[...]) ?? .nan
          goesOn[0] =
            try dispatch.report(
              trial: trial.index, epoch: record.epoch, value: best,
              judged: record.epoch < lastEpoch) ? 1 : 0
        }
        try group?.broadcast(&goesOn)
      } catch let error as SweepError {
        unreachable = error
        throw TrainingError(error.description)
      } catch {
        unreachable = SweepError("rank \(rank): trial \(trial.index): \(error)")
        throw TrainingError("\(error)")
      }
      return goesOn[0] != 0
    }
    do {
      try trainer.train()
    } catch  where error.isInterruption {
      outcome.checkpoint = trainer.latestCheckpoint
      return finish(.interrupted)
    } catch  where error.isPruned {
      outcome.checkpoint = trainer.latestCheckpoint
      return finish(.pruned)
    } catch  where error.isOnEveryRank || (ranks == 1 && unreachable == nil) {
      logFile?.write("error: \(error)")
      return finish(.failed, error: error.description)
    } catch {
      throw unreachable
        ?? SweepError(
          "rank \(rank): trial \(trial.index) (\(trial.label)) failed on this rank alone, so "
            + "the group cannot go on together: \(error). Running the sweep again resumes it; "
            + "after \(config.maxCrashes) such runs it is recorded as failed.")
    }
    if leader {
      let final = (checkpoints as NSString).appendingPathComponent("final.safetensors")
      do {
        try EnsembleCheckpoint.write(trainer.ensemble, to: final)
        outcome.checkpoint = final
      } catch {
        logFile?.write("error: \(error)")
        return finish(.failed, error: "\(error)")
      }
    }
    return finish(.completed)
  }

  /// What the run directory's trials mean: a re-run must make the same trials from the
  /// same base, or their results and checkpoints would be mixed with another sweep's.
  /// `groups`, comments and the order of unrelated keys may change between runs.
  private var plan: Plan {
    Plan(
      base: ConfigHash.of(text: baseText, overrides: config.baseOverrides),
      trials: trials.map(\.overrides))
  }

  private struct Plan: Codable, Equatable {
    let base: String
    let trials: [[String]]
  }

  private func checkSamePlan() throws(SweepError) {
    guard let data = FileManager.default.contents(atPath: layout.plan) else { return }
    let recorded: Plan
    do { recorded = try JSONDecoder().decode(Plan.self, from: data) } catch {
      throw SweepError(
        "\(layout.plan): unreadable (\(error)); it records which sweep this run directory holds")
    }
    guard recorded == plan else {
      let what =
        recorded.base != plan.base
        ? "its base run config (\(config.base)) or `set` differ"
        : "its search space makes other trials"
      throw SweepError(
        "\(layout.sweep) holds another sweep: \(what) than when it started (see \(layout.plan)); "
          + "use a new --run-dir")
    }
  }

  private func recordPlan() throws(SweepError) {
    guard !FileManager.default.fileExists(atPath: layout.plan) else { return }
    do {
      try FileManager.default.createDirectory(
        atPath: layout.sweep, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try AtomicFile.write(try encoder.encode(plan), to: layout.plan)
    } catch {
      throw SweepError("\(layout.plan): cannot record the sweep's plan (\(error))")
    }
  }

  static func describe(_ summary: ResultsTable.Summary, in directory: String) -> String {
    let counts = summary.counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
      .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    var text = "sweep: \(summary.trials) trials (\(counts))"
    if let best = summary.best, let score = best.outcome.score(summary.metric) {
      text +=
        "; best: trial \(best.trial.index) (\(best.trial.label)), \(summary.metric.rawValue) "
        + String(format: "%.4f", score)
    }
    return text + "\nresults in \(directory)/results.csv, results.jsonl and summary.json"
  }

  func wrapping<Value>(_ body: () throws(TrainingError) -> Value) throws(SweepError)
    -> Value
  {
    do { return try body() } catch { throw SweepError(error.description) }
  }

  func collective<Value>(_ what: String, _ body: () throws(MPIError) -> Value)
    throws(SweepError) -> Value
  {
    do { return try body() } catch { throw SweepError("rank \(rank): \(what): \(error)") }
  }
}

/// A trial's own log (its trainer's lines), appended and flushed line by line.
final class TrialLog {
  private let handle: FileHandle?

  init(path: String) {
    let folder = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    if !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    handle = FileHandle(forWritingAtPath: path)
    _ = try? handle?.seekToEnd()
  }

  deinit { try? handle?.close() }

  func write(_ line: String) {
    try? handle?.write(contentsOf: Data((line + "\n").utf8))
  }
}
