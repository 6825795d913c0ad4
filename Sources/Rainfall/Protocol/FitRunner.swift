import Foundation
import TensorEngine

/// Runs the protocol's fits somewhere: on this process's threads (`LocalFitRunner`) or
/// over an MPI job's ranks (the sweep coordinator's, in the Sweep layer). The training
/// asks for the pending fits only; every result reaches `record` on the collecting
/// process, which alone writes.
public protocol FitRunner {
  /// Whether results reach this process's `record` (rank 0, or a process alone). The
  /// others only fit what they are handed and return.
  var collects: Bool { get }

  /// Fits the `pending` fits (indices into the plan's fits) with `fit(index, threads)`
  /// and hands each result to `record` as it arrives. Returns false when it stopped on
  /// request with fits left, true when none is left.
  func run(
    pending: [Int],
    fit: @escaping @Sendable (Int, _ threads: Int) throws(RainfallError) -> FitResult,
    record: @escaping @Sendable (Int, FitResult) throws(RainfallError) -> Void
  ) throws(RainfallError) -> Bool
}

/// The fits side by side on the engine's threads, one XGBoost thread each (the same
/// scores on any thread count: each fit is seeded by what it is, not by who runs it).
public struct LocalFitRunner: FitRunner {
  /// Asked between fits: true stops the run (SIGTERM, SIGUSR1) with the rest pending.
  public var stopRequested: @Sendable () -> Bool

  public init(stopRequested: @escaping @Sendable () -> Bool = { false }) {
    self.stopRequested = stopRequested
  }

  public var collects: Bool { true }

  public func run(
    pending: [Int],
    fit: @escaping @Sendable (Int, _ threads: Int) throws(RainfallError) -> FitResult,
    record: @escaping @Sendable (Int, FitResult) throws(RainfallError) -> Void
  ) throws(RainfallError) -> Bool {
    let stopRequested = stopRequested
    let tasks = TaskQueue(count: pending.count, stopRequested: stopRequested) {
      (task) throws(RainfallError) in
      try record(pending[task], try fit(pending[task], 1))
    }
    DispatchQueue.concurrentPerform(iterations: max(1, ThreadPool.shared.threadCount)) { _ in
      tasks.drain()
    }
    return try tasks.finish()
  }
}

/// Tasks that threads take in turn: the lock guards the counter and the first failure.
final class TaskQueue: @unchecked Sendable {
  private let lock = NSLock()
  private let count: Int
  private let stopRequested: @Sendable () -> Bool
  private let body: (Int) throws(RainfallError) -> Void
  private var next = 0
  private var failure: RainfallError?

  init(
    count: Int, stopRequested: @escaping @Sendable () -> Bool = { false },
    body: @escaping (Int) throws(RainfallError) -> Void
  ) {
    self.count = count
    self.stopRequested = stopRequested
    self.body = body
  }

  func drain() {
    while true {
      let task: Int? = lock.withLock {
        guard failure == nil, next < count, !stopRequested() else { return nil }
        next += 1
        return next - 1
      }
      guard let task else { return }
      do throws(RainfallError) { try body(task) } catch {
        lock.withLock { failure = failure ?? error }
      }
    }
  }

  /// Throws the first failure once every thread has stopped; whether every task ran.
  func finish() throws(RainfallError) -> Bool {
    if let failure { throw failure }
    return next == count
  }
}
