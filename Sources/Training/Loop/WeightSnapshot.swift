import TensorEngine

/// A copy of a module's weights and running statistics, taken when validation loss reaches a
/// new minimum and put back when the stage ends, so the kept weights are the best ones.
/// Checkpoints carry the copies, so a resumed stage still ends on its best weights.
final class WeightSnapshot {
  private let tensors: [Tensor]
  let copies: [Tensor]

  init(_ module: Module) {
    tensors = module.namedTensors.map(\.tensor)
    copies = tensors.map { tensor in
      let copy = Tensor(zeros: tensor.shape)
      copy.copy(from: tensor)
      return copy
    }
  }

  func save() {
    for (tensor, copy) in zip(tensors, copies) { copy.copy(from: tensor) }
  }

  func restore() {
    for (tensor, copy) in zip(tensors, copies) { tensor.copy(from: copy) }
  }

  /// The copies of running statistics, which differ between ranks (batch norm uses each
  /// rank's own batches).
  var stateCopies: [Tensor] {
    zip(tensors, copies).filter { !$0.0.requiresGradient }.map(\.1)
  }
}
