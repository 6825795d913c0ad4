import ArgumentParser
import Configuration
import Foundation
import GeoData

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
    var options = StudyPreparation.Options()
    options.patchCells = settings.data.patchCells
    options.shiftedGrid = settings.data.shiftedGrid
    options.blockCells = settings.data.blockCells
    options.validationFraction = settings.data.validationFraction
    options.testFraction = settings.data.testFraction
    options.randomSplit = settings.data.split == .random
    options.seed = UInt64(settings.training.seed)
    let shards = (out as NSString).appendingPathComponent("shards")
    let prepared: PreparedStudy
    switch settings.studyArea {
    case .synthetic(let area):
      let directory = (out as NSString).appendingPathComponent("study")
      let specification = SyntheticStudyArea.Specification(
        seed: UInt64(area.seed), widthKm: area.widthKm, heightKm: area.heightKm,
        periods: area.periods,
        cellPixels: settings.data.cellPixels)
      if !Self.holds(specification, directory) {
        print("generating the synthetic study area in \(directory)")
        try SyntheticStudyArea.generate(specification, into: directory)
      }
      prepared = try StudyPreparation.prepare(study: directory, into: shards, options: options)
    case .files(let files):
      let directory = (files.predictors as NSString).deletingLastPathComponent
      prepared = try StudyPreparation.prepare(
        study: directory, inventory: files.inventory, into: shards, options: options)
    }
    report(prepared, at: shards)
  }

  /// Whether `directory` already holds the synthetic area of `specification`.
  static func holds(_ specification: SyntheticStudyArea.Specification, _ directory: String) -> Bool
  {
    let path = (directory as NSString).appendingPathComponent("study.json")
    guard let data = FileManager.default.contents(atPath: path),
      let manifest = try? JSONDecoder().decode(StudyManifest.self, from: data)
    else { return false }
    return manifest.seed == specification.seed && manifest.widthKm == specification.widthKm
      && manifest.heightKm == specification.heightKm && manifest.periods == specification.periods
      && manifest.cellPixels == specification.cellPixels
  }

  private func report(_ prepared: PreparedStudy, at directory: String) {
    let counts = SplitSide.allCases.map { side in
      "\(side.rawValue) \(prepared.shards.filter { $0.side == side }.reduce(0) { $0 + $1.patches.count })"
    }
    print(
      "\(directory): patches \(counts.joined(separator: ", ")); dropped \(prepared.droppedForNoData) at nodata, "
        + "\(prepared.droppedAtSplitBoundaries) at split boundaries; \(prepared.shards.count) shards"
    )
  }
}
