import Testing

@testable import TensorEngine

/// A miniature susceptibility network: conv → BN → ReLU → max-pool → conv → GAP → dense.
final class ToyClassifier: Module {
  let conv1: Conv2D
  let norm1: BatchNorm
  let conv2: Conv2D
  let dropout = Dropout(0.1)
  let head: Linear

  init(random: inout RandomGenerator) {
    conv1 = Conv2D(
      2, 8, kernel: (3, 3), padding: Padding2D(1), initializer: .heNormal, random: &random)
    norm1 = BatchNorm(8, momentum: 0.9)
    conv2 = Conv2D(8, 8, kernel: (1, 1), random: &random)
    head = Linear(8, 1, random: &random)
  }

  func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    var h = tape.relu(norm1(conv1(x, tape), tape))
    h = tape.maxPool2d(h, kernel: (2, 2), stride: (2, 2))
    h = tape.relu(conv2(h, tape))
    return head(dropout(tape.globalAveragePool2d(h), tape), tape)
  }
}

@Suite struct TrainingTests {
  /// 16 images of 8×8×2 whose label says whether channel 0 has a bright top-left quarter.
  static func toyData() -> (Tensor, Tensor) {
    let images = wave(Shape(16, 8, 8, 2), 0.37, 0.11, scale: 0.5)
    var labels: [Float] = []
    for n in 0..<16 {
      let positive = n % 2 == 0
      labels.append(positive ? 1 : 0)
      if positive {
        for y in 0..<4 { for x in 0..<4 { images[((n * 8 + y) * 8 + x) * 2] += 1.5 } }
      }
    }
    return (images, Tensor(labels, shape: Shape(16, 1)))
  }

  @Test func smallNetworkOverfitsAToyTask() {
    var random = RandomGenerator(seed: 11)
    let model = ToyClassifier(random: &random)
    let (images, labels) = TrainingTests.toyData()
    let adam = Adam(parameters: model.parameters)
    let tape = Tape(seed: 3)
    var losses: [Float] = []
    for _ in 0..<150 {
      tape.reset()
      let loss = tape.loss(
        .binaryCrossEntropyWithLogits(), prediction: model(images, tape), target: labels)
      losses.append(loss.scalar)
      tape.backward(from: loss)
      adam.update(learningRate: 1e-2)
    }
    #expect(losses.last! * 10 < losses.first!, "loss \(losses.first!) → \(losses.last!)")
  }

  @Test func aWarmedUpStepAllocatesNothing() {
    var random = RandomGenerator(seed: 11)
    let model = ToyClassifier(random: &random)
    let (images, labels) = TrainingTests.toyData()
    let adam = Adam(parameters: model.parameters)
    let tape = Tape(seed: 3)
    var afterWarmUp = 0
    for step in 0..<5 {
      tape.reset()
      let loss = tape.loss(
        .binaryCrossEntropyWithLogits(), prediction: model(images, tape), target: labels)
      tape.backward(from: loss)
      adam.update(learningRate: 1e-3)
      if step == 0 { afterWarmUp = tape.allocations }
    }
    #expect(afterWarmUp > 0)
    #expect(
      tape.allocations == afterWarmUp,
      "steps 2–5 allocated \(tape.allocations - afterWarmUp) buffers")
  }

  /// Memory of attention forward + backward at T = 1024 and 4096: O(T) means ×4, O(T²) ×16.
  @Test func attentionMemoryGrowsLinearlyWithLength() {
    func bytes(length: Int) -> Int {
      let q = wave(Shape(1, length, 8), 0.013, 0.3, requiresGradient: true)
      let k = wave(Shape(1, length, 8), 0.029, 1.7, requiresGradient: true)
      let v = wave(Shape(1, length, 8), 0.051, 0.9, requiresGradient: true)
      let tape = Tape()
      let o = tape.attention(query: q, key: k, value: v, heads: 2)
      tape.backward(from: o)
      return tape.bytesHeld + 3 * q.count * 4  // plus the gradients of q, k and v
    }
    let short = bytes(length: 1024)
    let long = bytes(length: 4096)
    let ratio = Double(long) / Double(short)
    #expect(ratio < 4.5, "memory grew ×\(ratio) for ×4 length")
    #expect(
      long < 4096 * 4096, "\(long) bytes at T = 4096; one score matrix per head would be 64 MiB"
    )
  }
}
