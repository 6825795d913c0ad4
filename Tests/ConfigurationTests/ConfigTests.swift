import Foundation
import TestSupport
import Testing

@testable import Configuration

@Suite struct ShippedConfigTests {
  @Test func ensembleExampleIsValidAndHoldsThePaperValues() throws {
    let path = TestPaths.repositoryRoot.appendingPathComponent("configs/ensemble.yaml").path
    let config = try LandslideConfig.load(file: path)
    #expect(
      config.studyArea
        == .synthetic(SyntheticAreaConfig(seed: 1, widthKm: 48, heightKm: 48, periods: 8)))
    #expect(config.susceptibility.blocksPerStage == [3, 4, 6, 3])
    #expect(config.susceptibility.loss == .focalTversky)
    #expect(config.susceptibility.tverskyAlpha == 0.3)
    #expect(config.susceptibility.tverskyBeta == 0.7)
    #expect(config.density.denseWidths == [512, 128, 32])
    #expect(config.training.batchSize == 16)
    #expect(config.training.learningRate == 1e-3)
    #expect(config.training.decaySteps == 20_000)
    // The example spells out the defaults, so it equals the minimal config.
    let minimal = try LandslideConfig.parse("study_area: {synthetic: {}}", file: "minimal.yaml")
    #expect(config == minimal)
  }
}

@Suite struct ConfigErrorTests {
  func error(_ yaml: String, overrides: [String] = []) -> ConfigError? {
    #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(yaml, file: "run.yaml", overrides: overrides)
    }
  }

  let valid = """
    study_area:
      synthetic:
        seed: 3
    training:
      batch_size: 32
    """

  @Test func unknownKeyNamesLineKeyAndSuggestion() {
    let error = error(valid + "\n  learning_rat: 0.01")
    #expect(error?.kind == .unknownKey)
    #expect(
      error?.description
        == "run.yaml:6:3: training.learning_rat: unknown key (did you mean 'learning_rate'?); "
        + "expected one of: adam_beta1, adam_beta2, adam_epsilon, batch_size, bucket_mb, "
        + "checkpoint_steps, decay_rate, decay_steps, keep_checkpoints, learning_rate, max_epochs, "
        + "patience, progress_interval, seed, staircase, sync_batch_norm")
  }

  @Test func unknownSectionIsAnError() {
    let error = error(valid + "\nmodel:\n  blocks: 3")
    #expect(error?.kind == .unknownKey)
    #expect(error?.location == "run.yaml:6:1")
    #expect(error?.key == "model")
  }

  @Test func wrongTypeSaysWhatWasExpected() {
    let error = error(valid.replacingOccurrences(of: "32", with: "sixteen"))
    #expect(
      error?.description
        == "run.yaml:5:15: training.batch_size: expected an integer in 1...65536, found 'sixteen'")
    #expect(error?.kind == .wrongType)
  }

  @Test func fractionalIntegerIsAWrongType() {
    let error = error(valid.replacingOccurrences(of: "32", with: "16.5"))
    #expect(error?.kind == .wrongType)
  }

  @Test func outOfRangeGivesTheRange() {
    let error = error(valid.replacingOccurrences(of: "32", with: "0"))
    #expect(
      error?.description
        == "run.yaml:5:15: training.batch_size: expected an integer in 1...65536, found 0")
    #expect(error?.kind == .outOfRange)
  }

  @Test func numberRangeIsDescribed() {
    let error = error(valid + "\n  learning_rate: -1")
    #expect(
      error?.description
        == "run.yaml:6:18: training.learning_rate: expected a number > 0 and ≤ 10, found '-1'")
  }

  @Test func listLengthAndElementsAreChecked() {
    let short = error(valid + "\nsusceptibility:\n  blocks_per_stage: [3, 4, 6]")
    #expect(
      short?.description
        == "run.yaml:7:21: susceptibility.blocks_per_stage: expected exactly 4 integers, found 3")
    let tooMany = error(valid + "\nsusceptibility:\n  blocks_per_stage: [3, 4, 65, 3]")
    #expect(
      tooMany?.description
        == "run.yaml:7:28: susceptibility.blocks_per_stage: expected an integer in 1...64, found 65"
    )
  }

  @Test func choiceListsTheAlternatives() {
    let error = error(valid + "\nsusceptibility:\n  loss: dice")
    #expect(
      error?.description
        == "run.yaml:7:9: susceptibility.loss: expected one of focal_tversky, bce, found 'dice'")
  }

  @Test func missingStudyArea() {
    let error = error("training:\n  batch_size: 8")
    #expect(error?.kind == .missingKey)
    #expect(
      error?.description
        == "run.yaml: study_area: missing; expected a 'synthetic' or 'files' section")
  }

  @Test func bothStudyAreaKindsConflict() {
    let error = error("study_area:\n  synthetic: {}\n  files: {}")
    #expect(error?.kind == .conflictingKeys)
    #expect(
      error?.description
        == "run.yaml:2:3: study_area: expected exactly one of 'synthetic' or 'files'")
  }

  @Test func splitFractionsMustLeaveTrainingData() {
    let error = error(valid + "\ndata:\n  validation_fraction: 0.5\n  test_fraction: 0.5")
    #expect(error?.kind == .conflictingKeys)
    #expect(error?.location == "run.yaml:7:24")
  }

  @Test func splitBlocksMustHoldWholePatches() {
    let error = error(valid + "\ndata:\n  block_cells: 6")
    #expect(error?.kind == .conflictingKeys)
    #expect(
      error?.description
        == "run.yaml:7:16: data.block_cells: block_cells must be a multiple of patch_cells (4), found 6"
    )
  }

  @Test func duplicateKeyIsAnError() {
    let error = error(valid + "\n  batch_size: 64")
    #expect(error?.kind == .duplicateKey)
    #expect(
      error?.description
        == "run.yaml:5:3: the section starting here has duplicate keys: 'batch_size'")
  }

  @Test func sectionThatIsNotAMapping() {
    let error = error(valid + "\ndensity: 3")
    #expect(error?.description == "run.yaml:6:10: density: expected a section of keys, found '3'")
  }

  @Test func invalidYAMLNamesTheFile() {
    let error = error("study_area: [unclosed")
    #expect(error?.kind == .syntax)
    #expect(error?.location == "run.yaml:2:1")
    #expect(error?.message.hasPrefix("invalid YAML: ") == true)
  }

  @Test func unreadableFileNamesIt() {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.load(file: "/nonexistent/run.yaml")
    }
    #expect(error?.kind == .unreadable)
    #expect(error?.location == "/nonexistent/run.yaml")
  }

  @Test func missingStudyFilesAreNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("predictors"), withIntermediateDirectories: true)
    let file = directory.appendingPathComponent("run.yaml").path
    let yaml = "study_area:\n  files:\n    predictors: predictors\n    inventory: inventory.tif\n"
    try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    let error = #expect(throws: ConfigError.self) { try LandslideConfig.load(file: file) }
    #expect(error?.kind == .missingFile)
    #expect(
      error?.description
        == "\(file):4:16: study_area.files.inventory: expected an existing file, found no such "
        + "file '\(directory.path)/inventory.tif'")

    _ = FileManager.default.createFile(
      atPath: directory.appendingPathComponent("inventory.tif").path, contents: Data())
    let config = try LandslideConfig.load(file: file)
    #expect(
      config.studyArea
        == .files(
          StudyFilesConfig(
            predictors: directory.path + "/predictors", inventory: directory.path + "/inventory.tif"
          )))
  }
}

@Suite struct OverrideTests {
  let valid = "study_area:\n  synthetic:\n    seed: 3\ntraining:\n  batch_size: 32\n"

  @Test func overridesReplaceAndAddKeysInOrder() throws {
    let config = try LandslideConfig.parse(
      valid, file: "run.yaml",
      overrides: [
        "training.batch_size=64", "training.learning_rate=1e-4",
        "susceptibility.blocks_per_stage=[2, 2, 2, 2]",
        "study_area.synthetic.size_km=[8, 12]", "training.batch_size=8",
      ])
    #expect(config.training.batchSize == 8)
    #expect(config.training.learningRate == 1e-4)
    #expect(config.susceptibility.blocksPerStage == [2, 2, 2, 2])
    #expect(
      config.studyArea
        == .synthetic(SyntheticAreaConfig(seed: 3, widthKm: 8, heightKm: 12, periods: 8)))
  }

  @Test func overrideErrorsNameTheArgument() {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(valid, file: "run.yaml", overrides: ["training.batch_size=0"])
    }
    #expect(
      error?.description
        == "--set training.batch_size=0: training.batch_size: expected an integer in 1...65536, found 0"
    )
  }

  @Test func unknownOverrideKeyIsAnError() {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(valid, file: "run.yaml", overrides: ["trainig.batch_size=8"])
    }
    #expect(error?.kind == .unknownKey)
    #expect(error?.location == "--set trainig.batch_size=8")
    #expect(error?.message.contains("did you mean 'training'?") == true)
  }

  @Test(arguments: ["batch_size", "training.=3", "=3", "training. batch=3"])
  func malformedOverrideIsAnError(argument: String) {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(valid, file: "run.yaml", overrides: [argument])
    }
    #expect(error?.kind == .invalidOverride)
    #expect(error?.location == "--set \(argument)")
  }

  @Test func overrideInsideAScalarIsAnError() {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(valid, file: "run.yaml", overrides: ["training.batch_size.x=1"])
    }
    #expect(error?.kind == .invalidOverride)
  }

  @Test func overrideWithUnparsableYAMLIsAnError() {
    let error = #expect(throws: ConfigError.self) {
      try LandslideConfig.parse(valid, file: "run.yaml", overrides: ["training.batch_size=[1,"])
    }
    #expect(error?.kind == .invalidOverride)
    #expect(error?.message.hasPrefix("the value '[1,' is not valid YAML") == true)
  }
}

@Suite struct EditDistanceTests {
  @Test(arguments: [
    ("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3), ("seed", "seed", 0),
  ])
  func handWorkedDistances(a: String, b: String, distance: Int) {
    #expect(editDistance(a, b) == distance)
  }
}
