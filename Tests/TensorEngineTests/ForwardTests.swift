import Foundation
import Testing

@testable import TensorEngine

/// Forward values against numpy (tools/fixtures/tensor_engine.py).
@Suite struct ForwardTests {
  let image = wave(Shape(2, 7, 6, 3), 0.37, 0.11)

  @Test(arguments: [
    ("conv_3x3_s1_p1", 3, 3, 1, 1, Padding2D(1)),
    ("conv_4x4_s2_p3", 4, 4, 2, 2, Padding2D(3)),
    ("conv_1x1_s1_p0", 1, 1, 1, 1, Padding2D.none),
    ("conv_1x1_s2_p0", 1, 1, 2, 2, Padding2D.none),
    ("conv_2x3_s2x1_asym", 2, 3, 2, 1, Padding2D(top: 0, bottom: 1, left: 2, right: 1)),
  ])
  func conv2d(name: String, kh: Int, kw: Int, sy: Int, sx: Int, padding: Padding2D) {
    let weight = wave(Shape(kh, kw, 3, 4), 0.23, 0.5, scale: 0.5)
    let bias = wave(Shape(4), 1.3, 0.2, scale: 0.1)
    for budget in [4 << 20, 50] {  // one chunk, and many small chunks
      let tape = Tape()
      tape.im2colBudget = budget
      let y = tape.conv2d(image, weight: weight, bias: bias, stride: (sy, sx), padding: padding)
      Fixtures.expect(y, matches: name)
    }
  }

  @Test func pooling() {
    let tape = Tape()
    Fixtures.expect(
      tape.maxPool2d(image, kernel: (3, 3), stride: (2, 2)), matches: "maxpool_3x3_s2")
    Fixtures.expect(
      tape.maxPool2d(image, kernel: (3, 3), stride: (2, 2), padding: Padding2D(1)),
      matches: "maxpool_3x3_s2_p1")
    Fixtures.expect(
      tape.averagePool2d(image, kernel: (2, 2), stride: (2, 2)), matches: "avgpool_2x2_s2")
    Fixtures.expect(
      tape.averagePool2d(image, kernel: (3, 3), stride: (1, 1), padding: Padding2D(1)),
      matches: "avgpool_3x3_s1_p1")
  }

  @Test func batchNormTrainingAndRunningAverages() {
    let norm = BatchNorm(3, momentum: 0.99, epsilon: 1e-3)
    norm.gamma.copy(
      from: Tensor(wave(Shape(3), 0.9, 0.3, scale: 0.5).array.map { 1 + $0 }, shape: Shape(3)))
    norm.beta.copy(from: wave(Shape(3), 0.7, 1.1, scale: 0.2))
    let tape = Tape()
    Fixtures.expect(norm(image, tape), matches: "batchnorm_training")
    Fixtures.expect(norm.runningMean, matches: "batchnorm_running_mean")
    Fixtures.expect(norm.runningVariance, matches: "batchnorm_running_variance")
  }

  @Test func batchNormInferenceUsesTheRunningAverages() {
    let norm = BatchNorm(2, epsilon: 0)
    norm.runningMean.copy(from: Tensor([1, -2], shape: Shape(2)))
    norm.runningVariance.copy(from: Tensor([4, 0.25], shape: Shape(2)))
    norm.gamma.copy(from: Tensor([3, 1], shape: Shape(2)))
    norm.beta.copy(from: Tensor([0.5, 0], shape: Shape(2)))
    norm.train(false)
    let y = norm(Tensor([3, -1, 1, -2.5], shape: Shape(2, 2)), Tape())
    // (3 − 1)/2·3 + 0.5 = 3.5; (−1 + 2)/0.5 = 2; (1 − 1)/2·3 + 0.5 = 0.5; (−2.5 + 2)/0.5 = −1.
    #expect(y.array == [3.5, 2, 0.5, -1])
    #expect(norm.runningMean.array == [1, -2])
  }

  @Test func fusedReLUEqualsReLUAfterwards() {
    let norm = BatchNorm(3)
    norm.beta.copy(from: Tensor([0.1, -0.2, 0.3], shape: Shape(3)))
    let tape = Tape()
    #expect(norm(image, tape, relu: true).array == tape.relu(norm(image, tape)).array)
    let other = wave(image.shape, 0.5, 0.9)
    #expect(
      norm(image, tape, relu: true, residual: other).array
        == tape.relu(tape.add(norm(image, tape), other)).array)
  }

  @Test func layerNorm() {
    let norm = LayerNorm(6)
    norm.gamma.copy(
      from: Tensor(wave(Shape(6), 0.5, 0.1, scale: 0.3).array.map { 1 + $0 }, shape: Shape(6)))
    norm.beta.copy(from: wave(Shape(6), 0.8, 0.4, scale: 0.1))
    Fixtures.expect(norm(wave(Shape(2, 5, 6), 0.41, 0.7, scale: 2), Tape()), matches: "layernorm")
  }

  @Test func attentionAcrossAKeyBlockBoundary() {
    let q = wave(Shape(2, 300, 4), 0.013, 0.3, scale: 2)
    let k = wave(Shape(2, 300, 4), 0.029, 1.7, scale: 2)
    let v = wave(Shape(2, 300, 4), 0.051, 0.9)
    let o = Tape().attention(query: q, key: k, value: v, heads: 2)
    Fixtures.expect(o, matches: "attention_t300_h2_d2", tolerance: 2e-5)
  }

  /// Head size 1 against softmax(q·kᵀ)·v written out naively.
  @Test func attentionWithHeadSizeOneMatchesTheDefinition() {
    let (t, heads) = (37, 2)
    let q = wave(Shape(1, t, heads), 0.13, 0.3, scale: 3)
    let k = wave(Shape(1, t, heads), 0.29, 1.7, scale: 3)
    let v = wave(Shape(1, t, heads), 0.51, 0.9)
    let o = Tape().attention(query: q, key: k, value: v, heads: heads)
    for h in 0..<heads {
      for i in 0..<t {
        let scores = (0..<t).map { Double(q[i * heads + h]) * Double(k[$0 * heads + h]) }
        let top = scores.max()!
        let weights = scores.map { Foundation.exp($0 - top) }
        let expected =
          zip(weights, 0..<t).reduce(0) { $0 + $1.0 * Double(v[$1.1 * heads + h]) }
          / weights.reduce(0, +)
        #expect(abs(Double(o[i * heads + h]) - expected) < 1e-5)
      }
    }
  }

  @Test func losses() {
    let logits = wave(Shape(3, 4, 4), 0.77, 0.2, scale: 3)
    let labels = Tensor(
      wave(Shape(3, 4, 4), 1.91, 0.6).array.map { $0 > 0.3 ? 1 : 0 }, shape: Shape(3, 4, 4))
    let probabilities = Tensor(
      logits.array.map { Float(1 / (1 + exp(-Double($0)))) }, shape: logits.shape)
    let tape = Tape()
    let cases: [(Loss, Tensor, String)] = [
      (
        .binaryCrossEntropyWithLogits(positiveWeight: 3, negativeWeight: 0.5), logits,
        "bce_logits_weighted"
      ),
      (
        .binaryCrossEntropy(positiveWeight: 3, negativeWeight: 0.5), probabilities,
        "bce_probabilities_weighted"
      ),
      (
        .focalTversky(alpha: 0.3, beta: 0.7, gamma: 1, epsilon: 1e-6), probabilities,
        "focal_tversky_gamma1"
      ),
      (
        .focalTversky(alpha: 0.3, beta: 0.7, gamma: 0.75, epsilon: 1e-6), probabilities,
        "focal_tversky_gamma075"
      ),
      (.meanAbsoluteError, probabilities, "mae"),
      (.meanSquaredError, probabilities, "mse"),
    ]
    for (loss, prediction, name) in cases {
      Fixtures.expect(
        tape.loss(loss, prediction: prediction, target: labels), matches: "loss_" + name)
    }
  }

  /// Hand-worked: p = (0.9, 0.2, 0.6, 0.1), y = (1, 0, 1, 0): TP = 1.5, FP = 0.3, FN = 0.5.
  @Test func focalTverskyByHand() {
    let p = Tensor([0.9, 0.2, 0.6, 0.1], shape: Shape(4))
    let y = Tensor([1, 0, 1, 0], shape: Shape(4))
    let value = Tape().loss(
      .focalTversky(alpha: 0.3, beta: 0.7, gamma: 2, epsilon: 0), prediction: p, target: y)
    // TI = 1.5 / (1.5 + 0.09 + 0.35) = 1.5 / 1.94; loss = (0.44 / 1.94)².
    #expect(abs(value.scalar - Float((0.44 / 1.94) * (0.44 / 1.94))) < 1e-6)
  }

  @Test func elementwiseAndSoftmaxByHand() {
    let tape = Tape()
    let x = Tensor([-2, 0, 1.5], shape: Shape(3))
    #expect(tape.relu(x).array == [0, 0, 1.5])
    #expect(tape.leakyRelu(x, slope: 0.02).array == [-0.04, 0, 1.5])
    let selu = tape.selu(x).array
    #expect(abs(selu[0] - Float(1.0507009873554805 * 1.6732632423543772 * (exp(-2.0) - 1))) < 1e-6)
    #expect(abs(selu[2] - Float(1.0507009873554805 * 1.5)) < 1e-6)
    #expect(abs(tape.sigmoid(x).array[0] - Float(1 / (1 + exp(2.0)))) < 1e-7)
    let softmax = tape.softmax(Tensor([1, 2, 3, 1000, 1000, 1000], shape: Shape(2, 3))).array
    let denominator = exp(1.0) + exp(2.0) + exp(3.0)
    #expect(abs(softmax[0] - Float(exp(1.0) / denominator)) < 1e-7)
    #expect(softmax[3...].allSatisfy { abs($0 - 1.0 / 3) < 1e-7 })
  }
}

@Suite struct VectorMathTests {
  @Test func vectorExpMatchesTheLibraryToTwoUlps() {
    var worst: Float = 0
    for start in stride(from: -87.0, to: 87.8, by: 0.173) {
      let x = Lanes((0..<16).map { Float(start + 0.0107 * Double($0)) })
      let y = TensorEngine.exp(x)
      for lane in 0..<16 {
        let expected = Foundation.exp(Double(x[lane]))
        worst = max(worst, Float(abs(Double(y[lane]) - expected) / expected))
      }
    }
    #expect(worst < 3e-7, "worst relative error \(worst)")
    #expect(TensorEngine.exp(Lanes(repeating: -500)).max() < 1e-37)
  }
}
