/// Follows a backward pass op by op, so that a data-parallel job can send each parameter's
/// gradient to the other ranks as soon as it is final, while the rest of the pass still runs
/// (the way PyTorch DDP overlaps its all-reduce with backward).
public protocol BackwardObserver: AnyObject {
  /// Before the first op runs backward; `tape.forEachRecordedInput` tells which op reads
  /// which tensor, hence when each gradient stops changing.
  func backwardWillStart(_ tape: Tape)
  /// After the op at `index` (in recording order) ran backward: from now on no op touches
  /// the gradient of a tensor that only ops at `index` or later read.
  func backwardDidRun(operationAt index: Int)
}
