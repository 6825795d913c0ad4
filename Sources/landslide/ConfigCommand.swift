import ArgumentParser
import Configuration

/// `landslide config …`: work with YAML run configs before spending cluster time on them.
struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config",
    abstract: "Validate YAML run configs.",
    subcommands: [Check.self]
  )

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Load a config with its overrides and report the first problem, or a summary.")

    @Argument(help: "The YAML config to check.")
    var file: String

    @OptionGroup var overrides: ConfigOverrides

    func run() throws {
      let config = try LandslideConfig.load(file: file, overrides: overrides.values)
      print("\(file): valid")
      print(config.summary.map { "  \($0)" }.joined(separator: "\n"))
    }
  }
}

extension LandslideConfig {
  /// One line per section, for humans checking what a config amounts to.
  var summary: [String] {
    let area: String
    switch studyArea {
    case .synthetic(let synthetic):
      area =
        "synthetic, seed \(synthetic.seed), \(synthetic.widthKm) × \(synthetic.heightKm) km, "
        + "\(synthetic.periods) periods"
    case .files(let files):
      area = "predictors \(files.predictors), inventory \(files.inventory)"
    }
    let blocks = susceptibility.blocksPerStage
    let decay = training.staircase ? "staircase" : "continuous"
    return [
      "study area: \(area)",
      "data: \(data.patchCells)×\(data.patchCells) cells of \(data.cellPixels) px, "
        + "\(data.split.rawValue) split, validation \(data.validationFraction), test \(data.testFraction)",
      "susceptibility: blocks per stage \(blocks.map(String.init).joined(separator: "-")) "
        + "(\(blocks.reduce(0, +)) blocks), loss \(susceptibility.loss.rawValue)",
      "density: dense \(density.denseWidths.map(String.init).joined(separator: "-"))",
      "training: batch \(training.batchSize), learning rate \(training.learningRate) "
        + "× \(training.decayRate) every \(training.decaySteps) steps (\(decay)), "
        + "up to \(training.maxEpochs) epochs, patience \(training.patience)",
    ]
  }
}
