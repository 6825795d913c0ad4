import Configuration
import Foundation
import Models
import TensorEngine
import TestSupport
import Testing
import Waveform

@testable import Training

/// A scenario and network small enough that a debug build trains every variant in seconds.
enum TinyWaveform {
  static let config: WaveformConfig = {
    var config = WaveformConfig()
    config.scenario.sites = 80
    config.scenario.samples = 128
    config.scenario.sampleRate = 4
    config.scenario.magnitude = 6
    config.scenario.maxDistanceKm = 30
    config.model.encoderBlocks = 1
    config.model.staticBlocks = 2
    config.model.staticWidth = 8
    config.model.staticOutput = 16
    config.model.headWidths = [16]
    config.training.batchSize = 8
    config.training.maxEpochs = 2
    return config
  }()

  static let data: WaveformDataset = {
    do { return try WaveformDataset.synthetic(config.scenario) } catch {
      fatalError("the tiny scenario: \(error)")
    }
  }()

  static func trainer(_ variant: WaveformVariant, config: WaveformConfig = config) throws
    -> WaveformTrainer
  {
    try WaveformTrainer(
      config: config, variant: variant, data: data,
      split: try WaveformSplit(sites: data.sites, config: config.split), metricsPath: nil,
      log: { _ in })
  }
}

@Suite struct WaveformTrainerTests {
  @Test(arguments: WaveformVariant.allCases)
  func eachVariantTrainsAndCheckpoints(_ variant: WaveformVariant) throws {
    let directory = try TestPaths.temporaryDirectory("waveform-\(variant.rawValue)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let trainer = try TinyWaveform.trainer(variant)
    trainer.checkpointDirectory = directory.path
    try trainer.train()
    #expect(trainer.records.count == 2)
    #expect(trainer.records.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite })
    let steps = CheckpointFiles.steps(in: directory.path)
    #expect(steps.count == 2)
    #expect(
      FileManager.default.fileExists(
        atPath: directory.appendingPathComponent("best.safetensors").path))
    // The branches follow the variant.
    #expect((trainer.description.components == 3) == variant.readsWaveform)
    let expectedStatic =
      (variant.usesStaticCovariates ? 5 : 0) + (variant.readsWaveform ? 0 : 1)
    #expect(trainer.description.staticFeatures == expectedStatic)
    // A checkpoint rebuilds the same network.
    let final = directory.appendingPathComponent("final.safetensors").path
    try trainer.write(to: final)
    let (description, model) = try WaveformCheckpoint.read(final)
    #expect(description == trainer.description)
    #expect(
      model.namedTensors.map { $0.tensor.array }
        == trainer.model.namedTensors.map { $0.tensor.array })
  }

  @Test func resumingFromAnEpochCheckpointMatchesTheUninterruptedRun() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var short = TinyWaveform.config
    short.training.maxEpochs = 1
    let first = try TinyWaveform.trainer(.mod3, config: short)
    first.checkpointDirectory = directory.path
    try first.train()
    let resumed = try TinyWaveform.trainer(.mod3)
    try resumed.resume(
      from: try #require(CheckpointFiles.steps(in: directory.path).first), force: true)
    try resumed.train()
    let uninterrupted = try TinyWaveform.trainer(.mod3)
    try uninterrupted.train()
    #expect(resumed.records.map(\.validationLoss) == uninterrupted.records.map(\.validationLoss))
    #expect(
      resumed.model.namedTensors.map { $0.tensor.array }
        == uninterrupted.model.namedTensors.map { $0.tensor.array })
  }

  @Test func scalarVariantsAreStandardisedWithTrainingStatistics() throws {
    let trainer = try TinyWaveform.trainer(.mod2)
    let column = trainer.split.train.map { Double(trainer.inputs.statics[$0]) }
    let mean = column.reduce(0, +) / Double(column.count)
    let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)
    #expect(abs(mean) < 1e-5)
    #expect(abs(variance - 1) < 1e-4)
    #expect(trainer.inputs.records == nil)
  }

  @Test func badDataFilesAreNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let records = TinyWaveform.data.records
    try records.write(to: directory.appendingPathComponent("series.npy").path)
    try NumPyArray(
      shape: [records.sites, 2], values: .init(repeating: 0, count: records.sites * 2)
    )
    .write(to: directory.appendingPathComponent("static.npy").path)
    try NumPyArray(shape: [3], values: [0, 1, 0])
      .write(to: directory.appendingPathComponent("labels.npy").path)
    let error = #expect(throws: TrainingError.self) {
      try WaveformDataset.read(directory: directory.path, sampleRate: 4)
    }
    #expect(error?.description.contains("labels.npy: shape [3]; expected [80]") == true)
  }
}

@Suite struct WaveformExplanationTests {
  /// A tiny model of `variant`, trained for two epochs.
  static func trained(_ variant: WaveformVariant) throws -> WaveformTrainer {
    let trainer = try TinyWaveform.trainer(variant)
    try trainer.train()
    return trainer
  }

  static func staticRows(_ trainer: WaveformTrainer, _ sites: Range<Int>) -> [Float] {
    let count = trainer.description.staticFeatures
    return count == 0
      ? []
      : Array(
        TinyWaveform.data.staticValues[(sites.lowerBound * count)..<(sites.upperBound * count)])
  }

  @Test(arguments: [WaveformVariant.mod1, .mod3])
  func scoresAreZeroWhereTheInputEqualsTheBaseline(_ variant: WaveformVariant) throws {
    let trainer = try Self.trained(variant)
    var records = TinyWaveform.data.records
    let samples = records.samples
    // Site 0 silent throughout; site 1 silent in its first half.
    for index in 0..<(samples * 3) { records.values[index] = 0 }
    for index in (samples * 3)..<(samples * 3 + samples * 3 / 2) { records.values[index] = 0 }
    let subset = GroundMotionRecords(
      sites: 3, samples: samples, sampleRate: records.sampleRate,
      values: Array(records.values[0..<(3 * samples * 3)]))
    let explanation = try WaveformExplanation(
      model: trainer.model, description: trainer.description, records: subset,
      statics: Self.staticRows(trainer, 0..<3))
    for index in explanation.scores.indices where subset.values[index] == 0 {
      #expect(explanation.scores[index] == 0)
    }
    #expect(explanation.scores[(2 * samples) * 3..<(3 * samples * 3)].contains { $0 != 0 })
    #expect(explanation.scores.allSatisfy { $0.isFinite })
    // The score is the formula of its two gradients.
    for index in (2 * samples * 3)..<(3 * samples * 3) {
      let (gi, g0) = (explanation.inputGradients[index], explanation.baselineGradients[index])
      let expected = gi == g0 ? 0 : subset.values[index] * gi / (gi - g0)
      #expect(explanation.scores[index] == expected)
    }
  }

  @Test func inputGradientsMatchFiniteDifferences() throws {
    let trainer = try Self.trained(.mod1)
    let records = TinyWaveform.data.records
    let samples = records.samples
    let site = GroundMotionRecords(
      sites: 1, samples: samples, sampleRate: records.sampleRate,
      values: Array(records.values[0..<(samples * 3)]))
    let explanation = try WaveformExplanation(
      model: trainer.model, description: trainer.description, records: site, statics: [])
    let scale = trainer.description.normalisation.waveformScale
    let tape = Tape(recording: false)
    func probability(_ values: [Float]) -> Double {
      let series = Tensor(values.map { $0 * scale }, shape: Shape(1, samples, 3))
      tape.reset()
      return Double(trainer.model(series: series, static: nil, tape).scalar)
    }
    // The steepest elements, where the difference quotient stands well above rounding.
    let steepest = explanation.inputGradients.indices.sorted {
      abs(explanation.inputGradients[$0]) > abs(explanation.inputGradients[$1])
    }.prefix(4)
    for index in steepest {
      // The steepest elements lie in quiet stretches, where LayerNorm divides by the spread of
      // three small components: the step must be small beside that spread (~1e-2 scaled).
      let step = 1e-5 / scale
      var up = site.values
      var down = site.values
      up[index] += step
      down[index] -= step
      let quotient = (probability(up) - probability(down)) / Double(2 * step)
      let gradient = Double(explanation.inputGradients[index])
      #expect(
        abs(quotient - gradient) <= 0.03 * abs(gradient),
        "element \(index): difference quotient \(quotient), gradient \(gradient), scale \(scale)")
    }
  }

  @Test func scalarVariantsCannotBeExplained() throws {
    let trainer = try TinyWaveform.trainer(.mod4)
    let error = #expect(throws: TrainingError.self) {
      try WaveformExplanation(
        model: trainer.model, description: trainer.description,
        records: TinyWaveform.data.records, statics: TinyWaveform.data.staticValues)
    }
    #expect(error?.description.contains("reads no waveform") == true)
  }
}
