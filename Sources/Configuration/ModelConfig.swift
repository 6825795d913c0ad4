/// Per-cell patch extraction and the train / validation / test split (SPEC.md §1, data layout).
public struct DataConfig: Equatable, Sendable {
  public enum Split: String, CaseIterable, Sendable {
    /// Whole spatial blocks go to one side, so overlapping normal and shifted patches never
    /// straddle the split.
    case spatialBlocks = "spatial_blocks"
    /// The paper's random split of patches; leaky, because shifted patches overlap.
    case random
  }

  /// Predictor pixels along one side of a 1 km mapping unit.
  public var cellPixels = 32
  /// Mapping units along one side of a training patch.
  public var patchCells = 4
  /// Adds the second patch grid shifted by half a patch east and south.
  public var shiftedGrid = true
  public var split = Split.spatialBlocks
  public var validationFraction = 0.15
  public var testFraction = 0.15
  /// Side of the square blocks the spatial split deals out, in cells (a multiple of
  /// `patch_cells`).
  public var blockCells = 8

  static func read(_ section: inout MappingReader) throws(ConfigError) -> DataConfig {
    var data = DataConfig()
    data.cellPixels = try section.int("cell_pixels", default: data.cellPixels, range: 4...256)
    data.patchCells = try section.int("patch_cells", default: data.patchCells, range: 1...64)
    data.shiftedGrid = try section.bool("shifted_grid", default: data.shiftedGrid)
    data.split = try section.choice("split", default: data.split)
    let validationNode = section.peek("validation_fraction")
    data.validationFraction = try section.double(
      "validation_fraction", default: data.validationFraction, range: .openUnitInterval)
    data.testFraction = try section.double(
      "test_fraction", default: data.testFraction, range: .openUnitInterval)
    let blockNode = section.peek("block_cells")
    data.blockCells = try section.int("block_cells", default: data.blockCells, range: 1...4096)
    guard data.blockCells % data.patchCells == 0 else {
      throw section.error(
        .conflictingKeys, "block_cells", at: blockNode ?? section.node,
        "block_cells must be a multiple of patch_cells (\(data.patchCells)), found \(data.blockCells)"
      )
    }
    guard data.validationFraction + data.testFraction < 1 else {
      throw section.error(
        .conflictingKeys, "validation_fraction", at: validationNode ?? section.node,
        "validation_fraction + test_fraction must be < 1 to leave training data, found "
          + "\(data.validationFraction) + \(data.testFraction)")
    }
    return data
  }
}

/// The susceptibility ResNet-U-Net (SPEC.md §1).
public struct SusceptibilityConfig: Equatable, Sendable {
  public enum Loss: String, CaseIterable, Sendable {
    case focalTversky = "focal_tversky"
    case bce
  }

  /// Bottleneck blocks in each of the four residual stages; the paper's layout is 3, 4, 6, 3
  /// and its sweep covers 6 to 64 blocks in total.
  public var blocksPerStage = [3, 4, 6, 3]
  public var dropout = 0.3
  /// The paper's code has a ReLU between the head's convolution and batch norm: every cell
  /// scored below it gets one probability, which ties them and caps AUC, and where it dies
  /// on every cell the network never recovers. Off by default (tools/bench/head-seeds: it
  /// collapsed in 1 of 8 short runs and tied 16–34 % of cells in 2 more; the plain head
  /// never did at the default learning rate); `head_relu: true` is the paper's.
  public var headReLU = false
  public var loss = Loss.focalTversky
  /// Focal Tversky: TI = (TP+ε)/(TP + α·FP + β·FN + ε), loss = (1 − TI)^γ.
  public var tverskyAlpha = 0.3
  public var tverskyBeta = 0.7
  public var tverskyGamma = 1.0
  public var tverskyEpsilon = 1e-6
  /// Weight of landslide cells relative to stable cells in the BCE loss.
  public var positiveWeight = 1.0

  static func read(_ section: inout MappingReader) throws(ConfigError) -> SusceptibilityConfig {
    var model = SusceptibilityConfig()
    model.blocksPerStage = try section.intList(
      "blocks_per_stage", default: model.blocksPerStage, count: 4...4, range: 1...64)
    model.dropout = try section.double(
      "dropout", default: model.dropout, range: .halfOpenUnitInterval)
    model.headReLU = try section.bool("head_relu", default: model.headReLU)
    model.loss = try section.choice("loss", default: model.loss)
    model.tverskyAlpha = try section.double(
      "tversky_alpha", default: model.tverskyAlpha, range: .between(0, 1))
    model.tverskyBeta = try section.double(
      "tversky_beta", default: model.tverskyBeta, range: .between(0, 1))
    model.tverskyGamma = try section.double(
      "tversky_gamma", default: model.tverskyGamma, range: .greaterThan(0))
    model.tverskyEpsilon = try section.double(
      "tversky_epsilon", default: model.tverskyEpsilon, range: .greaterThan(0))
    model.positiveWeight = try section.double(
      "positive_weight", default: model.positiveWeight, range: .greaterThan(0))
    return model
  }
}

/// The area-density network (SPEC.md §1): a convolutional stem then dense layers.
public struct DensityConfig: Equatable, Sendable {
  /// Widths of the dense layers before the single ReLU output; the code's are 512, 128, 32,
  /// the text describes six dense blocks.
  public var denseWidths = [512, 128, 32]
  /// Batch norm after each dense layer (the text's dense blocks).
  public var denseBatchNorm = false
  public var dropout = 0.0
  /// Most epochs of each curriculum stage: positive cells with log(1 + density) targets,
  /// positive cells on the original scale, then all cells (the paper's 200 each).
  public var stageEpochs = [200, 200, 200]
  /// Epochs fine-tuning the density of the joined ensemble (hazard = probability ×
  /// density against the observed density, susceptibility frozen): the paper's "few more
  /// steps" on the non-landslide cells.
  public var jointEpochs = 5
  /// Loss of the joint fine-tuning, hazard against observed density: MAE as in the paper,
  /// or MSE, whose minimiser is the mean, so that with the probability fixed the density
  /// learns the expected density where landslides occur (MAE's median is 0 wherever the
  /// probability is below one half).
  public var jointLoss = JointLoss.mae

  public enum JointLoss: String, CaseIterable, Sendable {
    case mae
    case mse
  }

  static func read(_ section: inout MappingReader) throws(ConfigError) -> DensityConfig {
    var model = DensityConfig()
    model.denseWidths = try section.intList(
      "dense_widths", default: model.denseWidths, count: 1...16, range: 1...8192)
    model.denseBatchNorm = try section.bool("dense_batch_norm", default: model.denseBatchNorm)
    model.dropout = try section.double(
      "dropout", default: model.dropout, range: .halfOpenUnitInterval)
    model.stageEpochs = try section.intList(
      "stage_epochs", default: model.stageEpochs, count: 3...3, range: 0...100_000)
    model.jointEpochs = try section.int(
      "joint_epochs", default: model.jointEpochs, range: 0...100_000)
    model.jointLoss = try section.choice("joint_loss", default: model.jointLoss)
    return model
  }
}

/// Optimiser, schedule, stopping rule and checkpoints of the training loop (SPEC.md §1,
/// training protocol), the same keys for every trained model.
public struct TrainingConfig: Equatable, Sendable {
  public var seed = 1
  /// The global batch: split across ranks when training data-parallel.
  public var batchSize = 16
  public var maxEpochs = 500
  /// Epochs without a new minimum validation loss before stopping.
  public var patience = 10
  public var learningRate = 1e-3
  public var adamBeta1 = 0.9
  public var adamBeta2 = 0.999
  public var adamEpsilon = 1e-7
  /// The learning rate is multiplied by `decayRate` every `decaySteps` steps.
  public var decayRate = 0.9
  public var decaySteps = 20_000
  /// Decay in whole steps (true) or continuously (false).
  public var staircase = true
  /// Seconds between progress lines.
  public var progressInterval = 10.0
  /// Data-parallel training packs gradients into all-reduce messages of at most this size.
  public var bucketMegabytes = 25
  /// Data-parallel batch norm over the whole global batch (one all-reduce per layer and
  /// direction) rather than each rank's own share of it.
  public var syncBatchNorm = false
  /// Step checkpoints kept in RUN/checkpoints (one is written after every epoch and stage).
  public var keepCheckpoints = 3
  /// Also a checkpoint every this many optimiser steps within epochs (0: only at their ends).
  public var checkpointSteps = 0

  public init() {}

  /// Reads the section's keys; absent ones keep their value in `defaults`.
  static func read(_ section: inout MappingReader, defaults: TrainingConfig = TrainingConfig())
    throws(ConfigError) -> TrainingConfig
  {
    var training = defaults
    training.seed = try section.int("seed", default: training.seed, range: 0...Int(Int32.max))
    training.batchSize = try section.int(
      "batch_size", default: training.batchSize, range: 1...65_536)
    training.maxEpochs = try section.int(
      "max_epochs", default: training.maxEpochs, range: 1...100_000)
    training.patience = try section.int("patience", default: training.patience, range: 0...100_000)
    training.learningRate = try section.double(
      "learning_rate", default: training.learningRate,
      range: NumberRange(lower: 0, lowerInclusive: false, upper: 10))
    training.adamBeta1 = try section.double(
      "adam_beta1", default: training.adamBeta1, range: .halfOpenUnitInterval)
    training.adamBeta2 = try section.double(
      "adam_beta2", default: training.adamBeta2, range: .halfOpenUnitInterval)
    training.adamEpsilon = try section.double(
      "adam_epsilon", default: training.adamEpsilon, range: .greaterThan(0))
    training.decayRate = try section.double(
      "decay_rate", default: training.decayRate,
      range: NumberRange(lower: 0, lowerInclusive: false, upper: 1))
    training.decaySteps = try section.int(
      "decay_steps", default: training.decaySteps, range: 1...Int(Int32.max))
    training.staircase = try section.bool("staircase", default: training.staircase)
    training.progressInterval = try section.double(
      "progress_interval", default: training.progressInterval, range: .greaterThan(0))
    training.bucketMegabytes = try section.int(
      "bucket_mb", default: training.bucketMegabytes, range: 1...4096)
    training.syncBatchNorm = try section.bool("sync_batch_norm", default: training.syncBatchNorm)
    training.keepCheckpoints = try section.int(
      "keep_checkpoints", default: training.keepCheckpoints, range: 1...1000)
    training.checkpointSteps = try section.int(
      "checkpoint_steps", default: training.checkpointSteps, range: 0...Int(Int32.max))
    return training
  }
}
