import Configuration
import Foundation
import Models
import TensorEngine

/// What rebuilds a trained transformer and feeds it like its training did: the variant,
/// the layout, the record length and rate, the low-pass filter and the input scaling.
public struct WaveformDescription: Codable, Equatable, Sendable {
  public var variant: WaveformVariant
  /// Samples per record (0 for the scalar variants).
  public var length: Int
  public var sampleRate: Double
  public var components: Int
  public var staticFeatures: Int
  public var encoderBlocks: Int
  public var heads: Int
  public var headSize: Int
  public var feedForward: Int
  public var encoderDropout: Float
  public var staticBlocks: Int
  public var staticWidth: Int
  public var staticOutput: Int
  public var staticDropout: Float
  public var headWidths: [Int]
  public var headDropout: Float
  public var lowPassHz: Double
  public var lowPassOrder: Int
  public var normalisation: WaveformNormalisation

  init(_ inputs: WaveformInputs, sampleRate: Double, model: WaveformModelConfig) {
    variant = inputs.variant
    length = inputs.records?.samples ?? 0
    self.sampleRate = sampleRate
    components = inputs.records == nil ? 0 : 3
    staticFeatures = inputs.staticCount
    encoderBlocks = model.encoderBlocks
    heads = model.heads
    headSize = model.headSize
    feedForward = model.feedForward
    encoderDropout = Float(model.encoderDropout)
    staticBlocks = model.staticBlocks
    staticWidth = model.staticWidth
    staticOutput = model.staticOutput
    staticDropout = Float(model.staticDropout)
    headWidths = model.headWidths
    headDropout = Float(model.headDropout)
    lowPassHz = model.lowPassHz
    lowPassOrder = model.lowPassOrder
    normalisation = inputs.normalisation
  }

  public var architecture: TransformerArchitecture {
    TransformerArchitecture(
      components: components, staticFeatures: staticFeatures, encoderBlocks: encoderBlocks,
      heads: heads, headSize: headSize, feedForward: feedForward, encoderDropout: encoderDropout,
      staticBlocks: staticBlocks, staticWidth: staticWidth, staticOutput: staticOutput,
      staticDropout: staticDropout, headWidths: headWidths, headDropout: headDropout)
  }

  /// A network of this layout with seeded initial weights.
  public func makeModel(seed: UInt64) -> WaveformTransformer {
    var random = RandomGenerator(seed: seed)
    return WaveformTransformer(architecture, length: length, random: &random)
  }

  enum CodingKeys: String, CodingKey {
    case variant, length, components, heads, normalisation
    case sampleRate = "sample_rate"
    case staticFeatures = "static_features"
    case encoderBlocks = "encoder_blocks"
    case headSize = "head_size"
    case feedForward = "feed_forward"
    case encoderDropout = "encoder_dropout"
    case staticBlocks = "static_blocks"
    case staticWidth = "static_width"
    case staticOutput = "static_output"
    case staticDropout = "static_dropout"
    case headWidths = "head_widths"
    case headDropout = "head_dropout"
    case lowPassHz = "low_pass_hz"
    case lowPassOrder = "low_pass_order"
  }
}

/// A transformer's weights and running statistics as a safetensors file, with its
/// `WaveformDescription` (JSON) in the metadata.
public enum WaveformCheckpoint {
  static let descriptionKey = "waveform_transformer"

  /// Writes atomically; `extra` adds tensors (training state) and `metadata` entries.
  public static func write(
    _ model: WaveformTransformer, description: WaveformDescription,
    extra: [(String, Tensor)] = [], to path: String, metadata: [String: String] = [:]
  ) throws(SafeTensorsError) {
    try format(model, description).write(to: path, extra: extra, metadata: metadata)
  }

  /// The description and the rebuilt network stored at `path`.
  public static func read(_ path: String) throws(SafeTensorsError) -> (
    description: WaveformDescription, model: WaveformTransformer
  ) {
    let file = try SafeTensorsFile(path: path)
    let description = try self.description(file)
    let model = description.makeModel(seed: 0)
    try format(model, description).load(file)
    model.train(false)
    return (description, model)
  }

  static func description(_ file: SafeTensorsFile) throws(SafeTensorsError)
    -> WaveformDescription
  {
    try ModuleCheckpoint<WaveformDescription>.description(file, key: descriptionKey)
  }

  static func format(_ model: WaveformTransformer, _ description: WaveformDescription)
    -> ModuleCheckpoint<WaveformDescription>
  {
    ModuleCheckpoint(model.namedTensors, description: description, key: descriptionKey)
  }
}

/// The transformer as the training loop checkpoints it: a checkpoint of another variant is
/// refused before any tensor is copied.
struct TransformerCheckpoint: CheckpointedModel {
  let format: ModuleCheckpoint<WaveformDescription>

  init(_ model: WaveformTransformer, _ description: WaveformDescription) {
    format = WaveformCheckpoint.format(model, description)
  }

  var namedTensors: [(name: String, tensor: Tensor)] { format.namedTensors }

  func write(to path: String, extra: [(String, Tensor)], metadata: [String: String])
    throws(SafeTensorsError)
  {
    try format.write(to: path, extra: extra, metadata: metadata)
  }

  func load(_ file: SafeTensorsFile) throws(SafeTensorsError) {
    let stored = try WaveformCheckpoint.description(file)
    guard stored.variant == format.description.variant else {
      throw SafeTensorsError(
        path: file.path,
        message: "a checkpoint of variant \(stored.variant.rawValue), not "
          + format.description.variant.rawValue)
    }
    try format.load(file)
  }
}
