import Configuration
import Distributed
import Foundation
import Training

/// Rank 0's side of a sweep: hands trials out in order to whichever group asks, judges
/// rung epochs (successive halving), and records each outcome in the results table as
/// it arrives. Group 0's leader (rank 0 itself) calls it directly; the other groups'
/// leaders reach it through `serve`, which runs on a thread of its own beside rank 0's
/// training and sleeps between polls, so coordinating costs no core.
final class SweepCoordinator: @unchecked Sendable {
  private let lock = NSLock()
  private let trials: [Trial]
  private let layout: SweepLayout
  private let table: ResultsTable
  private let metric: SweepConfig.Metric
  private let groups: Int
  private let log: (String) -> Void
  /// Trials not yet handed out, in order.
  private var queue: [Int]
  private var outcomes: [Int: TrialOutcome]
  private var halving: SuccessiveHalving?
  /// Set once a trial was interrupted: every group is told there is nothing left.
  private var draining = false
  private var groupsDone = 0

  init(
    config: SweepConfig, trials: [Trial], layout: SweepLayout, groups: Int, retryFailed: Bool,
    log: @escaping (String) -> Void
  ) {
    self.trials = trials
    self.layout = layout
    self.groups = groups
    self.log = log
    metric = config.metric
    table = ResultsTable(directory: layout.sweep, config: config, trials: trials)
    var outcomes: [Int: TrialOutcome] = [:]
    for trial in trials {
      if let outcome = TrialOutcome.read(path: layout.result(trial.index)) {
        outcomes[trial.index] = outcome
      }
    }
    self.outcomes = outcomes
    queue = trials.map(\.index).filter { index in
      !(outcomes[index]?.status.isFinal(retryingFailed: retryFailed) ?? false)
    }
    // Rungs as the trials of earlier runs left them, from their metrics.
    halving = config.halving.map { SuccessiveHalving($0, higherIsBetter: metric.higherIsBetter) }
    if halving != nil {
      for trial in trials {
        let records = EpochRecord.read(path: layout.metrics(trial.index))
          .filter { $0.stage.rawValue == config.stage }
        for (count, record) in records.enumerated() {
          _ = halving?.record(
            epoch: record.epoch, value: Self.best(metric, records[...count]) ?? .nan)
        }
      }
    }
    let finished = trials.count - queue.count
    log(
      "sweep: \(trials.count) trials, \(groups) group(s); "
        + (finished > 0 ? "\(finished) ended in an earlier run, " : "") + "\(queue.count) to run")
  }

  /// The next trial for `group`; nil when none is left (or the sweep is stopping).
  func next(group: Int) -> Int? {
    lock.withLock {
      guard !draining, !StopRequest.isPending, !queue.isEmpty else {
        groupsDone += 1
        return nil
      }
      let index = queue.removeFirst()
      log("trial \(index) on group \(group): \(trials[index].label)")
      return index
    }
  }

  /// A trial's best metric after `epoch` of the sweep's stage: whether it goes on.
  func report(trial: Int, epoch: Int, value: Double) -> Bool {
    lock.withLock {
      let goesOn = halving?.record(epoch: epoch, value: value) ?? true
      log(
        "trial \(trial) epoch \(epoch): best \(metric.rawValue) "
          + String(format: "%.4f", value) + (goesOn ? "" : "; stopped by successive halving"))
      return goesOn
    }
  }

  /// Records the outcome the trial's leader wrote, and rewrites the tables.
  func finished(trial: Int) throws(SweepError) {
    guard let outcome = TrialOutcome.read(path: layout.result(trial)) else {
      throw SweepError("\(layout.result(trial)): missing or unreadable after trial \(trial) ended")
    }
    lock.lock()
    defer { lock.unlock() }
    do {
      outcomes[trial] = outcome
      if outcome.status == .interrupted { draining = true }
      var line = "trial \(trial) \(outcome.status.rawValue) after \(Int(outcome.seconds)) s"
      if let score = outcome.score(metric) {
        line += ": best \(metric.rawValue) " + String(format: "%.4f", score)
      }
      if let error = outcome.error { line += ": \(error)" }
      log(line)
      try table.write(outcomes)
    }
  }

  /// Once every group has been told that nothing is left.
  var isComplete: Bool { lock.withLock { groupsDone == groups } }

  /// Writes the tables and returns the summary.
  func conclude() throws(SweepError) -> ResultsTable.Summary {
    lock.lock()
    defer { lock.unlock() }
    try table.write(outcomes)
    return table.summary(outcomes)
  }

  /// Answers the other groups' leaders until every group is done.
  func serve(_ world: Communicator, groupSize: Int) throws(SweepError) {
    do {
      while !isComplete {
        guard try world.hasMessage(tag: SweepMessage.requestTag) else {
          usleep(2_000)
          continue
        }
        let (message, source): ([Double], Int) = try world.receive(
          count: SweepMessage.length, tag: SweepMessage.requestTag)
        let request = SweepMessage(message)
        switch request.kind {
        case .next:
          let trial = next(group: source / groupSize)
          try world.send([Double(trial ?? -1)], to: source, tag: SweepMessage.replyTag)
        case .report:
          let goesOn = report(trial: request.trial, epoch: request.epoch, value: request.value)
          try world.send([goesOn ? 1.0 : 0.0], to: source, tag: SweepMessage.replyTag)
        case .finished:
          try finished(trial: request.trial)
        }
      }
    } catch let error as SweepError {
      throw error
    } catch {
      throw SweepError("sweep coordinator on rank 0: \(error)")
    }
  }

  /// The best value of `metric` over `records`.
  static func best(_ metric: SweepConfig.Metric, _ records: ArraySlice<EpochRecord>) -> Double? {
    switch metric {
    case .validationLoss: return records.map(\.validationLoss).min()
    case .validationAUC: return records.compactMap(\.validationAUC).filter { !$0.isNaN }.max()
    }
  }
}

/// A group leader's request to the coordinator, as a short array of doubles.
struct SweepMessage {
  enum Kind: Int { case next, report, finished }
  static let requestTag = 7101
  static let replyTag = 7102
  static let length = 4

  var kind: Kind
  var trial = 0
  var epoch = 0
  var value = 0.0

  init(_ kind: Kind, trial: Int = 0, epoch: Int = 0, value: Double = 0) {
    self.kind = kind
    self.trial = trial
    self.epoch = epoch
    self.value = value
  }

  init(_ values: [Double]) {
    kind = Kind(rawValue: Int(values[0])) ?? .next
    trial = Int(values[1])
    epoch = Int(values[2])
    value = values[3]
  }

  var values: [Double] { [Double(kind.rawValue), Double(trial), Double(epoch), value] }
}

/// How a group leader reaches the coordinator: directly on rank 0, by messages elsewhere.
enum TrialDispatch {
  case local(SweepCoordinator, group: Int)
  case remote(Communicator)

  func next() throws(SweepError) -> Int? {
    switch self {
    case .local(let coordinator, let group): return coordinator.next(group: group)
    case .remote:
      let trial = try exchange(SweepMessage(.next))
      return trial < 0 ? nil : Int(trial)
    }
  }

  func report(trial: Int, epoch: Int, value: Double) throws(SweepError) -> Bool {
    switch self {
    case .local(let coordinator, _):
      return coordinator.report(trial: trial, epoch: epoch, value: value)
    case .remote:
      return try exchange(SweepMessage(.report, trial: trial, epoch: epoch, value: value)) != 0
    }
  }

  func finished(trial: Int) throws(SweepError) {
    switch self {
    case .local(let coordinator, _): try coordinator.finished(trial: trial)
    case .remote(let world):
      do {
        try world.send(
          SweepMessage(.finished, trial: trial).values, to: 0, tag: SweepMessage.requestTag)
      } catch {
        throw SweepError("rank \(world.rank): reporting trial \(trial) to rank 0: \(error)")
      }
    }
  }

  /// Sends a request to rank 0 and waits for its one-number reply.
  private func exchange(_ message: SweepMessage) throws(SweepError) -> Double {
    guard case .remote(let world) = self else {
      preconditionFailure("local dispatch sends nothing")
    }
    do {
      try world.send(message.values, to: 0, tag: SweepMessage.requestTag)
      let (reply, _): ([Double], Int) = try world.receive(
        count: 1, from: 0, tag: SweepMessage.replyTag)
      return reply[0]
    } catch {
      throw SweepError("rank \(world.rank): asking rank 0 for the sweep's next step: \(error)")
    }
  }
}

/// Where a sweep keeps its files under the run directory.
struct SweepLayout {
  let runDirectory: String

  var sweep: String { join(runDirectory, "sweep") }
  func trial(_ index: Int) -> String { join(sweep, "trials", String(format: "%04d", index)) }
  func result(_ index: Int) -> String { join(trial(index), "result.json") }
  func metrics(_ index: Int) -> String { join(trial(index), "metrics.jsonl") }
  func checkpoints(_ index: Int) -> String { join(trial(index), "checkpoints") }
  func log(_ index: Int) -> String { join(trial(index), "log.txt") }

  private func join(_ parts: String...) -> String {
    NSString.path(withComponents: parts)
  }
}
