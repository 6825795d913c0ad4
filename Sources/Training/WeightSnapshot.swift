import TensorEngine

/// A copy of a module's weights and running statistics, taken when validation loss reaches a
/// new minimum and put back when the stage ends, so the kept weights are the best ones.
final class WeightSnapshot {
  private let tensors: [Tensor]
  private var copies: [[Float]]

  init(_ module: Module) {
    tensors = module.namedTensors.map(\.tensor)
    copies = tensors.map { Array($0.buffer) }
  }

  func save() {
    for (index, tensor) in tensors.enumerated() {
      copies[index].withUnsafeMutableBufferPointer { copy in
        copy.baseAddress!.update(from: tensor.data, count: tensor.count)
      }
    }
  }

  func restore() {
    for (index, tensor) in tensors.enumerated() {
      copies[index].withUnsafeBufferPointer { copy in
        tensor.data.update(from: copy.baseAddress!, count: tensor.count)
      }
    }
  }
}
