/// Dense layer over the last axis: y = x·W + b, W [inputs, outputs].
public final class Linear: Module {
  public let weight: Tensor
  public let bias: Tensor?

  public init(
    _ inputs: Int, _ outputs: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
    random: inout RandomGenerator
  ) {
    weight = parameter(Shape(inputs, outputs), initializer, random: &random)
    self.bias = bias ? parameter(Shape(outputs), .zeros, random: &random) : nil
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    tape.linear(x, weight: weight, bias: bias)
  }
}

/// 2-D convolution over NHWC images, weights [KH, KW, Cin, Cout].
public final class Conv2D: Module {
  public let weight: Tensor
  public let bias: Tensor?
  public let stride: (Int, Int)
  public let padding: Padding2D

  public init(
    _ inputChannels: Int, _ outputChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
    padding: Padding2D = .none, bias: Bool = true, initializer: Initializer = .glorotUniform,
    random: inout RandomGenerator
  ) {
    weight = parameter(
      Shape(kernel.0, kernel.1, inputChannels, outputChannels), initializer, random: &random)
    self.bias = bias ? parameter(Shape(outputChannels), .zeros, random: &random) : nil
    self.stride = stride
    self.padding = padding
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    tape.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
  }
}

/// Batch normalisation over the last axis. Defaults are Keras' (momentum 0.99, ε = 1e-3),
/// the papers' framework.
public final class BatchNorm: Module {
  public let gamma: Tensor
  public let beta: Tensor
  public let runningMean: Tensor
  public let runningVariance: Tensor
  public let momentum: Float
  public let epsilon: Float

  public init(_ channels: Int, momentum: Float = 0.99, epsilon: Float = 1e-3) {
    var unused = RandomGenerator(seed: 0)
    gamma = parameter(Shape(channels), .ones, random: &unused)
    beta = parameter(Shape(channels), .zeros, random: &unused)
    runningMean = Tensor(zeros: Shape(channels))
    runningVariance = Tensor(zeros: Shape(channels))
    runningVariance.fill(1)
    self.momentum = momentum
    self.epsilon = epsilon
  }

  /// Normalises `x`, then adds `residual` and applies ReLU where asked, in the same pass.
  public func callAsFunction(
    _ x: Tensor, _ tape: Tape, relu: Bool = false, residual: Tensor? = nil
  ) -> Tensor {
    if isTraining {
      return tape.batchNorm(
        x, gamma: gamma, beta: beta, runningMean: runningMean, runningVariance: runningVariance,
        momentum: momentum, epsilon: epsilon, relu: relu, residual: residual)
    }
    return tape.batchNormInference(
      x, gamma: gamma, beta: beta, runningMean: runningMean, runningVariance: runningVariance,
      epsilon: epsilon, relu: relu, residual: residual)
  }
}

/// Layer normalisation over the last axis (Keras' ε = 1e-6 by default, as in the
/// transformer's code).
public final class LayerNorm: Module {
  public let gamma: Tensor
  public let beta: Tensor
  public let epsilon: Float

  public init(_ features: Int, epsilon: Float = 1e-6) {
    var unused = RandomGenerator(seed: 0)
    gamma = parameter(Shape(features), .ones, random: &unused)
    beta = parameter(Shape(features), .zeros, random: &unused)
    self.epsilon = epsilon
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    tape.layerNorm(x, gamma: gamma, beta: beta, epsilon: epsilon)
  }
}

/// Inverted dropout in training mode, the identity in inference mode.
public final class Dropout: Module {
  public let rate: Float

  public init(_ rate: Float) { self.rate = rate }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    isTraining ? tape.dropout(x, rate: rate) : x
  }
}

/// Multi-head self-attention (Keras' MultiHeadAttention with query = key = value): dense
/// projections to `heads × headSize` for queries, keys and values, O(T)-memory attention,
/// and a dense projection back to the input width.
public final class MultiHeadAttention: Module {
  public let query: Linear
  public let key: Linear
  public let value: Linear
  public let output: Linear
  public let heads: Int

  public init(features: Int, heads: Int, headSize: Int, random: inout RandomGenerator) {
    query = Linear(features, heads * headSize, random: &random)
    key = Linear(features, heads * headSize, random: &random)
    value = Linear(features, heads * headSize, random: &random)
    output = Linear(heads * headSize, features, random: &random)
    self.heads = heads
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    let attended = tape.attention(
      query: query(x, tape), key: key(x, tape), value: value(x, tape), heads: heads)
    return output(attended, tape)
  }
}
