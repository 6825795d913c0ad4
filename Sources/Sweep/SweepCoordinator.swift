import Configuration
import Distributed
import Foundation
import Training

/// What rank 0 hands out to the groups' leaders and collects from them, by index: a
/// sweep's trials, or a rainfall protocol's fits. Group 0's leader (rank 0) calls it
/// directly; `serve` answers the other leaders' messages (see `TrialDispatch`).
protocol TrialBoard: AnyObject, Sendable {
  /// The next index for `group`; nil when none is left (or the job is stopping).
  func next(group: Int) throws(SweepError) -> Int?
  /// A rung epoch's best metric (successive halving): whether the trial goes on.
  func report(trial: Int, epoch: Int, value: Double, judged: Bool) -> Bool
  /// A finished index's outcome, as the JSON its leader sent.
  func finished(trial: Int, outcome: Data) throws(SweepError)
  /// Once every group has been told that nothing is left.
  var isComplete: Bool { get }
}

/// Rank 0's side of a sweep: hands trials out in order to whichever group asks, judges
/// rung epochs (successive halving), and alone writes every trial's `result.json` and the
/// results tables, as outcomes arrive. Group 0's leader (rank 0 itself) calls it directly;
/// the other groups' leaders reach it through `serve`, which runs on a thread of its own
/// beside rank 0's training and sleeps between polls, so coordinating costs no core.
final class SweepCoordinator: TrialBoard, @unchecked Sendable {
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
  ) throws(SweepError) {
    self.trials = trials
    self.layout = layout
    self.groups = groups
    self.log = log
    metric = config.metric
    table = ResultsTable(directory: layout.sweep, config: config, trials: trials)
    var outcomes: [Int: TrialOutcome] = [:]
    var crashed: [Int] = []
    for trial in trials {
      guard var outcome = TrialOutcome.read(path: layout.result(trial.index)) else { continue }
      // Started and never ended: its process died (a crash, an out-of-memory kill, a node
      // lost). After `max_crashes` such starts it counts as failed, so that one bad trial
      // cannot take every later run of the sweep down with it.
      if outcome.status == .running {
        outcome.crashes += 1
        outcome.status = outcome.crashes >= config.maxCrashes ? .failed : .interrupted
        if outcome.status == .failed {
          outcome.error =
            "its process ended without a result in \(outcome.crashes) runs (crashed or killed)"
        }
        crashed.append(trial.index)
      }
      outcomes[trial.index] = outcome
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
          .filter { $0.stage == config.stage }
        for count in records.indices {
          _ = halving?.record(
            epoch: records[count].epoch, value: Self.best(metric, records[...count]) ?? .nan)
        }
      }
    }
    for index in crashed { try save(index) }
    let ended = trials.count - queue.count
    log(
      "sweep: \(trials.count) trials, \(groups) group(s); "
        + (ended > 0 ? "\(ended) ended in an earlier run, " : "") + "\(queue.count) to run")
    if !crashed.isEmpty {
      log(
        "trials \(crashed.map(String.init).joined(separator: ", ")) ended without a result earlier")
    }
    if groups > queue.count {
      log(
        "warning: \(groups - queue.count) of the \(groups) groups have no trial to train; a "
          + "smaller job (or fewer, larger groups) would use its cores better")
    }
  }

  /// The next trial for `group`, recorded as running; nil when none is left (or the sweep
  /// is stopping).
  func next(group: Int) throws(SweepError) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard !draining, !StopRequest.isPending, !queue.isEmpty else {
      groupsDone += 1
      return nil
    }
    let index = queue.removeFirst()
    var outcome = outcomes[index] ?? TrialOutcome(status: .running, epochs: 0, seconds: 0)
    outcome.status = .running
    outcome.error = nil
    outcomes[index] = outcome
    try save(index)
    log("trial \(index) on group \(group): \(trials[index].label)")
    return index
  }

  /// A trial's best metric after `epoch` of the sweep's stage: whether it goes on. The
  /// stage's last epoch is recorded but not judged: the trial has trained to the end.
  func report(trial: Int, epoch: Int, value: Double, judged: Bool) -> Bool {
    lock.withLock {
      var goesOn = true
      if judged {
        goesOn = halving?.record(epoch: epoch, value: value) ?? true
      } else {
        _ = halving?.record(epoch: epoch, value: value)
      }
      log(
        "trial \(trial) epoch \(epoch): best \(metric.rawValue) "
          + String(format: "%.4f", value) + (goesOn ? "" : "; stopped by successive halving"))
      return goesOn
    }
  }

  /// Records how a trial ended and rewrites the tables.
  func finished(trial: Int, _ outcome: TrialOutcome) throws(SweepError) {
    lock.lock()
    defer { lock.unlock() }
    var outcome = outcome
    // Time and crashes add up over the runs that trained the trial.
    outcome.seconds += outcomes[trial]?.seconds ?? 0
    outcome.crashes = outcomes[trial]?.crashes ?? 0
    outcomes[trial] = outcome
    if outcome.status == .interrupted { draining = true }
    var line = "trial \(trial) \(outcome.status.rawValue) after \(Int(outcome.seconds)) s"
    if let score = outcome.score(metric) {
      line += ": best \(metric.rawValue) " + String(format: "%.4f", score)
    }
    if let error = outcome.error { line += ": \(error)" }
    log(line)
    try save(trial)
  }

  func finished(trial: Int, outcome: Data) throws(SweepError) {
    let decoded: TrialOutcome
    do { decoded = try JSONDecoder().decode(TrialOutcome.self, from: outcome) } catch {
      throw SweepError("an unreadable outcome for trial \(trial) (\(error))")
    }
    try finished(trial: trial, decoded)
  }

  /// Writes the trial's `result.json` and the tables (under the lock).
  private func save(_ trial: Int) throws(SweepError) {
    try outcomes[trial]?.write(to: layout.result(trial))
    try table.write(outcomes)
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

  /// The best finite value of `metric` over `records`.
  static func best(_ metric: SweepConfig.Metric, _ records: ArraySlice<EpochRecord>) -> Double? {
    switch metric {
    case .validationLoss: return records.map(\.validationLoss).filter(\.isFinite).min()
    case .validationAUC: return records.compactMap(\.validationAUC).filter(\.isFinite).max()
    }
  }
}

extension TrialBoard {
  /// `serve` on a thread of its own; the semaphore is signalled when every group is done.
  /// A failure there ends the whole job: the other groups wait on its replies, and must
  /// never be stranded.
  func serveInBackground(_ world: Communicator, groupSize: Int, name: String)
    -> DispatchSemaphore
  {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      do { try self.serve(world, groupSize: groupSize) } catch {
        FileHandle.standardError.write(Data("rank 0: error: \(error)\n".utf8))
        usleep(500_000)
        world.abort(code: 1)
      }
      done.signal()
    }
    thread.name = name
    thread.start()
    return done
  }

  /// Answers the other groups' leaders until every group is done. It runs on a thread of
  /// its own beside rank 0's work and sleeps between polls, so coordinating costs no core.
  func serve(_ world: Communicator, groupSize: Int) throws(SweepError) {
    do {
      while !isComplete {
        guard try world.hasMessage(tag: SweepMessage.requestTag) else {
          usleep(2_000)
          continue
        }
        let (values, source): ([Double], Int) = try world.receive(
          count: SweepMessage.length, tag: SweepMessage.requestTag)
        let request = try SweepMessage(values, from: source)
        switch request.kind {
        case .next:
          let trial = try next(group: source / groupSize)
          try world.send([Double(trial ?? -1)], to: source, tag: SweepMessage.replyTag)
        case .report:
          let goesOn = report(
            trial: request.trial, epoch: request.epoch, value: request.value,
            judged: request.judged)
          try world.send([goesOn ? 1.0 : 0.0], to: source, tag: SweepMessage.replyTag)
        case .finished:
          let (bytes, _): ([UInt8], Int) = try world.receive(
            count: request.epoch, from: source, tag: SweepMessage.outcomeTag)
          do { try finished(trial: request.trial, outcome: Data(bytes)) } catch {
            throw SweepError("from rank \(source): \(error)")
          }
        }
      }
    } catch let error as SweepError {
      throw error
    } catch {
      throw SweepError("sweep coordinator on rank 0: \(error)")
    }
  }

}

/// A group leader's request to the coordinator, as a short array of doubles.
struct SweepMessage {
  enum Kind: Int { case next, report, finished }
  static let requestTag = 7101
  static let replyTag = 7102
  /// The JSON of a finished trial's outcome, after its `.finished` request.
  static let outcomeTag = 7103
  static let length = 5

  var kind: Kind
  var trial = 0
  /// The epoch of a report; the outcome's byte count of a `.finished` request.
  var epoch = 0
  var value = 0.0
  var judged = true

  init(_ kind: Kind, trial: Int = 0, epoch: Int = 0, value: Double = 0, judged: Bool = true) {
    self.kind = kind
    self.trial = trial
    self.epoch = epoch
    self.value = value
    self.judged = judged
  }

  init(_ values: [Double], from source: Int) throws(SweepError) {
    guard let kind = Kind(rawValue: Int(values[0])) else {
      throw SweepError("rank \(source) sent an unknown sweep request (\(values[0]))")
    }
    self.kind = kind
    trial = Int(values[1])
    epoch = Int(values[2])
    value = values[3]
    judged = values[4] != 0
  }

  var values: [Double] {
    [Double(kind.rawValue), Double(trial), Double(epoch), value, judged ? 1 : 0]
  }
}

/// How a group leader reaches the coordinator: directly on rank 0, by messages elsewhere.
enum TrialDispatch {
  case local(any TrialBoard, group: Int)
  case remote(Communicator)

  func next() throws(SweepError) -> Int? {
    switch self {
    case .local(let coordinator, let group): return try coordinator.next(group: group)
    case .remote:
      let trial = try exchange(SweepMessage(.next))
      return trial < 0 ? nil : Int(trial)
    }
  }

  func report(trial: Int, epoch: Int, value: Double, judged: Bool) throws(SweepError) -> Bool {
    switch self {
    case .local(let coordinator, _):
      return coordinator.report(trial: trial, epoch: epoch, value: value, judged: judged)
    case .remote:
      let message = SweepMessage(.report, trial: trial, epoch: epoch, value: value, judged: judged)
      return try exchange(message) != 0
    }
  }

  func finished(trial: Int, _ outcome: some Encodable) throws(SweepError) {
    let data: Data
    do { data = try JSONEncoder().encode(outcome) } catch {
      throw SweepError("trial \(trial): cannot encode its outcome (\(error))")
    }
    switch self {
    case .local(let board, _): try board.finished(trial: trial, outcome: data)
    case .remote(let world):
      do {
        let bytes = Array(data)
        try world.send(
          SweepMessage(.finished, trial: trial, epoch: bytes.count).values, to: 0,
          tag: SweepMessage.requestTag)
        try world.send(bytes, to: 0, tag: SweepMessage.outcomeTag)
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
  var plan: String { join(sweep, "plan.json") }
  func trial(_ index: Int) -> String { join(sweep, "trials", String(format: "%04d", index)) }
  func result(_ index: Int) -> String { join(trial(index), "result.json") }
  func metrics(_ index: Int) -> String { join(trial(index), "metrics.jsonl") }
  func checkpoints(_ index: Int) -> String { join(trial(index), "checkpoints") }
  func log(_ index: Int) -> String { join(trial(index), "log.txt") }

  private func join(_ parts: String...) -> String {
    NSString.path(withComponents: parts)
  }
}
