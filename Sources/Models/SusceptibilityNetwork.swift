import TensorEngine

/// The layout knobs of the susceptibility network; the defaults are the paper's code.
public struct SusceptibilityArchitecture: Equatable, Sendable {
  /// Bottleneck blocks in each of the four stages (ResNet-50's 3, 4, 6, 3 by default).
  public var blocksPerStage: [Int]
  /// Predictor channels of the input patch.
  public var inputChannels: Int
  /// Dropout after the stem's batch norm and before the head (the text's 30 %).
  public var dropout: Float
  /// The code's ReLU between the head's convolution and its batch norm. It maps every
  /// negative score to one value, so all cells below it share one probability and cannot
  /// be ranked (a ceiling on AUC), and it can switch the whole output off.
  public var headReLU: Bool

  public init(
    blocksPerStage: [Int] = [3, 4, 6, 3], inputChannels: Int = 13, dropout: Float = 0.3,
    headReLU: Bool = true
  ) {
    precondition(blocksPerStage.count == 4 && blocksPerStage.allSatisfy { $0 >= 1 })
    self.blocksPerStage = blocksPerStage
    self.inputChannels = inputChannels
    self.dropout = dropout
    self.headReLU = headReLU
  }

  /// Bottleneck widths per stage: (1×1 reduce, 3×3, 1×1 expand).
  static let stageWidths = [(64, 256), (128, 512), (256, 1024), (512, 2048)]
}

/// ResNet bottleneck block: 1×1 → 3×3 → 1×1 convolutions, each followed by batch norm,
/// ReLU after the first two and after the residual sum; a 1×1 projection shortcut (with
/// batch norm) where the shape changes. The stride sits on the first 1×1 convolution and on
/// the shortcut, as in Keras' ResNet50.
public final class Bottleneck: Module {
  public let conv1: Conv2D
  public let norm1: BatchNorm
  public let conv2: Conv2D
  public let norm2: BatchNorm
  public let conv3: Conv2D
  public let norm3: BatchNorm
  public let shortcut: Conv2D?
  public let shortcutNorm: BatchNorm?

  public init(inputs: Int, width: Int, outputs: Int, stride: Int, random: inout RandomGenerator) {
    conv1 = Conv2D(inputs, width, kernel: (1, 1), stride: (stride, stride), random: &random)
    norm1 = BatchNorm(width)
    conv2 = Conv2D(width, width, kernel: (3, 3), padding: Padding2D(1), random: &random)
    norm2 = BatchNorm(width)
    conv3 = Conv2D(width, outputs, kernel: (1, 1), random: &random)
    norm3 = BatchNorm(outputs)
    if stride != 1 || inputs != outputs {
      shortcut = Conv2D(inputs, outputs, kernel: (1, 1), stride: (stride, stride), random: &random)
      shortcutNorm = BatchNorm(outputs)
    } else {
      shortcut = nil
      shortcutNorm = nil
    }
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    var h = norm1(conv1(x, tape), tape, relu: true)
    h = norm2(conv2(h, tape), tape, relu: true)
    h = conv3(h, tape)
    var residual = x
    if let shortcut, let shortcutNorm { residual = shortcutNorm(shortcut(x, tape), tape) }
    // The third batch norm, the residual sum and the last ReLU in one pass.
    return norm3(h, tape, relu: true, residual: residual)
  }
}

/// The susceptibility ResNet-U-Net (SPEC.md §1): a 128×128×13 patch (4 × 4 cells of
/// 32 × 32 pixels) to the probability of a new landslide in each of its 4 × 4 cells.
/// With the default architecture it has 23,556,931 trainable parameters, the paper's figure.
public final class SusceptibilityNetwork: Module {
  public let stem: Conv2D
  public let stemNorm: BatchNorm
  public let stemDropout: Dropout
  public let stages: [[Bottleneck]]
  public let headDropout: Dropout
  public let head: Conv2D
  public let headNorm: BatchNorm
  public let architecture: SusceptibilityArchitecture

  /// Input pixels per output cell along each side: the product of the stem's and the
  /// stages' strides, so a study's mapping units must be this many pixels across.
  public static let pixelsPerCell = 32

  public init(_ architecture: SusceptibilityArchitecture = .init(), random: inout RandomGenerator) {
    self.architecture = architecture
    stem = Conv2D(
      architecture.inputChannels, 64, kernel: (4, 4), stride: (2, 2), padding: Padding2D(3),
      random: &random)
    stemNorm = BatchNorm(64)
    stemDropout = Dropout(architecture.dropout)
    var inputs = 64
    var stages: [[Bottleneck]] = []
    for (stage, count) in architecture.blocksPerStage.enumerated() {
      let (width, outputs) = SusceptibilityArchitecture.stageWidths[stage]
      var blocks: [Bottleneck] = []
      for block in 0..<count {
        let stride = stage > 0 && block == 0 ? 2 : 1
        blocks.append(
          Bottleneck(
            inputs: inputs, width: width, outputs: outputs, stride: stride, random: &random))
        inputs = outputs
      }
      stages.append(blocks)
    }
    self.stages = stages
    headDropout = Dropout(architecture.dropout)
    head = Conv2D(inputs, 1, kernel: (3, 3), padding: Padding2D(1), random: &random)
    headNorm = BatchNorm(1)
  }

  /// The head's pre-sigmoid scores, [B, 4, 4, 1] for a [B, 128, 128, C] input.
  public func logits(_ x: Tensor, _ tape: Tape) -> Tensor {
    // BN → dropout → ReLU as the text has it; ReLU commutes with the (non-negative) dropout
    // mask, so BN and ReLU run fused.
    var h = stemDropout(stemNorm(stem(x, tape), tape, relu: true), tape)
    h = tape.maxPool2d(h, kernel: (3, 3), stride: (2, 2))
    for stage in stages {
      for block in stage { h = block(h, tape) }
    }
    h = head(headDropout(h, tape), tape)
    if architecture.headReLU { h = tape.relu(h) }
    return headNorm(h, tape)
  }

  /// Probability of a new landslide per cell, [B, 4, 4, 1].
  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    tape.sigmoid(logits(x, tape))
  }
}
