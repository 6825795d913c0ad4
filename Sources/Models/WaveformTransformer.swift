import TensorEngine

/// The layout knobs of the full-waveform transformer; defaults are the paper's code.
public struct TransformerArchitecture: Equatable, Sendable {
  /// Ground-motion components per time step (E–W, N–S, U–D); 0 switches the waveform
  /// branch off.
  public var components: Int
  /// Static covariates per site (terrain, lithology); 0 switches the static branch off.
  public var staticFeatures: Int
  public var encoderBlocks: Int
  public var heads: Int
  public var headSize: Int
  /// Width of the position-wise feed-forward (two k = 1 convolutions).
  public var feedForward: Int
  public var encoderDropout: Float
  /// Static branch: dense blocks of `staticWidth` units, then one dense layer of `staticOutput`.
  public var staticBlocks: Int
  public var staticWidth: Int
  public var staticOutput: Int
  public var staticDropout: Float
  /// Classifier head: dense layers of these widths with dropout, then one sigmoid unit.
  public var headWidths: [Int]
  public var headDropout: Float

  public init(
    components: Int = 3, staticFeatures: Int = 5, encoderBlocks: Int = 2, heads: Int = 2,
    headSize: Int = 1, feedForward: Int = 4, encoderDropout: Float = 0.3, staticBlocks: Int = 8,
    staticWidth: Int = 32, staticOutput: Int = 512, staticDropout: Float = 0.3,
    headWidths: [Int] = [128, 128], headDropout: Float = 0.2
  ) {
    precondition(components > 0 || staticFeatures > 0, "the transformer needs at least one branch")
    self.components = components
    self.staticFeatures = staticFeatures
    self.encoderBlocks = encoderBlocks
    self.heads = heads
    self.headSize = headSize
    self.feedForward = feedForward
    self.encoderDropout = encoderDropout
    self.staticBlocks = staticBlocks
    self.staticWidth = staticWidth
    self.staticOutput = staticOutput
    self.staticDropout = staticDropout
    self.headWidths = headWidths
    self.headDropout = headDropout
  }
}

/// One transformer encoder block (Keras' time-series example, as in the paper's code):
/// LayerNorm → multi-head self-attention → dropout → residual; LayerNorm → k = 1
/// convolution → ReLU → dropout → k = 1 convolution → residual.
public final class EncoderBlock: Module {
  public let attentionNorm: LayerNorm
  public let attention: MultiHeadAttention
  public let attentionDropout: Dropout
  public let feedForwardNorm: LayerNorm
  public let expand: Linear
  public let feedForwardDropout: Dropout
  public let contract: Linear

  init(_ architecture: TransformerArchitecture, random: inout RandomGenerator) {
    let width = architecture.components
    attentionNorm = LayerNorm(width)
    attention = MultiHeadAttention(
      features: width, heads: architecture.heads, headSize: architecture.headSize, random: &random)
    attentionDropout = Dropout(architecture.encoderDropout)
    feedForwardNorm = LayerNorm(width)
    expand = Linear(width, architecture.feedForward, random: &random)
    feedForwardDropout = Dropout(architecture.encoderDropout)
    contract = Linear(architecture.feedForward, width, random: &random)
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    let attended = attentionDropout(attention(attentionNorm(x, tape), tape), tape)
    let h = tape.add(attended, x)
    var f = feedForwardDropout(tape.relu(expand(feedForwardNorm(h, tape), tape)), tape)
    f = contract(f, tape)
    return tape.add(f, h)
  }
}

/// Static branch block: dense → batch norm → dropout → LeakyReLU(0.02).
public final class StaticBlock: Module {
  public let dense: Linear
  public let norm: BatchNorm
  public let dropout: Dropout

  init(_ inputs: Int, _ outputs: Int, dropout: Float, random: inout RandomGenerator) {
    dense = Linear(inputs, outputs, random: &random)
    norm = BatchNorm(outputs)
    self.dropout = Dropout(dropout)
  }

  public func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
    tape.leakyRelu(dropout(norm(dense(x, tape), tape), tape), slope: 0.02)
  }
}

/// The full-waveform landslide classifier (SPEC.md §2): encoder blocks over the
/// three-component record [B, T, 3], global average pooling over the feature axis
/// (→ [B, T]), concatenated with the static branch's features, then an MLP to P(landslide).
public final class WaveformTransformer: Module {
  public let encoder: [EncoderBlock]
  public let staticBlocks: [StaticBlock]
  public let staticOutput: Linear?
  public let head: [Linear]
  public let headDropout: Dropout
  public let output: Linear
  public let architecture: TransformerArchitecture

  /// - Parameter length: samples per record (T); fixes the width of the head's input.
  public init(
    _ architecture: TransformerArchitecture = .init(), length: Int, random: inout RandomGenerator
  ) {
    self.architecture = architecture
    encoder =
      architecture.components > 0
      ? (0..<architecture.encoderBlocks).map { _ in EncoderBlock(architecture, random: &random) }
      : []
    var blocks: [StaticBlock] = []
    var inputs = architecture.staticFeatures
    if architecture.staticFeatures > 0 {
      for _ in 0..<architecture.staticBlocks {
        blocks.append(
          StaticBlock(
            inputs, architecture.staticWidth, dropout: architecture.staticDropout, random: &random))
        inputs = architecture.staticWidth
      }
      staticOutput = Linear(inputs, architecture.staticOutput, random: &random)
    } else {
      staticOutput = nil
    }
    staticBlocks = blocks
    var width =
      (architecture.components > 0 ? length : 0)
      + (architecture.staticFeatures > 0 ? architecture.staticOutput : 0)
    var head: [Linear] = []
    for hidden in architecture.headWidths {
      head.append(Linear(width, hidden, random: &random))
      width = hidden
    }
    self.head = head
    headDropout = Dropout(architecture.headDropout)
    output = Linear(width, 1, random: &random)
  }

  /// The pre-sigmoid score per site, [B, 1]. Pass nil for a branch that is switched off.
  public func logits(series: Tensor?, static covariates: Tensor?, _ tape: Tape) -> Tensor {
    var features: Tensor?
    if let series {
      var h = series
      for block in encoder { h = block(h, tape) }
      features = tape.mean(h, axis: 2)
    }
    if let covariates, let staticOutput {
      var s = covariates
      for block in staticBlocks { s = block(s, tape) }
      s = tape.relu(staticOutput(s, tape))
      features = features.map { tape.concat($0, s, axis: 1) } ?? s
    }
    guard var h = features else { preconditionFailure("no input for the enabled branches") }
    for layer in head { h = headDropout(tape.relu(layer(h, tape)), tape) }
    return output(h, tape)
  }

  /// P(landslide) per site, [B, 1].
  public func callAsFunction(series: Tensor?, static covariates: Tensor?, _ tape: Tape) -> Tensor {
    tape.sigmoid(logits(series: series, static: covariates, tape))
  }
}
