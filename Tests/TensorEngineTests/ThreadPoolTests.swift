import Foundation
import Testing

@testable import TensorEngine

/// How the pool splits loops: the parts never depend on whether the workers ran them.
@Suite struct ThreadPoolTests {
  /// Records the ranges it is given (from any thread).
  final class Recorder: ParallelJob, @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Range<Int>] = []
    var ranges: [Range<Int>] { lock.withLock { seen.sorted { $0.lowerBound < $1.lowerBound } } }
    func run(_ range: Range<Int>) { lock.withLock { seen.append(range) } }
  }

  /// Work below the threshold, and a loop started while the pool is busy (from inside
  /// another loop's part), run the same parts as the workers would: a per-part reduction
  /// then sums in the same order either way.
  @Test func partsAreTheSameWithOrWithoutTheWorkers() {
    _ = parallelEngine
    let pool = ThreadPool.shared
    let parts = (0..<pool.threadCount).map { part in
      (10 * part / pool.threadCount)..<(10 * (part + 1) / pool.threadCount)
    }
    let onWorkers = Recorder()
    pool.parallelFor(10, work: 1 << 30, onWorkers)
    let small = Recorder()
    pool.parallelFor(10, work: 0, small)
    #expect(onWorkers.ranges == parts)
    #expect(small.ranges == parts)

    /// Starts an inner loop from each part of an outer one, while the pool is taken.
    struct Nested: ParallelJob {
      let inner: Recorder
      func run(_ range: Range<Int>) {
        if range.lowerBound == 0 { ThreadPool.shared.parallelFor(10, work: 1 << 30, inner) }
      }
    }
    let inner = Recorder()
    pool.parallelFor(2, work: 1 << 30, Nested(inner: inner))
    #expect(inner.ranges == parts)
  }
}
