import ArgumentParser
import Configuration
import Foundation
import GeoData
import StudyBuild

/// `landslide study`: real study areas for the hazard ensemble.
struct StudyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "study",
    abstract: "Build a study area for the hazard ensemble from raw inputs.",
    subcommands: [Build.self])

  /// `landslide study build`.
  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "build",
      abstract: "Turn a DEM, shake map, daily rain and an inventory into a study directory.",
      discussion: """
        Warps every input onto one grid (a projected CRS, units of grid.unit_m split into \
        grid.pixels_per_unit pixels), derives the terrain predictors, converts PGA to g, \
        computes each period's maximum and 2.5–97.5 % spread of daily rain, rasterises the \
        inventory into cumulative landslide area per unit and period, and writes \
        study.json with the inputs' checksums. The result is what prepare, train and \
        predict read (study_area: files: {predictors: OUT/predictors, inventory: \
        OUT/inventory.tif}). A failed build leaves OUT as it was; an unchanged one does \
        nothing.
        """)

    @Option(help: "Build recipe (YAML); see configs/study.yaml.")
    var config: String

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "Study directory to write (study.json, predictors/, inventory.tif).")
    var out: String

    func run() throws {
      ComputeReport.log()
      let recipe = try StudyBuildConfig.load(file: config, overrides: overrides.values)
      let clock = ContinuousClock()
      let start = clock.now
      let outcome = try StudyBuilder.build(recipe, configFile: config, into: out) { print($0) }
      let m = outcome.manifest
      guard outcome.built else { return }
      print(
        "\(out): \(m.widthKm) × \(m.heightKm) units, \(m.periods) periods, "
          + "\(m.staticPredictors.count + m.timeVaryingPredictors.count + 1) predictors, "
          + "monsoons \(m.monsoons.map(String.init).joined(separator: ",")) in "
          + String(format: "%.1f s", (clock.now - start).seconds))
    }
  }
}
