import Testing

@testable import TensorEngine

/// Finite-difference checks of every kernel's backward: inputs, weights and biases.
@Suite struct GradientTests {
  @Test func linear() {
    let x = wave(Shape(2, 3, 4), 0.3, 0.2, requiresGradient: true)
    let w = wave(Shape(4, 5), 0.7, 0.1, requiresGradient: true)
    let b = wave(Shape(5), 1.1, 0.4, requiresGradient: true)
    checkGradients([x, w, b]) { $0.linear(x, weight: w, bias: b) }
  }

  @Test(arguments: [
    (kernel: 3, stride: 1, padding: Padding2D(1)),
    (kernel: 4, stride: 2, padding: Padding2D(3)),
    (kernel: 1, stride: 1, padding: Padding2D.none),
    (kernel: 1, stride: 2, padding: Padding2D.none),
    (kernel: 2, stride: 2, padding: Padding2D(top: 0, bottom: 1, left: 1, right: 0)),
    (kernel: 3, stride: 1, padding: Padding2D(top: 0, bottom: 2, left: 2, right: 1)),
  ])
  func conv2d(kernel: Int, stride: Int, padding: Padding2D) {
    let x = wave(Shape(2, 6, 5, 3), 0.37, 0.11, requiresGradient: true)
    let w = wave(Shape(kernel, kernel, 3, 4), 0.23, 0.5, scale: 0.5, requiresGradient: true)
    let b = wave(Shape(4), 1.3, 0.2, requiresGradient: true)
    checkGradients([x, w, b]) {
      $0.conv2d(x, weight: w, bias: b, stride: (stride, stride), padding: padding)
    }
  }

  /// Stride 1 takes dx as a convolution of dy by the flipped filters; stride 2 scatters
  /// patch gradients back (col2im).
  @Test(arguments: [1, 2])
  func conv2dRectangularKernelWithoutBias(strideY: Int) {
    let x = wave(Shape(1, 5, 6, 2), 0.41, 0.3, requiresGradient: true)
    let w = wave(Shape(2, 3, 2, 3), 0.29, 0.8, requiresGradient: true)
    checkGradients([x, w]) {
      $0.conv2d(x, weight: w, bias: nil, stride: (strideY, 1), padding: Padding2D(1))
    }
  }

  /// More filters than output pixels: dx of this stride-1 convolution goes through col2im,
  /// flipping the filters would cost more.
  @Test func conv2dWithMoreFiltersThanPixels() {
    let x = wave(Shape(1, 3, 3, 2), 0.41, 0.3, requiresGradient: true)
    let w = wave(Shape(3, 3, 2, 12), 0.29, 0.8, scale: 0.5, requiresGradient: true)
    checkGradients([x, w]) { $0.conv2d(x, weight: w, bias: nil, padding: Padding2D(1)) }
  }

  @Test func conv2dInChunks() {
    // 1000 floats of im2col hold 37 rows of 27: the 2×6×5 = 60 output pixels take two chunks.
    let x = wave(Shape(2, 6, 5, 3), 0.37, 0.11, requiresGradient: true)
    let w = wave(Shape(3, 3, 3, 2), 0.23, 0.5, scale: 0.5, requiresGradient: true)
    checkGradients([x, w]) { tape in
      tape.im2colBudget = 1000
      return tape.conv2d(x, weight: w, bias: nil, padding: Padding2D(1))
    }
  }

  /// Three channels run scalar; eighteen run sixteen in vector lanes and two scalar.
  @Test(arguments: [(Padding2D.none, 3), (Padding2D(1), 3), (Padding2D(1), 18)])
  func maxPool(padding: Padding2D, channels: Int) {
    let x = distinct(Shape(2, 7, 6, channels), requiresGradient: true)
    checkGradients([x], step: 1e-3) {
      $0.maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: padding)
    }
  }

  @Test(arguments: [(2, 2, Padding2D.none), (3, 1, Padding2D(1))])
  func averagePool(kernel: Int, stride: Int, padding: Padding2D) {
    let x = wave(Shape(2, 6, 5, 3), 0.37, 0.11, requiresGradient: true)
    checkGradients([x]) {
      $0.averagePool2d(x, kernel: (kernel, kernel), stride: (stride, stride), padding: padding)
    }
  }

  @Test func batchNormTraining() {
    let x = wave(Shape(3, 4, 2, 5), 0.37, 0.11, scale: 2, requiresGradient: true)
    let gamma = wave(Shape(5), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(5), 0.7, 1.1, requiresGradient: true)
    let mean = Tensor(zeros: Shape(5))
    let variance = Tensor(zeros: Shape(5))
    checkGradients([x, gamma, beta]) {
      $0.batchNorm(
        x, gamma: gamma, beta: beta, runningMean: mean, runningVariance: variance, momentum: 0.9,
        epsilon: 1e-3)
    }
  }

  @Test func batchNormInference() {
    let x = wave(Shape(3, 4, 5), 0.37, 0.11, scale: 2, requiresGradient: true)
    let gamma = wave(Shape(5), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(5), 0.7, 1.1, requiresGradient: true)
    let mean = wave(Shape(5), 0.5, 0.5)
    let variance = Tensor([0.5, 1, 2, 0.25, 4], shape: Shape(5))
    checkGradients([x, gamma, beta]) {
      $0.batchNormInference(
        x, gamma: gamma, beta: beta, runningMean: mean, runningVariance: variance, epsilon: 1e-3)
    }
  }

  @Test(arguments: [false, true])
  func batchNormFusedWithReLU(training: Bool) {
    let x = distinct(Shape(4, 3, 5), requiresGradient: true)
    let gamma = wave(Shape(5), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(5), 0.7, 1.1, requiresGradient: true)
    let mean = Tensor(zeros: Shape(5))
    let variance = Tensor([0.5, 1, 2, 0.25, 4], shape: Shape(5))
    checkGradients([x, gamma, beta], step: 1e-3) { tape in
      training
        ? tape.batchNorm(
          x, gamma: gamma, beta: beta, runningMean: Tensor(zeros: Shape(5)),
          runningVariance: Tensor(zeros: Shape(5)), momentum: 0.9, epsilon: 1e-3, relu: true)
        : tape.batchNormInference(
          x, gamma: gamma, beta: beta, runningMean: mean, runningVariance: variance, epsilon: 1e-3,
          relu: true)
    }
  }

  @Test(arguments: [false, true])
  func batchNormFusedWithResidualAndReLU(training: Bool) {
    let x = distinct(Shape(4, 3, 5), requiresGradient: true)
    let residual = wave(Shape(4, 3, 5), 0.5, 0.9, scale: 0.05, requiresGradient: true)
    let gamma = wave(Shape(5), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(5), 0.7, 1.1, requiresGradient: true)
    let variance = Tensor([0.5, 1, 2, 0.25, 4], shape: Shape(5))
    checkGradients([x, gamma, beta, residual], step: 1e-3) { tape in
      training
        ? tape.batchNorm(
          x, gamma: gamma, beta: beta, runningMean: Tensor(zeros: Shape(5)),
          runningVariance: Tensor(zeros: Shape(5)), momentum: 0.9, epsilon: 1e-3, relu: true,
          residual: residual)
        : tape.batchNormInference(
          x, gamma: gamma, beta: beta, runningMean: Tensor(zeros: Shape(5)),
          runningVariance: variance, epsilon: 1e-3, relu: true, residual: residual)
    }
  }

  /// 37 channels: two blocks of sixteen in vector lanes, the rest scalar.
  @Test func batchNormInVectorLanes() {
    let x = distinct(Shape(6, 37), requiresGradient: true)
    let gamma = wave(Shape(37), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(37), 0.7, 1.1, requiresGradient: true)
    checkGradients([x, gamma, beta], step: 1e-3) { tape in
      tape.batchNorm(
        x, gamma: gamma, beta: beta, runningMean: Tensor(zeros: Shape(37)),
        runningVariance: Tensor(zeros: Shape(37)), momentum: 0.9, epsilon: 1e-3)
    }
  }

  /// The fused residual and ReLU in vector lanes give the gradients of BN followed by the
  /// sum and the ReLU.
  @Test func fusedResidualAndReLUGradientsEqualTheUnfusedOnes() {
    func gradients(fused: Bool) -> [[Float]] {
      let x = distinct(Shape(6, 37), requiresGradient: true)
      let gamma = wave(Shape(37), 0.9, 0.3, requiresGradient: true)
      let beta = wave(Shape(37), 0.7, 1.1, requiresGradient: true)
      let tape = Tape()
      let statistics = (Tensor(zeros: Shape(37)), Tensor(zeros: Shape(37)))
      let residual = wave(Shape(6, 37), 0.5, 0.9, requiresGradient: true)
      let normalized = tape.batchNorm(
        x, gamma: gamma, beta: beta, runningMean: statistics.0, runningVariance: statistics.1,
        momentum: 0.9, epsilon: 1e-3, relu: fused, residual: fused ? residual : nil)
      let y = fused ? normalized : tape.relu(tape.add(normalized, residual))
      tape.backward(from: y, seed: wave(y.shape, 0.61, 0.3))
      return [x, gamma, beta, residual].map { $0.gradient!.array }
    }
    let fused = gradients(fused: true)
    let unfused = gradients(fused: false)
    for (a, b) in zip(fused, unfused) {
      #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }
  }

  /// 6,000 rows × 37 channels: the sums run over three row blocks. Forward and backward,
  /// with and without a fused residual and ReLU, against the formulas in double precision,
  /// the ReLU mask taken from the forward output (backward finds it again from x and the
  /// residual, and must find the same one).
  @Test(arguments: [false, true], [false, true])
  func batchNormOverRowBlocksMatchesDoublePrecision(relu: Bool, residual withResidual: Bool) {
    let (m, c) = (6000, 37)
    let x = wave(Shape(m, c), 0.37, 0.11, scale: 2, requiresGradient: true)
    for index in 0..<x.count { x[index] += 3 }
    let gamma = wave(Shape(c), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(c), 0.7, 1.1, requiresGradient: true)
    let seed = wave(Shape(m, c), 0.61, 0.3)
    let residual = wave(Shape(m, c), 0.23, 0.4, requiresGradient: true)
    let tape = Tape()
    let y = tape.batchNorm(
      x, gamma: gamma, beta: beta, runningMean: Tensor(zeros: Shape(c)),
      runningVariance: Tensor(zeros: Shape(c)), momentum: 0.9, epsilon: 1e-3, relu: relu,
      residual: withResidual ? residual : nil)
    tape.backward(from: y, seed: seed)
    let (dx, dgamma, dbeta) = (x.gradient!, gamma.gradient!, beta.gradient!)
    #expect((residual.gradient != nil) == withResidual)
    var (worstOutput, worstGradient, worstResidual) = (0.0, 0.0, 0.0)
    for channel in 0..<c {
      let column = (0..<m).map { Double(x[$0 * c + channel]) }
      let mean = column.reduce(0, +) / Double(m)
      let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m)
      let inverseStd = 1 / (variance + 1e-3).squareRoot()
      let xhat = column.map { ($0 - mean) * inverseStd }
      let (g0, b0) = (Double(gamma[channel]), Double(beta[channel]))
      let g = (0..<m).map { row in
        relu && y[row * c + channel] <= 0 ? 0 : Double(seed[row * c + channel])
      }
      let sumG = g.reduce(0, +)
      let sumGXhat = zip(g, xhat).map { $0 * $1 }.reduce(0, +)
      #expect(abs(Double(dbeta[channel]) - sumG) <= 1e-4 * max(1, abs(sumG)))
      #expect(abs(Double(dgamma[channel]) - sumGXhat) <= 1e-4 * max(1, abs(sumGXhat)))
      for row in 0..<m {
        let r = withResidual ? Double(residual[row * c + channel]) : 0
        let value = g0 * xhat[row] + b0 + r
        let expected = relu ? max(value, 0) : value
        if let dr = residual.gradient {
          worstResidual = max(worstResidual, abs(Double(dr[row * c + channel]) - g[row]))
        }
        worstOutput = max(worstOutput, abs(Double(y[row * c + channel]) - expected))
        let gradient =
          g0 * inverseStd * (g[row] - sumG / Double(m) - xhat[row] * sumGXhat / Double(m))
        worstGradient = max(worstGradient, abs(Double(dx[row * c + channel]) - gradient))
      }
    }
    #expect(worstOutput <= 1e-4)
    #expect(worstGradient <= 1e-4)
    #expect(worstResidual == 0)
  }

  /// x feeds both a convolution and the residual sum (the add, or fused into the batch
  /// norm), so its gradient is first assigned and then accumulated (through the pointwise
  /// GEMM or through col2im).
  @Test(arguments: [1, 3], [false, true])
  func residualBlockGradientsAccumulate(kernel: Int, fused: Bool) {
    let x = distinct(Shape(2, 4, 4, 3), requiresGradient: true)
    let w = wave(Shape(kernel, kernel, 3, 3), 0.23, 0.5, scale: 0.5, requiresGradient: true)
    let gamma = wave(Shape(3), 0.9, 0.3, requiresGradient: true)
    let beta = wave(Shape(3), 0.7, 1.1, requiresGradient: true)
    checkGradients([x, w, gamma, beta], step: 1e-3) { tape in
      let h = tape.conv2d(x, weight: w, bias: nil, padding: Padding2D(kernel / 2))
      let statistics = (Tensor(zeros: Shape(3)), Tensor(zeros: Shape(3)))
      let sum =
        fused
        ? tape.batchNorm(
          h, gamma: gamma, beta: beta, runningMean: statistics.0, runningVariance: statistics.1,
          momentum: 0.9, epsilon: 1e-3, relu: true, residual: x)
        : tape.relu(
          tape.add(
            tape.batchNorm(
              h, gamma: gamma, beta: beta, runningMean: statistics.0,
              runningVariance: statistics.1, momentum: 0.9, epsilon: 1e-3, relu: true), x))
      return tape.multiply(sum, tape.sigmoid(x))
    }
  }

  @Test func layerNorm() {
    let x = wave(Shape(2, 5, 6), 0.41, 0.7, scale: 2, requiresGradient: true)
    let gamma = wave(Shape(6), 0.5, 0.1, requiresGradient: true)
    let beta = wave(Shape(6), 0.8, 0.4, requiresGradient: true)
    checkGradients([x, gamma, beta]) { $0.layerNorm(x, gamma: gamma, beta: beta, epsilon: 1e-6) }
  }

  @Test(arguments: [
    ElementwiseFunction.relu, .leakyRelu(slope: 0.02), .selu, .sigmoid, .exp,
  ])
  func elementwise(function: ElementwiseFunction) {
    let x = distinct(Shape(3, 10), requiresGradient: true)
    checkGradients([x], step: 1e-3) { $0.apply(function, x) }
  }

  @Test func logarithm() {
    let x = wave(Shape(20), 0.3, 0.1, requiresGradient: true)
    for index in 0..<x.count { x[index] = 1.5 + x[index] }
    checkGradients([x], step: 1e-3) { $0.log(x) }
  }

  @Test func softmax() {
    let x = wave(Shape(3, 7), 0.5, 0.2, scale: 2, requiresGradient: true)
    checkGradients([x]) { $0.softmax(x) }
  }

  @Test func addAndMultiplyWithBroadcast() {
    let a = wave(Shape(2, 3, 4), 0.3, 0.2, requiresGradient: true)
    let b = wave(Shape(2, 3, 4), 0.5, 0.9, requiresGradient: true)
    let c = wave(Shape(4), 0.8, 0.1, requiresGradient: true)
    let d = wave(Shape(3, 4), 0.6, 1.3, requiresGradient: true)
    checkGradients([a, b, c, d]) { tape in
      tape.multiply(tape.add(tape.multiply(a, b), c), d)
    }
  }

  @Test func reshapeReductionsAndConcat() {
    let a = wave(Shape(2, 3, 4), 0.3, 0.2, requiresGradient: true)
    let b = wave(Shape(2, 5, 4), 0.5, 0.9, requiresGradient: true)
    checkGradients([a, b]) { tape in
      let joined = tape.concat(a, b, axis: 1)  // [2, 8, 4]
      let flat = tape.reshape(joined, Shape(16, 4))
      let byColumn = tape.mean(flat, axis: 0)  // [4]
      let byRow = tape.sum(tape.reshape(joined, Shape(2, 8, 4)), axis: 2)  // [2, 8]
      let first = tape.mean(tape.reshape(byRow, Shape(2, 8)), axis: 1)  // [2]
      return tape.concat(
        tape.reshape(byColumn, Shape(1, 4)), tape.reshape(first, Shape(1, 2)), axis: 1)
    }
  }

  @Test func concatOnTheLastAndFirstAxes() {
    let a = wave(Shape(2, 3), 0.3, 0.2, requiresGradient: true)
    let b = wave(Shape(2, 4), 0.5, 0.9, requiresGradient: true)
    let c = wave(Shape(1, 7), 0.7, 0.4, requiresGradient: true)
    checkGradients([a, b, c]) { tape in tape.concat(tape.concat(a, b, axis: 1), c, axis: 0) }
  }

  @Test func globalAveragePool() {
    let x = wave(Shape(2, 3, 4, 5), 0.37, 0.11, requiresGradient: true)
    checkGradients([x]) { $0.globalAveragePool2d(x) }
  }

  @Test func dropoutUsesOneMaskForwardAndBackward() {
    let x = wave(Shape(4, 25), 0.37, 0.11, requiresGradient: true)
    checkGradients([x]) { $0.dropout(x, rate: 0.3) }
  }

  /// Head size 1 (the transformer's) takes its own forward path: maximum known up front.
  @Test(arguments: [7, 40])
  func attentionWithHeadSizeOne(length: Int) {
    let q = wave(Shape(2, length, 2), 0.13, 0.3, scale: 2, requiresGradient: true)
    let k = wave(Shape(2, length, 2), 0.29, 1.7, scale: 2, requiresGradient: true)
    let v = wave(Shape(2, length, 2), 0.51, 0.9, requiresGradient: true)
    checkGradients([q, k, v]) { $0.attention(query: q, key: k, value: v, heads: 2) }
  }

  @Test(arguments: [7, 260])
  func attention(length: Int) {
    let q = wave(Shape(2, length, 6), 0.13, 0.3, requiresGradient: true)
    let k = wave(Shape(2, length, 6), 0.29, 1.7, requiresGradient: true)
    let v = wave(Shape(2, length, 6), 0.51, 0.9, requiresGradient: true)
    checkGradients([q, k, v], samples: length > 100 ? 12 : 48) {
      $0.attention(query: q, key: k, value: v, heads: 2)
    }
  }

  @Test(arguments: [
    Loss.binaryCrossEntropyWithLogits(positiveWeight: 3, negativeWeight: 0.5),
    .focalTversky(alpha: 0.3, beta: 0.7, gamma: 1, epsilon: 1e-6),
    .focalTversky(alpha: 0.4, beta: 0.6, gamma: 0.75, epsilon: 1e-6),
    .meanAbsoluteError, .meanSquaredError,
  ])
  func lossOnLogitsOrProbabilities(loss: Loss) {
    let logits = wave(Shape(3, 16), 0.77, 0.2, scale: 3, requiresGradient: true)
    let labels = Tensor((0..<48).map { Float(($0 * 5) % 3 == 0 ? 1 : 0) }, shape: Shape(3, 16))
    checkGradients([logits], step: 1e-3, absolute: 1e-4) { tape in
      if case .binaryCrossEntropyWithLogits = loss {
        return tape.loss(loss, prediction: logits, target: labels)
      }
      return tape.loss(loss, prediction: tape.sigmoid(logits), target: labels)
    }
  }

  @Test func binaryCrossEntropyOnProbabilitiesWithSoftLabels() {
    let probabilities = wave(Shape(20), 0.77, 0.2, scale: 0.45, requiresGradient: true)
    for index in 0..<probabilities.count { probabilities[index] += 0.5 }
    let labels = wave(Shape(20), 1.3, 0.1, scale: 0.5)
    for index in 0..<labels.count { labels[index] += 0.5 }
    checkGradients([probabilities], step: 1e-3, absolute: 1e-4) {
      $0.loss(
        .binaryCrossEntropy(positiveWeight: 2, negativeWeight: 1), prediction: probabilities,
        target: labels)
    }
  }

  /// The layers the susceptibility network is made of, end to end.
  @Test func smallNetworkEndToEnd() {
    var random = RandomGenerator(seed: 3)
    let conv = Conv2D(2, 4, kernel: (3, 3), stride: (2, 2), padding: Padding2D(1), random: &random)
    let norm = BatchNorm(4)
    let head = Linear(4, 1, random: &random)
    let x = wave(Shape(3, 8, 8, 2), 0.37, 0.11, requiresGradient: true)
    let labels = Tensor([1, 0, 1], shape: Shape(3, 1))
    checkGradients(
      [x, conv.weight, conv.bias!, norm.gamma, norm.beta, head.weight, head.bias!], step: 1e-3
    ) { tape in
      var h = tape.relu(norm(conv(x, tape), tape))
      h = tape.maxPool2d(h, kernel: (2, 2), stride: (2, 2))
      let p = tape.sigmoid(head(tape.globalAveragePool2d(h), tape))
      return tape.loss(.focalTversky(), prediction: p, target: labels)
    }
  }
}
