import ArgumentParser
import Foundation
import Rainfall
import TensorEngine

/// `landslide rainfall thresholds`.
struct RainfallThresholds: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "thresholds",
    abstract: "Threshold maps: the rain at which the XGBoost model reaches P = 0.5, 0.7, 0.9.",
    discussion: """
      Every positive event of 1–5 days in the event set (all of them, not only the test \
      split) is searched with the run's model: its total rain from 0 in 0.1 mm steps up to \
      1.5 × its observed total, intensity = total / duration, everything else kept; the \
      first total where P reaches each level is the event's threshold. A site's threshold \
      is the mean over its events that reach the level; those that never do are counted \
      and listed. Each level's site thresholds are kriged (ordinary kriging, a spherical \
      semivariogram fitted by least squares to the empirical one in 6 lag bins, the 12 \
      nearest sites, great-circle distances) onto a 0.05° EPSG:4326 grid over the sites \
      or the grid of --mask. Writes OUT/thresholds.csv, thresholds.json, \
      threshold_pNN.tif (band 1 threshold in mm, band 2 kriging variance; nodata -9999), \
      threshold_pNN.png and variogram.json. A level fewer than 5 sites reach gets no map, \
      and the summary says so.
      """)

  @Option(help: "A run directory of `rainfall train`.")
  var runDir: String

  @Option(help: "The `rainfall events` directory the run trained on.")
  var events: String

  @Option(help: "Directory to write.")
  var out: String

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Probability levels, rising.", valueName: "p"))
  var levels: [Double] = [0.5, 0.7, 0.9]

  @Option(
    help: ArgumentHelp(
      "A raster (EPSG:4326) whose grid the maps take; its cells with data other than 0 are kriged.",
      valueName: "file"))
  var mask: String?

  @Option(help: "The boosted model to search (xgboost or lightgbm).")
  var model = "xgboost"

  @Option(help: "Compute threads.")
  var threads: Int = ComputeThreads.available

  @Flag(help: "Print the result as one JSON object.")
  var json = false

  func validate() throws {
    guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 && $0 <= 1 }),
      zip(levels, levels.dropFirst()).allSatisfy({ $0 < $1 })
    else { throw ValidationError("--levels must rise strictly and lie in (0, 1]") }
  }

  func run() throws {
    ThreadPool.shared.threadCount = threads
    let path = (events as NSString).appendingPathComponent(EventSet.fileName)
    let set = try EventSet.read(path)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let result = try ThresholdMaps.run(
      runDirectory: runDir, events: set, eventsSource: path, out: out,
      search: ThresholdSearch(levels: levels), mask: mask, model: model)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.keyEncodingStrategy = .convertToSnakeCase
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      print(String(decoding: try encoder.encode(result), as: UTF8.self))
      return
    }
    print(Self.summary(of: result, out: out))
  }

  static func summary(of result: ThresholdMaps.Result, out: String) -> String {
    let summary = result.summary
    var lines = [
      String(
        format: "%d events of %g–%g days searched at %d sites (%.1f s)", summary.eventsSearched,
        summary.durationDays[0], summary.durationDays[1], summary.sites, result.searchSeconds)
    ]
    for level in summary.levels {
      lines.append(
        "P ≥ \(level.level): \(level.eventsReaching) events and \(level.sitesReaching) sites "
          + "reach it; \(level.eventsNeverReaching.count) events and "
          + "\(level.sitesNeverReaching.count) sites never do")
    }
    if !summary.sitesWithFallingMeans.isEmpty {
      lines.append(
        "\(summary.sitesWithFallingMeans.count) site(s) with a mean threshold that falls from "
          + "one level to the next (fewer of their events reach the higher level)")
    }
    lines.append(
      String(
        format: "kriged on %d × %d cells of %g° from %.3f°E, %.3f°N (%.1f s)", result.width,
        result.height, result.cellSize, result.west, result.north, result.krigingSeconds))
    for map in result.maps {
      let v = map.variogram
      // Without a partial sill the range means nothing: the estimate is the neighbours' mean.
      let model =
        v.partialSill > 0
        ? String(
          format: "spherical nugget %.4g, partial sill %.4g, range %.3f°", v.nugget,
          v.partialSill, v.range)
        : String(format: "pure nugget %.4g", v.nugget)
      lines.append(
        String(
          format: "P ≥ %g: %d sites, %@; %.1f–%.1f mm", map.level, map.sites, model, map.minimum,
          map.maximum))
    }
    for skipped in result.skipped {
      lines.append("P ≥ \(skipped.level): no map (\(skipped.reason))")
    }
    lines.append(
      "wrote \(result.files.joined(separator: ", ")) in \(out)")
    return lines.joined(separator: "\n")
  }
}
