import Synchronization

/// Process-wide free lists of Float32 buffers, keyed by size. Tensors take their storage
/// here and give it back when they die, so that once a training step has run, the same
/// sizes come back and no step after it needs the system allocator.
public final class BufferPool: Sendable {
  public static let shared = BufferPool()

  /// Every buffer is 64-byte aligned (a cache line; AVX-512 loads).
  static let alignment = 64

  private struct State {
    /// Free buffers by capacity, as addresses (plain integers keep the state Sendable).
    var free: [Int: [UInt]] = [:]
    var bytesInUse = 0
    var peakBytesInUse = 0
    var systemAllocations = 0
  }

  private let state = Mutex(State())

  /// Bytes handed out and not yet given back.
  public var bytesInUse: Int { state.withLock { $0.bytesInUse } }
  /// The most `bytesInUse` has been since the last `resetPeak()`.
  public var peakBytesInUse: Int { state.withLock { $0.peakBytesInUse } }
  /// Buffers that had to come from the system allocator rather than a free list.
  public var systemAllocations: Int { state.withLock { $0.systemAllocations } }

  public func resetPeak() { state.withLock { $0.peakBytesInUse = $0.bytesInUse } }

  /// Element counts are rounded up to whole cache lines so that nearby sizes share lists.
  static func roundedCount(_ count: Int) -> Int { max(16, (count + 15) & ~15) }

  /// A buffer of at least `count` elements, uninitialised; `capacity` is its real size.
  func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
    let capacity = BufferPool.roundedCount(count)
    let bytes = capacity * MemoryLayout<Float>.stride
    let reused = state.withLock { state -> UInt? in
      state.bytesInUse += bytes
      state.peakBytesInUse = max(state.peakBytesInUse, state.bytesInUse)
      if let address = state.free[capacity]?.popLast() { return address }
      state.systemAllocations += 1
      return nil
    }
    let raw =
      reused.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
      ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: BufferPool.alignment)
    return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
  }

  /// Returns a buffer obtained from `take`.
  func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
    let address = UInt(bitPattern: pointer)
    state.withLock { state in
      state.bytesInUse -= capacity * MemoryLayout<Float>.stride
      state.free[capacity, default: []].append(address)
    }
  }

  /// Releases every free buffer to the system (memory held by live tensors stays).
  public func trim() {
    state.withLock { state in
      for addresses in state.free.values {
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
      }
      state.free.removeAll()
    }
  }
}
