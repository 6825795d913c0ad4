import Configuration
import Foundation
import GeoData
import Rainfall
import TensorEngine

/// `landslide study build`: a real study area from raw inputs, laid out as `prepare`,
/// `train` and `predict` read it (`study.json`, `predictors/`, `inventory.tif`).
///
/// Everything is built in a staging directory beside the output and moved in only once the
/// whole build has succeeded, `study.json` last, so a failed build leaves what was in the
/// output untouched. `study.json` records the inputs with their sizes and CRC-32C
/// checksums and the grid; a build whose record matches the existing one does nothing.
public enum StudyBuilder {
  public struct Outcome: Sendable {
    public var manifest: StudyManifest
    /// False when the existing study already matched the inputs.
    public var built: Bool
  }

  public static func build(
    _ config: StudyBuildConfig, configFile: String, into output: String,
    log: (String) -> Void = { _ in }
  ) throws(RasterError) -> Outcome {
    guard config.periods.count < Int(UInt8.max) else {
      throw RasterError(path: configFile, message: "periods: at most 254 periods")
    }
    let dem = try RasterDataset(path: config.dem.path)
    let mean = try RasterDataset(path: config.shaking.mean)
    let spreadRaster = try RasterDataset(path: config.shaking.std)
    let rain = try RainStatistics.open(config.rain)
    let grid = try TargetGrid.resolve(
      config.grid, dem: (dem.path, dem.grid),
      inputs: [
        (mean.path, mean.grid), (spreadRaster.path, spreadRaster.grid), (rain.directory, rain.grid),
      ])
    let statistics = try RainStatistics(rain, covering: grid.pixels)
    let days = try config.periods.map { (period) throws(RasterError) in
      try statistics.days(of: period, missing: config.rain.missingDays)
    }

    var inputs = [
      ("dem", config.dem.path), ("pga_mean", config.shaking.mean),
      ("pga_std", config.shaking.std),
    ]
    switch config.inventory {
    case .polygons(let path, _, _): inputs.append(("inventory", path))
    case .raster(let path): inputs.append(("inventory", path))
    }
    if let path = config.grid.areaOfInterest { inputs.append(("area_of_interest", path)) }
    inputs += statistics.files(for: days.flatMap { $0 }).map { ("rain", $0) }
    let record = StudyBuildRecord(
      config: Self.describe(config), epsg: grid.epsg,
      origin: [grid.units.geoTransform.originX, grid.units.geoTransform.originY],
      unitMetres: grid.unitMetres, pixelsPerUnit: grid.pixelsPerUnit,
      periods: config.periods,
      inputs: try inputs.map { (role, path) throws(RasterError) in
        try StudyBuildRecord.Input(role: role, path: path)
      })
    if let existing = try? StudyManifest.read(study: output), existing.build == record {
      log("\(output) is up to date with its inputs")
      return Outcome(manifest: existing, built: false)
    }

    let target = output.hasSuffix("/") ? String(output.dropLast()) : output
    let stage = try Stage(
      directory: target + ".partial-\(getpid())", grid: grid,
      areaOfInterest: config.grid.areaOfInterest)
    defer { try? FileManager.default.removeItem(atPath: stage.directory) }
    log(
      "grid: EPSG:\(grid.epsg), \(grid.units.width) × \(grid.units.height) units of "
        + "\(Int(grid.unitMetres)) m, \(grid.pixels.width) × \(grid.pixels.height) pixels")
    log("terrain from \(config.dem.path)")
    try stage.writeTerrain(config.dem)
    log("shaking from \(config.shaking.mean) and \(config.shaking.std)")
    try stage.writeShaking(config.shaking)
    try stage.writeRain(statistics, periods: config.periods, days: days, log: log)
    try stage.writeInventory(config.inventory, periods: config.periods)
    let manifest = StudyManifest(
      seed: nil, widthKm: grid.units.width, heightKm: grid.units.height,
      periods: config.periods.count, cellPixels: grid.pixelsPerUnit, epsg: grid.epsg,
      epicentre: nil,
      monsoons: monsoonCounts(config.periods, eventDate: config.eventDate, season: config.monsoon),
      staticPredictors: StudyManifest.staticPredictors,
      timeVaryingPredictors: ["rain_max", "rain_spread"], build: record)
    try? FileManager.default.removeItem(atPath: stage.scratch)
    try manifest.write(to: (stage.directory as NSString).appendingPathComponent("study.json"))
    try commit(stage.directory, to: target)
    return Outcome(manifest: manifest, built: true)
  }

  /// Moves the staged study into `output`: the whole directory when there is none yet,
  /// else file by file (each rename atomic), `study.json` last.
  static func commit(_ stage: String, to output: String) throws(RasterError) {
    let manager = FileManager.default
    if !manager.fileExists(atPath: output) {
      guard rename(stage, output) == 0 else {
        throw RasterError(path: output, message: "cannot move the built study into place")
      }
      return
    }
    let files = (manager.subpaths(atPath: stage) ?? []).filter { path in
      var isDirectory: ObjCBool = false
      manager.fileExists(
        atPath: (stage as NSString).appendingPathComponent(path), isDirectory: &isDirectory)
      return !isDirectory.boolValue
    }.sorted { a, b in (a == "study.json" ? 1 : 0, a) < (b == "study.json" ? 1 : 0, b) }
    try? manager.removeItem(atPath: (output as NSString).appendingPathComponent("study.json"))
    for file in files {
      let target = (output as NSString).appendingPathComponent(file)
      try? manager.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      guard rename((stage as NSString).appendingPathComponent(file), target) == 0 else {
        throw RasterError(path: target, message: "cannot move the built file into place")
      }
    }
  }

  /// The config's settings as the record keeps them (Swift's own rendering of the values):
  /// what a rebuild must match besides the inputs' checksums.
  static func describe(_ config: StudyBuildConfig) -> String {
    var text = "\(config.grid) | river \(config.dem.riverAreaKm2) | \(config.shaking.units) "
    text += "\(config.shaking.spread) | \(config.rain.missingDays) | \(config.eventDate) | "
    text += "\(config.monsoon.start)–\(config.monsoon.end) | \(config.inventory)"
    return text
  }
}

/// A build's staging directory and what its steps share: the grid, the scratch files and
/// the area-of-interest mask (outside it every predictor is nodata).
private struct Stage {
  let directory: String
  let predictors: String
  let scratch: String
  let grid: TargetGrid
  let inside: [Bool]?

  init(directory: String, grid: TargetGrid, areaOfInterest: String?) throws(RasterError) {
    self.directory = directory
    self.grid = grid
    predictors = (directory as NSString).appendingPathComponent("predictors")
    scratch = (directory as NSString).appendingPathComponent("scratch")
    try? FileManager.default.removeItem(atPath: directory)
    do {
      try FileManager.default.createDirectory(atPath: predictors, withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    } catch {
      throw RasterError(path: directory, message: "cannot create (\(error.localizedDescription))")
    }
    inside = try areaOfInterest.map { (path) throws(RasterError) in
      try PolygonRasterizer.rasterize(path: path, onto: grid.pixels).map { $0 > 0 }
    }
  }

  func scratchFile(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

  func predictor(_ name: String) -> String {
    (predictors as NSString).appendingPathComponent("\(name).tif")
  }

  func masked(_ values: [Float]) -> [Float] {
    guard let inside else { return values }
    return zip(values, inside).map { $1 ? $0 : .nan }
  }

  /// The terrain layers of the DEM warped onto the pixels, read back a tile at a time.
  func writeTerrain(_ dem: DEMInput) throws(RasterError) {
    let warpedDEM = scratchFile("dem.tif")
    try RasterWarp.warp(dem.path, onto: grid.pixels, resampling: .bilinear, to: warpedDEM)
    let source = InsideTheArea(raster: try RasterDataset(path: warpedDEM), inside: inside)
    // Written into the staging directory, so a refusal here leaves the study untouched.
    let cells = try TerrainLayers.write(source, riverArea: dem.riverAreaKm2 * 1e6, to: predictors)
    guard cells > 0 else {
      throw RasterError(path: dem.path, message: "no elevation over the study area")
    }
  }

  /// PGA mean and spread, in g.
  func writeShaking(_ shaking: ShakingInput) throws(RasterError) {
    let pgaMean = masked(
      try ShakingLayers.warped(
        shaking.mean, onto: grid.pixels, scale: shaking.units.toG,
        scratch: scratchFile("pga_mean.tif"), units: shaking.units))
    var pgaSpread = masked(
      try ShakingLayers.warped(
        shaking.std, onto: grid.pixels, scale: shaking.spread == .ln ? 1 : shaking.units.toG,
        scratch: scratchFile("pga_std.tif"), units: shaking.spread == .ln ? nil : shaking.units))
    if shaking.spread == .ln { ShakingLayers.lognormalSpread(&pgaSpread, median: pgaMean) }
    for (name, what, values) in [
      ("pga_mean", "mean", pgaMean), ("pga_std", "spread", pgaSpread),
    ] {
      try writeGeoTIFF(
        path: predictor(name), grid: grid.pixels,
        bands: [RasterBand(description: "peak ground acceleration, \(what) (g)", values: values)],
        noDataValue: Double(TerrainLayers.noData))
    }
  }

  /// Per period, the maximum and the spread of daily rain, a band each.
  func writeRain(
    _ statistics: RainStatistics, periods: [StudyPeriod], days: [[Day]], log: (String) -> Void
  ) throws(RasterError) {
    let rainMax = try GeoTIFFBandWriter(
      path: predictor("rain_max"), grid: grid.pixels, bandCount: periods.count,
      noDataValue: Double(TerrainLayers.noData))
    let rainSpread = try GeoTIFFBandWriter(
      path: predictor("rain_spread"), grid: grid.pixels, bandCount: periods.count,
      noDataValue: Double(TerrainLayers.noData))
    for (index, period) in periods.enumerated() {
      log("rain, period \(period.name): \(days[index].count) days")
      let (maximum, spread) = try statistics.statistics(days: days[index])
      let native = scratchFile("rain_native.tif")
      try writeGeoTIFF(
        path: native, grid: statistics.windowGrid,
        bands: [
          RasterBand(description: "max", values: maximum),
          RasterBand(description: "spread", values: spread),
        ], noDataValue: Double(TerrainLayers.noData))
      let warped = scratchFile("rain_warped.tif")
      try RasterWarp.warp(native, onto: grid.pixels, resampling: .bilinear, to: warped)
      let dataset = try RasterDataset(path: warped)
      try rainMax.write(
        band: index, description: "maximum daily rain (mm), period \(period.name)",
        values: masked(try dataset.read(band: 0).values))
      try rainSpread.write(
        band: index, description: "2.5–97.5 % spread of daily rain (mm), period \(period.name)",
        values: masked(try dataset.read(band: 1).values))
    }
    try rainMax.finish()
    try rainSpread.finish()
  }

  /// The cumulative landslide area per unit and period, `inventory.tif`.
  func writeInventory(_ inventory: InventoryInput, periods: [StudyPeriod]) throws(RasterError) {
    let bands: [[Float]]
    switch inventory {
    case .polygons(let path, let layer, let field):
      bands = try InventoryRaster.rasterize(
        path: path, layer: layer, field: field, periods: periods, onto: grid)
    case .raster(let path):
      bands = try InventoryRaster.warped(
        path, periods: periods.count, onto: grid.units, scratch: scratchFile("inventory.tif"))
    }
    try writeGeoTIFF(
      path: (directory as NSString).appendingPathComponent("inventory.tif"), grid: grid.units,
      bands: zip(periods, bands).map {
        RasterBand(
          description: "cumulative landslide area (% of cell), period \($0.name)", values: $1)
      })
  }
}

/// The warped DEM with the area of interest's outside as no data.
private struct InsideTheArea: ElevationSource {
  let raster: RasterDataset
  let inside: [Bool]?
  var grid: RasterGrid { raster.grid }

  func elevations(in window: RasterWindow) throws(RasterError) -> [Float] {
    var values = try raster.elevations(in: window)
    guard let inside else { return values }
    for row in 0..<window.height {
      for column in 0..<window.width
      where !inside[(window.y + row) * grid.width + window.x + column] {
        values[row * window.width + column] = .nan
      }
    }
    return values
  }
}
