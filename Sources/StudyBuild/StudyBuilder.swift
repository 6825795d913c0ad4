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

  /// - Parameter tileSize: the side of the terrain's tiles and the height of the strips the
  ///   other layers are made in; it bounds memory and does not change the values.
  public static func build(
    _ config: StudyBuildConfig, configFile: String, into output: String,
    tileSize: Int = TerrainLayers.defaultTileSize, log: (String) -> Void = { _ in }
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
      directory: target + ".partial-\(getpid())", grid: grid, tileSize: tileSize,
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
/// the area-of-interest mask (outside it every predictor is nodata). Every pixel layer is
/// made a strip of rows at a time, so memory does not grow with the area.
private struct Stage {
  let directory: String
  let predictors: String
  let scratch: String
  let grid: TargetGrid
  /// The area of interest burnt onto the pixels (1 inside), a scratch raster.
  let areaMask: RasterDataset?
  let tileSize: Int
  let strips: [RasterWindow]

  init(directory: String, grid: TargetGrid, tileSize: Int, areaOfInterest: String?)
    throws(RasterError)
  {
    self.directory = directory
    self.grid = grid
    self.tileSize = tileSize
    predictors = (directory as NSString).appendingPathComponent("predictors")
    scratch = (directory as NSString).appendingPathComponent("scratch")
    strips = grid.pixels.strips(of: tileSize)
    try? FileManager.default.removeItem(atPath: directory)
    do {
      try FileManager.default.createDirectory(atPath: predictors, withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    } catch {
      throw RasterError(path: directory, message: "cannot create (\(error.localizedDescription))")
    }
    guard let areaOfInterest else {
      areaMask = nil
      return
    }
    let mask = try GeoTIFFBandWriter(
      path: (scratch as NSString).appendingPathComponent("area_of_interest.tif"),
      grid: grid.pixels, bandCount: 1)
    for strip in strips {
      try mask.write(
        band: 0, description: "inside the area of interest", window: strip,
        values: try PolygonRasterizer.rasterize(
          path: areaOfInterest, onto: grid.pixels, window: strip))
    }
    try mask.finish()
    areaMask = try RasterDataset(path: mask.path)
  }

  func scratchFile(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

  func predictor(_ name: String) -> String {
    (predictors as NSString).appendingPathComponent("\(name).tif")
  }

  func predictorFile(_ name: String, bands: Int = 1) throws(RasterError) -> GeoTIFFBandWriter {
    try GeoTIFFBandWriter(
      path: predictor(name), grid: grid.pixels, bandCount: bands,
      noDataValue: Double(TerrainLayers.noData))
  }

  /// `values` over `window` with the outside of the area of interest as NaN.
  func masked(_ values: [Float], in window: RasterWindow) throws(RasterError) -> [Float] {
    guard let areaMask else { return values }
    let inside = try areaMask.read(band: 0, window: window).values
    return zip(values, inside).map { $1 > 0 ? $0 : .nan }
  }

  /// The terrain layers of the DEM warped onto the pixels, read back a tile at a time.
  func writeTerrain(_ dem: DEMInput) throws(RasterError) {
    let warpedDEM = scratchFile("dem.tif")
    try RasterWarp.warp(dem.path, onto: grid.pixels, resampling: .bilinear, to: warpedDEM)
    let source = InsideTheArea(raster: try RasterDataset(path: warpedDEM), stage: self)
    // Written into the staging directory, so a refusal here leaves the study untouched.
    let cells = try TerrainLayers.write(
      source, tileSize: tileSize, riverArea: dem.riverAreaKm2 * 1e6, to: predictors)
    guard cells > 0 else {
      throw RasterError(path: dem.path, message: "no elevation over the study area")
    }
  }

  /// PGA mean and spread, in g.
  func writeShaking(_ shaking: ShakingInput) throws(RasterError) {
    let lnSpread = shaking.spread == .ln
    var mean = try ShakingLayer(
      shaking.mean, onto: grid.pixels, scale: shaking.units.toG,
      scratch: scratchFile("pga_mean.tif"), units: shaking.units)
    var spread = try ShakingLayer(
      shaking.std, onto: grid.pixels, scale: lnSpread ? 1 : shaking.units.toG,
      scratch: scratchFile("pga_std.tif"), units: lnSpread ? nil : shaking.units)
    let (meanFile, spreadFile) = (try predictorFile("pga_mean"), try predictorFile("pga_std"))
    for strip in strips {
      let pgaMean = try masked(try mean.read(strip), in: strip)
      var pgaSpread = try masked(try spread.read(strip), in: strip)
      if lnSpread { ShakingLayer.lognormalSpread(&pgaSpread, median: pgaMean) }
      try meanFile.write(
        band: 0, description: "peak ground acceleration, mean (g)", window: strip,
        values: pgaMean)
      try spreadFile.write(
        band: 0, description: "peak ground acceleration, spread (g)", window: strip,
        values: pgaSpread)
    }
    try mean.checkCoverage()
    try spread.checkCoverage()
    try meanFile.finish()
    try spreadFile.finish()
  }

  /// Per period, the maximum and the spread of daily rain, a band each.
  func writeRain(
    _ statistics: RainStatistics, periods: [StudyPeriod], days: [[Day]], log: (String) -> Void
  ) throws(RasterError) {
    let rainMax = try predictorFile("rain_max", bands: periods.count)
    let rainSpread = try predictorFile("rain_spread", bands: periods.count)
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
      for strip in strips {
        try rainMax.write(
          band: index, description: "maximum daily rain (mm), period \(period.name)",
          window: strip,
          values: try masked(try dataset.read(band: 0, window: strip).values, in: strip))
        try rainSpread.write(
          band: index, description: "2.5–97.5 % spread of daily rain (mm), period \(period.name)",
          window: strip,
          values: try masked(try dataset.read(band: 1, window: strip).values, in: strip))
      }
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
  let stage: Stage
  var grid: RasterGrid { raster.grid }

  func elevations(in window: RasterWindow) throws(RasterError) -> [Float] {
    try stage.masked(try raster.elevations(in: window), in: window)
  }
}
