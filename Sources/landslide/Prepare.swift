import ArgumentParser
import Configuration
import Foundation
import GeoData
import Training

/// `landslide prepare`: a study area to training shards.
struct Prepare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Difference the inventory, index and split patches, and write training shards.",
    discussion: """
      With --config, a synthetic study area is generated into OUT/study on first use and
      reused afterwards; a `files` study area is read where the config points (its
      predictor directory sits beside a study.json, as `landslide synth` lays it out).
      Shards go to OUT/shards. With --study, an existing study directory is prepared
      into OUT.
      """)

  @Option(help: "Run config (YAML) naming the study area and the data settings.")
  var config: String?

  @Option(
    name: .customLong("set"),
    help: ArgumentHelp("Override one config key; repeatable.", valueName: "section.key=value"))
  var overrides: [String] = []

  @Option(
    help: "Study directory (study.json, predictors/, inventory.tif), e.g. from `landslide synth`.")
  var study: String?

  @Option(help: "Output directory.")
  var out: String

  func validate() throws {
    guard (config == nil) != (study == nil) else {
      throw ValidationError("give exactly one of --config and --study")
    }
  }

  func run() throws {
    if let study {
      report(try StudyPreparation.prepare(study: study, into: out), at: out)
      return
    }
    let settings = try LandslideConfig.load(file: config!, overrides: overrides)
    let data = try StudyData.ensure(settings, in: out) { print($0) }
    print("shards in \(data.shards)")
  }

  private func report(_ prepared: PreparedStudy, at directory: String) {
    print("\(directory): \(StudyData.summary(prepared))")
  }
}
