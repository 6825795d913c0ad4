import Configuration
import Distributed
import Foundation
import GeoData
import TensorEngine
import Training

/// Runs a sweep on the job's ranks: they split into groups, each group trains one trial
/// at a time with the data-parallel trainer on its own communicator, and rank 0 (which
/// also trains, in group 0) coordinates from a thread. Every trial's folder holds its
/// metrics, checkpoints, log and result; a re-run skips trials that ended and resumes the
/// others from their newest checkpoint.
public final class SweepRunner {
  public let config: SweepConfig
  public let trials: [Trial]
  public let groups: Int
  public let groupSize: Int
  let layout: SweepLayout
  let dataDirectory: String
  let world: Communicator?
  let retryFailed: Bool
  private let baseText: String
  private var rank: Int { world?.rank ?? 0 }

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
      let settings: LandslideConfig
      do {
        settings = try LandslideConfig.load(
          file: config.base, overrides: config.baseOverrides + trial.overrides)
      } catch {
        throw SweepError("\(config.file): trial \(trial.index) (\(trial.label)): \(error)")
      }
      guard settings.training.batchSize % groupSize == 0 else {
        throw SweepError(
          "\(config.file): trial \(trial.index) (\(trial.label)): training.batch_size "
            + "\(settings.training.batchSize) is a group's global batch and must be a multiple of "
            + "its \(groupSize) ranks (\(ranks) ranks in \(groups) groups)")
      }
    }
    do {
      baseText = try String(contentsOfFile: config.base, encoding: .utf8)
    } catch {
      throw SweepError("\(config.base): cannot read the run config (\(error.localizedDescription))")
    }
    try checkSameSweep()
  }

  /// Runs the trials this job can; returns whether it stopped on request (SIGTERM or
  /// SIGUSR1) with trials left to resume.
  public func run(log: @escaping (String) -> Void) throws(SweepError) -> Bool {
    let say: (String) -> Void = rank == 0 ? log : { _ in }
    let settings: LandslideConfig
    do {
      settings = try LandslideConfig.load(file: config.base, overrides: config.baseOverrides)
    } catch {
      throw SweepError("\(config.file): base: \(error)")
    }
    // Rank 0 records the sweep and prepares the data; the others then find them ready.
    if rank == 0 {
      try recordSweep()
      _ = try training { () throws(TrainingError) in
        try StudyData.ensure(settings, in: dataDirectory, log: say)
      }
    }
    try collective("barrier") { () throws(MPIError) in try world?.barrier() }
    let study = try training { () throws(TrainingError) in
      try StudyData.ensure(settings, in: dataDirectory, log: { _ in })
    }
    let shards: ShardSet
    do { shards = try ShardSet(directory: study.shards) } catch {
      throw SweepError("\(study.shards): \(error)")
    }
    let groupIndex = rank / groupSize
    let group = try collective("splitting the job into groups") { () throws(MPIError) in
      try world?.split(color: groupIndex, key: rank)
    }
    let leader = (group?.rank ?? 0) == 0

    var coordinator: SweepCoordinator?
    var server: (done: DispatchSemaphore, failure: LockedBox<SweepError?>)?
    if rank == 0 {
      let local = SweepCoordinator(
        config: config, trials: trials, layout: layout, groups: groups, retryFailed: retryFailed,
        log: say)
      coordinator = local
      if let world, groups > 1 {
        let done = DispatchSemaphore(value: 0)
        let failure = LockedBox<SweepError?>(nil)
        let groupSize = groupSize
        let thread = Thread {
          do { try local.serve(world, groupSize: groupSize) } catch {
            failure.value = error as? SweepError ?? SweepError("\(error)")
          }
          done.signal()
        }
        thread.name = "sweep coordinator"
        thread.start()
        server = (done, failure)
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
      let outcome = try runTrial(
        trial, group: group, shards: shards, staticCount: study.manifest.staticPredictors.count,
        dispatch: dispatch)
      interrupted = interrupted || outcome.status == .interrupted
      if leader {
        try outcome.write(to: layout.result(trial.index))
        try dispatch?.finished(trial: trial.index)
      }
    }
    if let server {
      server.done.wait()
      if let failure = server.failure.value { throw failure }
    }
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

  /// Trains one trial on this rank's group; errors become a failed outcome.
  private func runTrial(
    _ trial: Trial, group: Communicator?, shards: ShardSet, staticCount: Int,
    dispatch: TrialDispatch?
  ) throws(SweepError) -> TrialOutcome {
    let leader = (group?.rank ?? 0) == 0
    let directory = layout.trial(trial.index)
    let earlier = TrialOutcome.read(path: layout.result(trial.index))
    let logFile = leader ? TrialLog(path: layout.log(trial.index)) : nil
    let start = ContinuousClock.now
    var outcome = TrialOutcome(
      status: .completed, epochs: 0, seconds: earlier?.seconds ?? 0)
    var trainer: EnsembleTrainer?
    do {
      if leader {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true)
      }
      let settings = try LandslideConfig.load(
        file: config.base, overrides: config.baseOverrides + trial.overrides)
      let training = try EnsembleTrainer(
        config: settings, shards: shards, staticCount: staticCount,
        metricsPath: layout.metrics(trial.index),
        communicator: (group?.size ?? 1) > 1 ? group : nil,
        log: { logFile?.write($0) })
      trainer = training
      training.checkpointDirectory = layout.checkpoints(trial.index)
      training.configHash = hash(trial)
      if let checkpoint = EnsembleTrainer.newestValidCheckpoint(
        in: layout.checkpoints(trial.index), warn: { logFile?.write("warning: \($0)") })
      {
        try training.resume(from: checkpoint)
      }
      let stage = config.stage
      let metric = config.metric
      training.epochEnded = { [unowned training] record throws(TrainingError) in
        guard record.stage.rawValue == stage else { return true }
        let records = training.records.filter { $0.stage.rawValue == stage }
        var goesOn: [Int32] = [1]
        do {
          if let dispatch {
            let best = SweepCoordinator.best(metric, records[...]) ?? .nan
            goesOn[0] =
              try dispatch.report(trial: trial.index, epoch: record.epoch, value: best) ? 1 : 0
          }
          try group?.broadcast(&goesOn)
        } catch {
          throw TrainingError("\(error)")
        }
        return goesOn[0] != 0
      }
      try training.train()
      if leader {
        let final = (layout.checkpoints(trial.index) as NSString)
          .appendingPathComponent("final.safetensors")
        try EnsembleCheckpoint.write(training.ensemble, to: final)
        outcome.checkpoint = final
      }
    } catch let error as TrainingError where error.isInterruption {
      outcome.status = .interrupted
      outcome.checkpoint = trainer?.latestCheckpoint
    } catch let error as TrainingError where error.isPruned {
      outcome.status = .pruned
      outcome.checkpoint = trainer?.latestCheckpoint
    } catch {
      outcome.status = .failed
      outcome.error = "\(error)"
      logFile?.write("error: \(error)")
    }
    let records = (trainer?.records ?? []).filter { $0.stage.rawValue == config.stage }
    outcome.epochs = records.count
    outcome.bestValidationLoss = SweepCoordinator.best(.validationLoss, records[...])
    outcome.bestValidationAUC = SweepCoordinator.best(.validationAUC, records[...])
    outcome.seconds += (ContinuousClock.now - start).seconds
    return outcome
  }

  /// Identifies a trial's run config: its checkpoints resume only into the same one.
  private func hash(_ trial: Trial) -> String {
    let text = ([baseText] + config.baseOverrides + trial.overrides).joined(separator: "\n")
    let bytes = Array(text.utf8)
    return String(bytes.withUnsafeBytes { SafeTensors.checksum($0) }, radix: 16)
  }

  /// The sweep and base files as first run, kept beside the results.
  private var recordedFiles: [(copy: String, text: () throws -> String)] {
    [
      (
        (layout.sweep as NSString).appendingPathComponent("sweep.yaml"),
        {
          try String(contentsOfFile: self.config.file, encoding: .utf8)
        }
      ),
      ((layout.sweep as NSString).appendingPathComponent("base.yaml"), { self.baseText }),
    ]
  }

  /// A run directory continues only the sweep it was made by: trial numbers mean nothing
  /// against another search space or base config.
  private func checkSameSweep() throws(SweepError) {
    for (copy, text) in recordedFiles {
      guard let recorded = try? String(contentsOfFile: copy, encoding: .utf8) else { continue }
      let current: String
      do { current = try text() } catch {
        throw SweepError("cannot read \(config.file) (\(error.localizedDescription))")
      }
      guard recorded == current else {
        throw SweepError(
          "\(layout.sweep) holds a sweep made from other files (\(copy) differs from "
            + "\(copy.hasSuffix("base.yaml") ? config.base : config.file)); use a new --run-dir")
      }
    }
  }

  private func recordSweep() throws(SweepError) {
    do {
      try FileManager.default.createDirectory(
        atPath: layout.sweep, withIntermediateDirectories: true)
      for (copy, text) in recordedFiles where !FileManager.default.fileExists(atPath: copy) {
        try AtomicFile.write(Data(try text().utf8), to: copy)
      }
    } catch {
      throw SweepError("\(layout.sweep): cannot record the sweep's files (\(error))")
    }
  }

  static func describe(_ summary: ResultsTable.Summary, in directory: String) -> String {
    let counts = summary.counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
      .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    var text = "sweep: \(summary.trials) trials (\(counts))"
    if let best = summary.best, let score = best.outcome.score(config: summary.metric) {
      text +=
        "; best: trial \(best.trial.index) (\(best.trial.label)), \(summary.metric) "
        + String(format: "%.4f", score)
    }
    return text + "\nresults in \(directory)/results.csv, results.jsonl and summary.json"
  }

  private func training<Value>(_ body: () throws(TrainingError) -> Value) throws(SweepError)
    -> Value
  {
    do { return try body() } catch { throw SweepError(error.description) }
  }

  private func collective<Value>(_ what: String, _ body: () throws(MPIError) -> Value)
    throws(SweepError) -> Value
  {
    do { return try body() } catch { throw SweepError("rank \(rank): \(what): \(error)") }
  }
}

extension TrialOutcome {
  func score(config metric: String) -> Double? {
    SweepConfig.Metric(rawValue: metric).flatMap { score($0) }
  }
}

/// A value shared between threads under a lock.
final class LockedBox<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
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
