import TensorEngine

/// The layout knobs of the density network; the defaults are the paper's code.
public struct DensityArchitecture: Equatable, Sendable {
  public var inputChannels: Int
  /// Hidden dense layers before the single ReLU output.
  public var denseWidths: [Int]
  /// Batch norm after each hidden dense layer (the text's dense sub-blocks).
  public var denseBatchNorm: Bool
  /// Dropout after each hidden dense layer.
  public var dropout: Float

  public init(
    inputChannels: Int = 13, denseWidths: [Int] = [512, 128, 32], denseBatchNorm: Bool = false,
    dropout: Float = 0
  ) {
    self.inputChannels = inputChannels
    self.denseWidths = denseWidths
    self.denseBatchNorm = denseBatchNorm
    self.dropout = dropout
  }
}

/// One hidden layer of the density head: dense → (batch norm) → ReLU → (dropout).
public final class DenseBlock: Module {
  public let dense: Linear
  public let norm: BatchNorm?
  public let dropout: Dropout

  init(
    _ inputs: Int, _ outputs: Int, batchNorm: Bool, dropout: Float, random: inout RandomGenerator
  ) {
    dense = Linear(inputs, outputs, random: &random)
    norm = batchNorm ? BatchNorm(outputs) : nil
    self.dropout = Dropout(dropout)
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    var h = dense(x, tape)
    if let norm { h = norm(h, tape) }
    return dropout(tape.relu(h), tape)
  }
}

/// The area-density network (SPEC.md §1): one 1 km cell, 32×32×13 pixels, to its expected
/// landslide area density (% of the cell). Convolutional stem, a 1×1 "dense" convolution,
/// two max-pools, then dense layers to one ReLU output.
public final class DensityNetwork: Module {
  public let stem: Conv2D
  public let stemNorm: BatchNorm
  public let pointwise: Conv2D
  public let pointwiseNorm: BatchNorm
  public let hidden: [DenseBlock]
  public let output: Linear

  /// Spatial size after the stem and the two pools for a 32 × 32 cell: 18 → 8 → 3.
  public static let featureSide = 3

  public init(_ architecture: DensityArchitecture = .init(), random: inout RandomGenerator) {
    stem = Conv2D(
      architecture.inputChannels, 64, kernel: (4, 4), stride: (2, 2), padding: Padding2D(3),
      random: &random)
    stemNorm = BatchNorm(64)
    pointwise = Conv2D(64, 128, kernel: (1, 1), random: &random)
    pointwiseNorm = BatchNorm(128)
    var inputs = DensityNetwork.featureSide * DensityNetwork.featureSide * 128
    var hidden: [DenseBlock] = []
    for width in architecture.denseWidths {
      hidden.append(
        DenseBlock(
          inputs, width, batchNorm: architecture.denseBatchNorm, dropout: architecture.dropout,
          random: &random))
      inputs = width
    }
    self.hidden = hidden
    output = Linear(inputs, 1, random: &random)
  }

  /// Density per cell, [B, 1], for cells [B, 32, 32, C].
  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    var h = stemNorm(stem(x, tape), tape, relu: true)
    h = tape.maxPool2d(h, kernel: (3, 3), stride: (2, 2))
    h = pointwiseNorm(tape.relu(pointwise(h, tape)), tape)
    h = tape.maxPool2d(h, kernel: (3, 3), stride: (2, 2))
    h = tape.reshape(h, Shape(h.shape[0], h.shape[1] * h.shape[2] * h.shape[3]))
    for block in hidden { h = block(h, tape) }
    return tape.relu(output(h, tape))
  }
}
