import Foundation
import Yams

/// The full-waveform transformer's run configuration (SPEC.md §2): the synthetic scenario
/// used when no data is given, the split, the network and training. Loaded from YAML with
/// `--set section.key=value` overrides validated like the file; every key has a default, so
/// an empty document is a valid config with the paper's values.
public struct WaveformConfig: Equatable, Sendable {
  public var scenario = WaveformScenarioConfig()
  public var split = WaveformSplitConfig()
  public var model = WaveformModelConfig()
  public var training = WaveformTrainingConfig()

  public init() {}

  /// Reads, overrides and validates a config file.
  public static func load(file: String, overrides: [String] = []) throws(ConfigError)
    -> WaveformConfig
  {
    try parse(ConfigDocument.text(of: file), file: file, overrides: overrides)
  }

  /// Parses YAML text; `file` names it in errors.
  public static func parse(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> WaveformConfig
  {
    var document = try ConfigDocument.reader(text, file: file, overrides: overrides)
    var config = WaveformConfig()
    config.scenario = try document.section(
      "scenario", default: config.scenario, WaveformScenarioConfig.read)
    config.split = try document.section("split", default: config.split, WaveformSplitConfig.read)
    config.model = try document.section("model", default: config.model, WaveformModelConfig.read)
    config.training = try document.section(
      "training", default: config.training, WaveformTrainingConfig.read)
    try document.finish()
    return config
  }
}

/// The synthetic co-seismic scenario `waveform synth`, `train` and `benchmark` generate
/// when no data directory is given (Waveform's `WaveformScenario.Specification`).
public struct WaveformScenarioConfig: Equatable, Sendable {
  public var seed = 1
  public var sites = 20_000
  /// Samples per record; the paper's code uses 6513.
  public var samples = 512
  /// Hz; also the rate assumed for records read from `.npy` files, which carry none.
  public var sampleRate = 5.0
  public var magnitude = 7.0
  public var minDistanceKm = 10.0
  public var maxDistanceKm = 100.0
  public var positiveRate = 0.1

  static func read(_ section: inout MappingReader) throws(ConfigError) -> WaveformScenarioConfig {
    var scenario = WaveformScenarioConfig()
    scenario.seed = try section.int("seed", default: scenario.seed, range: 0...Int(Int32.max))
    scenario.sites = try section.int("sites", default: scenario.sites, range: 10...10_000_000)
    scenario.samples = try section.int("samples", default: scenario.samples, range: 16...1_000_000)
    scenario.sampleRate = try section.double(
      "sample_rate", default: scenario.sampleRate,
      range: NumberRange(lower: 1, lowerInclusive: false))
    scenario.magnitude = try section.double(
      "magnitude", default: scenario.magnitude, range: .between(4, 9.5))
    scenario.minDistanceKm = try section.double(
      "min_distance_km", default: scenario.minDistanceKm, range: .atLeast(0))
    let maxNode = section.peek("max_distance_km")
    scenario.maxDistanceKm = try section.double(
      "max_distance_km", default: scenario.maxDistanceKm, range: .greaterThan(0))
    guard scenario.maxDistanceKm > scenario.minDistanceKm else {
      throw section.error(
        .conflictingKeys, "max_distance_km", at: maxNode ?? section.node,
        "max_distance_km must exceed min_distance_km (\(scenario.minDistanceKm)), found "
          + "\(scenario.maxDistanceKm)")
    }
    scenario.positiveRate = try section.double(
      "positive_rate", default: scenario.positiveRate, range: .openUnitInterval)
    return scenario
  }
}

/// The paper's split: 30 % of the sites held out for testing, and 20 % of the remaining
/// training sites for validation (early stopping), drawn at random from `seed`.
public struct WaveformSplitConfig: Equatable, Sendable {
  public var seed = 1
  public var testFraction = 0.3
  /// Share of the training sites (not of all sites) held out for validation.
  public var validationFraction = 0.2

  static func read(_ section: inout MappingReader) throws(ConfigError) -> WaveformSplitConfig {
    var split = WaveformSplitConfig()
    split.seed = try section.int("seed", default: split.seed, range: 0...Int(Int32.max))
    split.testFraction = try section.double(
      "test_fraction", default: split.testFraction, range: .openUnitInterval)
    split.validationFraction = try section.double(
      "validation_fraction", default: split.validationFraction, range: .openUnitInterval)
    return split
  }
}

/// The transformer's layout (Models' `TransformerArchitecture`; defaults are the paper's
/// code) and the low-pass filter of the `lowpass` variant.
public struct WaveformModelConfig: Equatable, Sendable {
  public var encoderBlocks = 2
  public var heads = 2
  public var headSize = 1
  public var feedForward = 4
  public var encoderDropout = 0.3
  public var staticBlocks = 8
  public var staticWidth = 32
  public var staticOutput = 512
  public var staticDropout = 0.3
  public var headWidths = [128, 128]
  public var headDropout = 0.2
  /// The `lowpass` variant's Butterworth filter (applied forward and backward).
  public var lowPassHz = 0.5
  public var lowPassOrder = 4

  static func read(_ section: inout MappingReader) throws(ConfigError) -> WaveformModelConfig {
    var model = WaveformModelConfig()
    model.encoderBlocks = try section.int(
      "encoder_blocks", default: model.encoderBlocks, range: 0...64)
    model.heads = try section.int("heads", default: model.heads, range: 1...64)
    model.headSize = try section.int("head_size", default: model.headSize, range: 1...1024)
    model.feedForward = try section.int(
      "feed_forward", default: model.feedForward, range: 1...8192)
    model.encoderDropout = try section.double(
      "encoder_dropout", default: model.encoderDropout, range: .halfOpenUnitInterval)
    model.staticBlocks = try section.int(
      "static_blocks", default: model.staticBlocks, range: 0...64)
    model.staticWidth = try section.int(
      "static_width", default: model.staticWidth, range: 1...8192)
    model.staticOutput = try section.int(
      "static_output", default: model.staticOutput, range: 1...8192)
    model.staticDropout = try section.double(
      "static_dropout", default: model.staticDropout, range: .halfOpenUnitInterval)
    model.headWidths = try section.intList(
      "head_widths", default: model.headWidths, count: 0...16, range: 1...8192)
    model.headDropout = try section.double(
      "head_dropout", default: model.headDropout, range: .halfOpenUnitInterval)
    model.lowPassHz = try section.double(
      "low_pass_hz", default: model.lowPassHz, range: .greaterThan(0))
    model.lowPassOrder = try section.int(
      "low_pass_order", default: model.lowPassOrder, range: 1...16)
    return model
  }
}

/// Optimiser, schedule, class weights and stopping rule (SPEC.md §2).
public struct WaveformTrainingConfig: Equatable, Sendable {
  public var seed = 1
  /// The global batch, split across ranks when training data-parallel.
  public var batchSize = 16
  public var maxEpochs = 100
  /// Epochs without a new minimum validation loss before stopping.
  public var patience = 10
  /// SPEC.md's 1e-3 (the paper's text); its code used 1e-4.
  public var learningRate = 1e-3
  public var adamBeta1 = 0.9
  public var adamBeta2 = 0.999
  public var adamEpsilon = 1e-7
  /// The learning rate is multiplied by `decayRate` every `decaySteps` optimiser steps.
  public var decayRate = 0.95
  public var decaySteps = 10_000
  public var staircase = true
  /// BCE weights of the two classes (the paper's code: 1 : 9 for stable : failed).
  public var positiveWeight = 9.0
  public var negativeWeight = 1.0
  /// Seconds between progress lines.
  public var progressInterval = 10.0
  /// Data-parallel gradient all-reduce messages of at most this size.
  public var bucketMegabytes = 25
  /// Step checkpoints kept (one is written after every epoch).
  public var keepCheckpoints = 3

  static func read(_ section: inout MappingReader) throws(ConfigError) -> WaveformTrainingConfig {
    var training = WaveformTrainingConfig()
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
    training.positiveWeight = try section.double(
      "positive_weight", default: training.positiveWeight, range: .greaterThan(0))
    training.negativeWeight = try section.double(
      "negative_weight", default: training.negativeWeight, range: .greaterThan(0))
    training.progressInterval = try section.double(
      "progress_interval", default: training.progressInterval, range: .greaterThan(0))
    training.bucketMegabytes = try section.int(
      "bucket_mb", default: training.bucketMegabytes, range: 1...4096)
    training.keepCheckpoints = try section.int(
      "keep_checkpoints", default: training.keepCheckpoints, range: 1...1000)
    return training
  }
}
