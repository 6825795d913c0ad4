import Distributed
import Foundation
import Rainfall
import TensorEngine
import Training

/// The rainfall protocol's fits over an MPI job's ranks, handed out by rank 0 through the
/// sweep coordinator's messages (`TrialBoard`, `TrialDispatch`): every rank is a group of
/// one that asks for a fit, fits it on its own threads and sends the result back; rank 0
/// fits too, and records each result as it arrives, so a job stopped at any point
/// resumes from the fits it finished.
public struct DistributedFitRunner: FitRunner {
  let world: Communicator

  public init(world: Communicator) {
    self.world = world
  }

  public var collects: Bool { world.rank == 0 }

  public func run(
    pending: [Int],
    fit: @escaping @Sendable (Int, _ threads: Int) throws(RainfallError) -> FitResult,
    record: @escaping @Sendable (Int, FitResult) throws(RainfallError) -> Void
  ) throws(RainfallError) -> Bool {
    let rank = world.rank
    let threads = ThreadPool.shared.threadCount
    var board: ProtocolFitBoard?
    var serverDone: DispatchSemaphore?
    let dispatch: TrialDispatch
    if rank == 0 {
      let local = ProtocolFitBoard(pending: pending, groups: world.size, record: record)
      board = local
      dispatch = .local(local, group: 0)
      if world.size > 1 {
        serverDone = local.serveInBackground(world, groupSize: 1, name: "fit coordinator")
      }
    } else {
      dispatch = .remote(world)
    }
    do throws(SweepError) {
      while let index = try dispatch.next() {
        let result: FitResult
        do throws(RainfallError) { result = try fit(index, threads) } catch {
          throw SweepError("rank \(rank): \(error)")
        }
        try dispatch.finished(trial: index, result)
      }
    } catch { throw RainfallError("rank \(rank)", error.description) }
    serverDone?.wait()
    return board?.isDrained ?? true
  }
}

/// Rank 0's queue of pending fits: the next to whichever rank asks, until none is left
/// or a stop is requested (SIGTERM, SIGUSR1); each result to `record`.
final class ProtocolFitBoard: TrialBoard, @unchecked Sendable {
  private let lock = NSLock()
  private var queue: [Int]
  private let groups: Int
  private var groupsDone = 0
  private let record: @Sendable (Int, FitResult) throws(RainfallError) -> Void

  init(
    pending: [Int], groups: Int,
    record: @escaping @Sendable (Int, FitResult) throws(RainfallError) -> Void
  ) {
    queue = pending.reversed()
    self.groups = groups
    self.record = record
  }

  func next(group: Int) throws(SweepError) -> Int? {
    lock.withLock {
      guard !StopRequest.isPending, let index = queue.popLast() else {
        groupsDone += 1
        return nil
      }
      return index
    }
  }

  /// Fits have no rung epochs.
  func report(trial: Int, epoch: Int, value: Double, judged: Bool) -> Bool { true }

  func finished(trial: Int, outcome: Data) throws(SweepError) {
    let result: FitResult
    do { result = try JSONDecoder().decode(FitResult.self, from: outcome) } catch {
      throw SweepError("an unreadable result for fit \(trial) (\(error))")
    }
    do throws(RainfallError) { try record(trial, result) } catch {
      throw SweepError(error.description)
    }
  }

  var isComplete: Bool { lock.withLock { groupsDone == groups } }

  /// Whether every fit was handed out (and, once complete, recorded).
  var isDrained: Bool { lock.withLock { queue.isEmpty } }
}
