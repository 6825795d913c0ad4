import Synchronization

/// Process-wide free lists of Float32 buffers, keyed by size. Tensors take their storage
/// here and give it back when they die, so that once a training step has run, the same
/// sizes come back and no step after it needs the system allocator.
public final class BufferPool: Sendable {
  public static let shared = BufferPool()

  /// Every buffer is 64-byte aligned (a cache line; AVX-512 loads).
  static let alignment = 64

  /// Free buffers by capacity, as addresses (plain integers keep the state Sendable).
  private let free = Mutex([Int: [UInt]]())

  /// Element counts are rounded up to whole cache lines so that nearby sizes share lists.
  static func roundedCount(_ count: Int) -> Int { max(16, (count + 15) & ~15) }

  /// A buffer of at least `count` elements, uninitialised; `capacity` is its real size.
  func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
    let capacity = BufferPool.roundedCount(count)
    let reused = free.withLock { $0[capacity]?.popLast() }
    let raw =
      reused.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
      ?? UnsafeMutableRawPointer.allocate(
        byteCount: capacity * MemoryLayout<Float>.stride, alignment: BufferPool.alignment)
    return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
  }

  /// Returns a buffer obtained from `take`.
  func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
    let address = UInt(bitPattern: pointer)
    free.withLock { $0[capacity, default: []].append(address) }
  }
}
