/// Records the ops of one forward pass so that `backward` can run them in reverse, and
/// owns the tensors those ops produce.
///
/// Ops take their outputs and scratch space from the tape in the order they run. Every
/// step of a training loop runs the same ops in the same order, so after `reset()` the
/// tape hands back the same tensors, with their storage: once warmed up, a step makes no
/// heap allocations. With `isRecording` false (inference) nothing is recorded and no
/// gradients are computed.
public final class Tape {
  public var isRecording: Bool
  /// Seeded generator for dropout masks; part of the training state.
  public var random: RandomGenerator
  /// Sums a buffer in place over the replicas of a data-parallel job (an MPI all-reduce);
  /// when set, batch norm in training mode normalises with the statistics of the whole
  /// global batch (synchronised batch norm) instead of this replica's rows alone.
  public var crossReplicaSum: ((UnsafeMutableBufferPointer<Float>) -> Void)?
  /// Told after each op's backward (see `BackwardObserver`); nil runs backward unobserved.
  public weak var backwardObserver: (any BackwardObserver)?
  /// Floats of im2col scratch a convolution builds at a time (default 16 MiB): bounds the
  /// memory of large convolutions without making the GEMMs too small to run fast.
  public var im2colBudget = 4 << 20

  var operations: [Operation] = []
  private var tensors: [Tensor] = []
  private var nextTensor = 0

  public init(seed: UInt64 = 0, recording: Bool = true) {
    isRecording = recording
    random = RandomGenerator(seed: seed)
    lastEvent = clock.now
    operations.reserveCapacity(1024)
  }

  /// Starts a new step: forgets the recorded ops and recycles every tensor handed out.
  public func reset() {
    operations.removeAll(keepingCapacity: true)
    nextTensor = 0
    forwardFLOPs = 0
    if profile != nil { lastEvent = clock.now }
  }

  /// Time per op kind, accumulated over steps while non-nil (set to `Profile()` to start).
  public var profile: Profile?
  private let clock = ContinuousClock()
  private var lastEvent: ContinuousClock.Instant

  /// Multiply-add FLOPs (2 per multiply-add) of the matrix products — dense layers,
  /// convolutions, attention — run forward since the last `reset()`. Training costs about
  /// three times this (backward runs two products per forward one).
  public internal(set) var forwardFLOPs = 0

  /// Tensors and buffers the tape has had to create or grow: outputs, scratch, gradients.
  /// Once a training loop is warmed up, a step adds nothing here.
  public private(set) var allocations = 0

  /// Bytes of storage the tape's tensors and their gradients hold.
  public var bytesHeld: Int {
    tensors.reduce(0) { total, tensor in
      total + tensor.storageBytes + (tensor.gradient?.storageBytes ?? 0)
    }
  }

  /// The next recycled tensor, given `shape`; contents unspecified.
  func tensor(_ shape: Shape, requiresGradient: Bool = false) -> Tensor {
    let tensor = nextSlot(requiresGradient: requiresGradient)
    if tensor.reshapeStorage(to: shape) { allocations += 1 }
    return tensor
  }

  /// The buffer to accumulate `tensor`'s gradient into, or nil when none flows to it.
  func gradientTarget(_ tensor: Tensor?) -> UnsafeMutablePointer<Float>? {
    guard let tensor, tensor.requiresGradient else { return nil }
    return tensor.liveGradient(allocations: &allocations).data
  }

  /// Where a kernel that writes every element of `tensor`'s gradient should put it, and
  /// whether to add (`accumulate`: another op already contributed) or to assign (the first
  /// contribution of the step, which saves zeroing the buffer first). Nil when no gradient
  /// flows to `tensor`.
  func gradientDestination(_ tensor: Tensor?) -> (
    pointer: UnsafeMutablePointer<Float>, accumulate: Bool
  )? {
    guard let tensor, tensor.requiresGradient else { return nil }
    let accumulate = tensor.gradientIsLive
    return (tensor.liveGradient(allocations: &allocations, zeroed: false).data, accumulate)
  }

  /// The next tensor object in step order (created on first use).
  private func nextSlot(requiresGradient: Bool) -> Tensor {
    if nextTensor == tensors.count {
      tensors.append(Tensor(zeros: Shape()))
      allocations += 1
    }
    let tensor = tensors[nextTensor]
    nextTensor += 1
    tensor.requiresGradient = requiresGradient && isRecording
    tensor.gradientIsLive = false
    return tensor
  }

  /// An op's output: it needs a gradient when any input does. (Fixed arity rather than
  /// variadic: a variadic argument list is an array, allocated on every call.)
  func output(_ shape: Shape, _ a: Tensor, _ b: Tensor? = nil, _ c: Tensor? = nil) -> Tensor {
    let requires =
      a.requiresGradient || b?.requiresGradient == true || c?.requiresGradient == true
    return tensor(shape, requiresGradient: requires)
  }

  /// A view of `input` with another shape of the same element count (no copy).
  func view(_ input: Tensor, as shape: Shape) -> Tensor {
    let view = nextSlot(requiresGradient: input.requiresGradient)
    view.makeView(of: input, shape: shape)
    return view
  }

  /// Ops recorded since the last `reset()`.
  public var recordedOperationCount: Int { operations.count }

  /// Calls `body` with each recorded op's index and each of its inputs, in recording order.
  public func forEachRecordedInput(_ body: (_ operation: Int, _ input: Tensor) -> Void) {
    for index in operations.indices { operations[index].forEachInput { body(index, $0) } }
  }

  func record(_ operation: Operation, producing output: Tensor) {
    if profile != nil {
      let now = clock.now
      profile!.add(operation.profileKind, forward: (now - lastEvent).seconds)
      lastEvent = now
    }
    guard isRecording, output.requiresGradient else { return }
    operations.append(operation)
  }

  /// Back-propagates from `output`, seeding its gradient with `seed` (ones when nil: the
  /// gradient of the sum of its elements, e.g. of a loss). Parameter gradients accumulate
  /// until the optimiser clears them.
  public func backward(from output: Tensor, seed: Tensor? = nil) {
    precondition(isRecording, "backward on a tape that did not record")
    guard output.requiresGradient else { return }
    let gradient = output.liveGradient(allocations: &allocations)
    if let seed {
      precondition(seed.count == output.count, "backward: seed \(seed.shape) for \(output.shape)")
      gradient.copy(from: seed)
    } else {
      gradient.fill(1)
    }
    backwardObserver?.backwardWillStart(self)
    for index in operations.indices.reversed() {
      let operation = operations[index]
      if profile != nil {
        let start = clock.now
        operation.backward(self)
        profile!.add(operation.profileKind, backward: (clock.now - start).seconds)
      } else {
        operation.backward(self)
      }
      backwardObserver?.backwardDidRun(operationAt: index)
    }
    if profile != nil { lastEvent = clock.now }
  }
}
