import Distributed
import Foundation
import TensorEngine

/// Averages parameter gradients over the ranks of a data-parallel job, with the transfer
/// behind the backward pass, as PyTorch DDP does it. Parameters go into buckets of at most
/// `bucketFloats` values in the order their gradients become final (roughly the reverse of
/// the forward pass); as the tape's observer, the reducer starts a bucket's non-blocking
/// all-reduce (sum) as soon as the last of its gradients is final, while backward goes on,
/// and `averageGradients` waits for what is still in flight and writes the averages back.
/// The buckets follow from the recorded graph alone, so they are the same on every rank and
/// every step (and after a resume): the sums, hence the runs, are deterministic. Without
/// an observed backward pass (the reducer not attached to the tape) every bucket starts in
/// `averageGradients`, one after another.
public final class GradientReducer: BackwardObserver {
  private let communicator: Communicator
  private let parameters: [Tensor]
  private let bucketFloats: Int
  private let positions: [ObjectIdentifier: Int]
  /// Per parameter, the first op (in recording order) that reads it this step: its gradient
  /// is final once backward has run that op. In a steady loop it equals `plannedUse`.
  private var firstUse: [Int]
  /// The `firstUse` the buckets were planned for (empty: not planned yet).
  private var plannedUse: [Int] = []
  private var buckets: [Bucket] = []
  /// Parameter indices in bucket order; bucket `b` holds `order[buckets[b].members]`.
  private var order: [Int] = []
  /// Every bucket's floats, back to back in bucket order.
  private var buffer: [Float]
  private var pending: [PendingReduction] = []
  /// Buckets started this step, and of those the first not yet seen complete.
  private var started = 0
  private var firstIncomplete = 0
  private var failure: MPIError?

  private struct Bucket {
    var members: Range<Int>
    var offset: Int
    var count: Int
    /// The op after whose backward every member's gradient is final.
    var readyAfter: Int
  }

  public init(_ communicator: Communicator, parameters: [Tensor], bucketFloats: Int) {
    self.communicator = communicator
    self.parameters = parameters
    self.bucketFloats = max(1, bucketFloats)
    positions = Dictionary(
      uniqueKeysWithValues: parameters.enumerated().map { (ObjectIdentifier($1), $0) })
    firstUse = [Int](repeating: 0, count: parameters.count)
    buffer = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.count })
  }

  /// Seconds the training waited in `averageGradients` for reductions to complete: the
  /// communication that did not hide behind the backward pass.
  public private(set) var waitSeconds = 0.0
  /// Buckets whose all-reduce started while backward still ran, since the reducer was made.
  public private(set) var bucketsStartedInBackward = 0
  /// Buckets a step's gradients travel in (0 before the first step).
  public var bucketCount: Int { buckets.count }

  // MARK: Observing backward

  public func backwardWillStart(_ tape: Tape) {
    precondition(started == 0, "GradientReducer: a second backward pass before averageGradients")
    let operations = tape.recordedOperationCount
    for index in firstUse.indices { firstUse[index] = operations }
    tape.forEachRecordedInput { operation, input in
      guard let position = positions[ObjectIdentifier(input)] else { return }
      firstUse[position] = min(firstUse[position], operation)
    }
    if firstUse != plannedUse { plan() }
    startReady(after: operations)
  }

  public func backwardDidRun(operationAt index: Int) {
    let before = started
    startReady(after: index)
    bucketsStartedInBackward += started - before
    // Drives MPI's progress engine, so that started transfers advance during compute.
    guard failure == nil, firstIncomplete < started else { return }
    do {
      if try pending[firstIncomplete].isComplete() { firstIncomplete += 1 }
    } catch {
      failure = error
    }
  }

  /// Starts, in bucket order, every bucket whose gradients are final once op `index` has run.
  private func startReady(after index: Int) {
    while started < buckets.count, index <= buckets[started].readyAfter, failure == nil {
      start(started)
    }
  }

  private func start(_ bucket: Int) {
    let plan = buckets[bucket]
    buffer.withUnsafeMutableBufferPointer { buffer in
      var offset = plan.offset
      for member in order[plan.members] {
        let parameter = parameters[member]
        (buffer.baseAddress! + offset).update(
          from: parameter.gradient!.data, count: parameter.count)
        offset += parameter.count
      }
      do throws(MPIError) {
        pending[bucket] = try communicator.startAllReduce(
          UnsafeMutableBufferPointer(rebasing: buffer[plan.offset..<(plan.offset + plan.count)]),
          .sum)
      } catch {
        failure = error
      }
    }
    started += 1
  }

  /// Buckets for this step's `firstUse`: parameters by when their gradients become final
  /// (the earliest first; ties in parameter order), filled up to `bucketFloats` each (a
  /// larger tensor gets a bucket of its own).
  private func plan() {
    plannedUse = firstUse
    order = parameters.indices.sorted {
      firstUse[$0] != firstUse[$1] ? firstUse[$0] > firstUse[$1] : $0 < $1
    }
    buckets = []
    var offset = 0
    var first = 0
    for (position, member) in order.enumerated() {
      let count = parameters[member].count
      let filled = offset - (buckets.last.map { $0.offset + $0.count } ?? 0)
      if position > first, filled + count > bucketFloats {
        closeBucket(first..<position, end: offset)
        first = position
      }
      offset += count
    }
    if first < order.count { closeBucket(first..<order.count, end: offset) }
    pending = [PendingReduction](repeating: .completed, count: buckets.count)
  }

  private func closeBucket(_ members: Range<Int>, end: Int) {
    let start = buckets.last.map { $0.offset + $0.count } ?? 0
    buckets.append(
      Bucket(
        members: members, offset: start, count: end - start,
        readyAfter: firstUse[order[members.upperBound - 1]]))
  }

  // MARK: Finishing the step

  /// Starts what backward did not, waits for every bucket and leaves each parameter's
  /// gradient averaged over the ranks; the next step starts afresh.
  public func averageGradients() throws(TrainingError) {
    if plannedUse.isEmpty { plan() }
    while started < buckets.count, failure == nil { start(started) }
    let clock = ContinuousClock()
    let begin = clock.now
    defer {
      waitSeconds += (clock.now - begin).seconds
      (started, firstIncomplete, failure) = (0, 0, nil)
    }
    if let failure { throw TrainingError("\(failure)") }
    let scale = 1 / Float(communicator.size)
    for bucket in buckets.indices {
      do {
        try pending[bucket].wait()
      } catch {
        throw TrainingError("\(error)")
      }
      let plan = buckets[bucket]
      var offset = plan.offset
      for member in order[plan.members] {
        let parameter = parameters[member]
        let gradient = parameter.gradient!.data
        for index in 0..<parameter.count { gradient[index] = buffer[offset + index] * scale }
        offset += parameter.count
      }
    }
  }
}
