import ArgumentParser
import Foundation
import GeoData
import TensorEngine
import Training

/// `landslide predict`: hazard maps of a study area from a trained ensemble.
struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Map susceptibility, density and hazard for every period of a study area.",
    discussion: """
      Writes to OUT, each with one band per period on the 1 km grid (the predictors' CRS \
      and origin): susceptibility.tif (probability of new landslides), density.tif \
      (expected area density where they occur, %), hazard.tif (their product). Where the \
      study has an inventory: confusion.tif (0 TP, 1 FP, 2 FN, 3 TN at --threshold) and \
      density_residual.tif (predicted minus observed density). OUT/quicklooks/ holds a PNG \
      per map and period with a colour ramp and legend. Processing goes one row of \
      patches at a time.
      """)

  @Option(help: "Ensemble checkpoint (.safetensors) written by `landslide train`.")
  var checkpoint: String

  @Option(help: "Study directory (study.json, predictors/), e.g. from `landslide synth`.")
  var study: String

  @Option(help: "Cumulative inventory GeoTIFF (default: STUDY/inventory.tif when present).")
  var inventory: String?

  @Option(help: "Output directory.")
  var out: String

  @Option(help: "Probability from which a cell counts as predicted positive.")
  var threshold: Float = 0.5

  @Option(help: "Patches per inference batch.")
  var batch: Int = 16

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  func run() throws {
    ComputeReport.log()
    ThreadPool.shared.threadCount = threads
    let ensemble = try EnsembleCheckpoint.read(checkpoint)
    let start = Date()
    var reported = start
    let maps = try HazardMaps.predict(ensemble, study: study, batchSize: batch) { done, rows in
      let now = Date()
      guard now.timeIntervalSince(reported) >= 10 || done == rows else { return }
      reported = now
      let elapsed = now.timeIntervalSince(start)
      let left = elapsed / Double(done) * Double(rows - done)
      print(
        "predicting: \(done)/\(rows) rows of patches, \(Int(elapsed)) s, "
          + "about \(Int(left.rounded())) s left")
    }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let periods = maps.probability.count
    func bands(_ what: String, _ values: [[Float]]) -> [RasterBand] {
      values.enumerated().map { period, band in
        RasterBand(
          description: "\(what), period \(period)",
          values: band)
      }
    }
    let quicklooks = (out as NSString).appendingPathComponent("quicklooks")
    try FileManager.default.createDirectory(
      atPath: quicklooks, withIntermediateDirectories: true)
    var written: [String] = []
    /// One GeoTIFF (a band per period) and one PNG per period.
    func write(_ name: String, _ what: String, _ values: [[Float]], style: MapStyle) throws {
      let path = (out as NSString).appendingPathComponent("\(name).tif")
      try writeGeoTIFF(
        path: path, grid: maps.grid, bands: bands(what, values), noDataValue: Double(Self.noData))
      written.append(path)
      for (period, band) in values.enumerated() {
        try QuickLook.write(
          path: (quicklooks as NSString).appendingPathComponent("\(name)_period\(period).png"),
          values: band, width: maps.grid.width, height: maps.grid.height,
          title: "\(name.replacingOccurrences(of: "_", with: " ")), period \(period)", style: style)
      }
    }
    let densityRange = 0...max(1, maps.density.joined().filter { !$0.isNaN }.max() ?? 1)
    try write(
      "susceptibility", "probability of new landslides", maps.probability,
      style: .continuous(.viridis, range: 0...1, unit: "probability"))
    try write(
      "density", "expected area density where landslides occur (%)", maps.density,
      style: .continuous(.yellowOrangeRed, range: densityRange, unit: "% of cell"))
    try write(
      "hazard", "hazard: probability × density (%)", maps.hazard,
      style: .continuous(.yellowOrangeRed, range: densityRange, unit: "% of cell"))
    let inventoryPath =
      inventory ?? (study as NSString).appendingPathComponent("inventory.tif")
    if FileManager.default.fileExists(atPath: inventoryPath) {
      let observed = try ObservedDensity(path: inventoryPath, grid: maps.grid, periods: periods)
      try write(
        "confusion", "confusion at \(threshold): 0 TP, 1 FP, 2 FN, 3 TN",
        observed.confusion(maps.probability, threshold: threshold),
        style: .categorical(.confusion))
      try write(
        "density_residual", "predicted minus observed area density (%)",
        observed.residuals(maps.density), style: .continuous(.blueWhiteRed, unit: "% of cell"))
    }
    for path in written { print(path) }
    print("quick-looks in \(quicklooks)")
  }

  static let noData: Float = -9999
}
