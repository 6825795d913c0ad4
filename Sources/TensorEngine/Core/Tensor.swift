/// A dense Float32 tensor, channels-last (NHWC for images, [B, T, C] for sequences).
///
/// Storage is reference counted and comes from `BufferPool`. Tensors made by ops during a
/// step belong to that step's `Tape` and are recycled when it is reset: read what you need
/// from them before the next step.
public final class Tensor {
  public private(set) var shape: Shape
  public private(set) var data: UnsafeMutablePointer<Float>
  /// Elements owned (and given back to the pool on release); 0 for a view.
  private var capacity: Int
  /// For a view: the tensor whose storage it shares, kept alive by this reference.
  private var base: Tensor?

  /// Whether gradients flow to this tensor: parameters, and results of ops on them.
  public internal(set) var requiresGradient: Bool
  /// dLoss/dSelf, accumulated by `Tape.backward`; same shape as the tensor.
  public internal(set) var gradient: Tensor?
  /// Whether `gradient` holds this step's values (activations) or accumulates across
  /// backward passes until cleared (parameters).
  var gradientIsLive = false

  /// A tensor of zeros.
  public init(zeros shape: Shape, requiresGradient: Bool = false) {
    self.shape = shape
    (data, capacity) = BufferPool.shared.take(shape.count)
    self.requiresGradient = requiresGradient
    data.initialize(repeating: 0, count: capacity)
  }

  /// A tensor holding `values` in row-major order.
  public convenience init(_ values: [Float], shape: Shape, requiresGradient: Bool = false) {
    precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
    self.init(zeros: shape, requiresGradient: requiresGradient)
    values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: $0.count) }
  }

  deinit {
    if capacity > 0 { BufferPool.shared.give(data, capacity: capacity) }
  }

  public var count: Int { shape.count }

  /// Bytes of storage this tensor owns (0 for a view).
  var storageBytes: Int { capacity * MemoryLayout<Float>.stride }

  /// The elements, for kernels.
  public var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: data, count: shape.count)
  }

  /// A copy of the elements (allocates; for tests and reporting).
  public var array: [Float] { Array(buffer) }

  public subscript(index: Int) -> Float {
    get { data[index] }
    set { data[index] = newValue }
  }

  /// The single element of a one-element tensor (a loss).
  public var scalar: Float {
    precondition(count == 1, "scalar of a tensor of shape \(shape)")
    return data[0]
  }

  public func fill(_ value: Float) { Tensor.fill(data, count: count, with: value) }

  /// Sets `count` floats at `data` to `value`, in parallel.
  static func fill(_ data: UnsafeMutablePointer<Float>, count: Int, with value: Float) {
    ThreadPool.shared.parallelFor(count, Fill(data: data, value: value))
  }

  private struct Fill: ParallelJob {
    let data: UnsafeMutablePointer<Float>
    let value: Float

    func run(_ range: Range<Int>) {
      (data + range.lowerBound).update(repeating: value, count: range.count)
    }
  }

  public func copy(from other: Tensor) {
    precondition(other.count == count, "copy of \(other.shape) into \(shape)")
    data.update(from: other.data, count: count)
  }

  /// Gives the tensor `shape`, growing its own storage if needed; contents are unspecified.
  /// Used by the tape to recycle tensors from step to step. Returns whether it took storage.
  @discardableResult
  func reshapeStorage(to shape: Shape) -> Bool {
    self.shape = shape
    guard base != nil || capacity < shape.count else { return false }
    if capacity > 0 { BufferPool.shared.give(data, capacity: capacity) }
    base = nil
    (data, capacity) = BufferPool.shared.take(shape.count)
    return true
  }

  /// Makes this tensor a view of `other`'s storage with another shape of the same count.
  func makeView(of other: Tensor, shape: Shape) {
    precondition(other.count == shape.count, "view of \(other.shape) as \(shape)")
    if capacity > 0 { BufferPool.shared.give(data, capacity: capacity) }
    capacity = 0
    base = other
    data = other.data
    self.shape = shape
  }

  /// The gradient tensor, zeroed on first use in a step (unless `zeroed` is false: the
  /// caller then overwrites every element); `allocations` counts the buffers this had to
  /// create or grow.
  func liveGradient(allocations: inout Int, zeroed: Bool = true) -> Tensor {
    if let gradient, gradientIsLive { return gradient }
    let gradient: Tensor
    if let existing = self.gradient {
      gradient = existing
      if gradient.reshapeStorage(to: shape) { allocations += 1 }
    } else {
      gradient = Tensor(zeros: shape)
      allocations += 1
    }
    if zeroed { gradient.fill(0) }
    self.gradient = gradient
    gradientIsLive = true
    return gradient
  }

  func liveGradient() -> Tensor {
    var allocations = 0
    return liveGradient(allocations: &allocations)
  }
}
