import ArgumentParser
import Configuration
import Foundation
import GeoData
import TensorEngine
import Training

/// `landslide prepare`: a study area to training shards.
struct Prepare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Difference the inventory, index and split patches, and write training shards.",
    discussion: """
      With --config, a synthetic study area is generated into OUT/study on first use and \
      reused afterwards; a `files` study area is read where the config points (its \
      predictor directory sits beside a study.json, as `landslide synth` lays it out). \
      Shards go to OUT/shards. With --study, an existing study directory is prepared \
      into OUT.
      """)

  @Option(help: "Run config (YAML) naming the study area and the data settings.")
  var config: String?

  @OptionGroup var overrides: ConfigOverrides

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
    ComputeReport.log()
    if let study {
      let clock = ContinuousClock()
      let start = clock.now
      let prepared = try StudyPreparation.prepare(study: study, into: out)
      try report(prepared, at: out, seconds: (clock.now - start).seconds)
      return
    }
    let settings = try LandslideConfig.load(file: config!, overrides: overrides.values)
    let data = try StudyData.ensure(settings, in: out) { print($0) }
    print("shards in \(data.shards)")
  }

  /// What was written, how fast, and how the bytes split between the static predictors
  /// (once per patch) and the time-varying ones (per period).
  private func report(_ prepared: PreparedStudy, at directory: String, seconds: Double) throws {
    print("\(directory): \(StudyData.summary(prepared))")
    var bytes: [String: Int] = [:]
    for shard in prepared.shards {
      let file = try SafeTensorsFile(
        path: (directory as NSString).appendingPathComponent(shard.file))
      for (name, info) in file.tensors { bytes[name, default: 0] += info.range.count }
    }
    let manifest = try StudyManifest.read(study: study!)
    let cells = manifest.widthKm * manifest.heightKm
    let gigabytes = { (name: String) in String(format: "%.2f GB", Double(bytes[name] ?? 0) / 1e9) }
    print(
      "\(cells) cells × \(prepared.periods) periods in " + String(format: "%.1f s", seconds)
        + String(
          format: ": %.0f cells/s, %.0f cell-periods/s", Double(cells) / seconds,
          Double(cells * prepared.periods) / seconds)
        + "; shards: static \(gigabytes("static")), time-varying \(gigabytes("varying")), "
        + "labels \(gigabytes("labels"))")
  }
}
