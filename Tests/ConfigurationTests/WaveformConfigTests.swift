import Foundation
import TestSupport
import Testing

@testable import Configuration

@Suite struct WaveformConfigTests {
  @Test func shippedExampleHoldsThePaperValuesAndEqualsTheDefaults() throws {
    let path = TestPaths.repositoryRoot.appendingPathComponent("configs/waveform.yaml").path
    let config = try WaveformConfig.load(file: path)
    #expect(config.training.learningRate == 1e-3)
    #expect(config.training.decayRate == 0.95)
    #expect(config.training.decaySteps == 10_000)
    #expect(config.training.staircase)
    #expect(config.training.batchSize == 16)
    #expect(config.training.positiveWeight == 9 && config.training.negativeWeight == 1)
    #expect(config.split.testFraction == 0.3 && config.split.validationFraction == 0.2)
    #expect(config.model.heads == 2 && config.model.headSize == 1 && config.model.feedForward == 4)
    #expect(config.model.lowPassHz == 0.5 && config.model.lowPassOrder == 4)
    #expect(config == (try WaveformConfig.parse("", file: "empty.yaml")))
  }

  @Test func overridesApplyLikeTheFile() throws {
    let config = try WaveformConfig.parse(
      "training: {batch_size: 8}", file: "run.yaml",
      overrides: ["scenario.samples=6513", "model.head_widths=[64]"])
    #expect(config.training.batchSize == 8)
    #expect(config.scenario.samples == 6513)
    #expect(config.model.headWidths == [64])
  }

  func error(_ yaml: String, overrides: [String] = []) -> ConfigError? {
    #expect(throws: ConfigError.self) {
      try WaveformConfig.parse(yaml, file: "run.yaml", overrides: overrides)
    }
  }

  @Test func outOfRangeValuesNameTheLineKeyAndExpectation() {
    let found = error("training:\n  learning_rate: 0\n")
    #expect(found?.kind == .outOfRange)
    #expect(found?.location == "run.yaml:2:18")
    #expect(found?.key == "training.learning_rate")
    #expect(found?.message.contains("> 0 and ≤ 10") == true)
    #expect(error("split: {test_fraction: 1.0}")?.key == "split.test_fraction")
    #expect(error("model: {encoder_dropout: 1}")?.key == "model.encoder_dropout")
  }

  @Test func unknownKeysAreRejectedWithASuggestion() {
    let found = error("training: {patiense: 3}")
    #expect(found?.kind == .unknownKey)
    #expect(found?.message.contains("did you mean 'patience'?") == true)
    #expect(error("trainer: {}")?.kind == .unknownKey)
  }

  @Test func distancesMustFormARange() {
    let found = error("scenario: {min_distance_km: 50, max_distance_km: 20}")
    #expect(found?.kind == .conflictingKeys)
    #expect(found?.key == "scenario.max_distance_km")
  }

  @Test func wrongTypesAreNamed() {
    let found = error("", overrides: ["training.staircase=sometimes"])
    #expect(found?.kind == .wrongType)
    #expect(found?.location == "--set training.staircase=sometimes")
  }
}
