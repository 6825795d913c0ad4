import Classical
import Foundation
import GeoData
import TensorEngine

/// `rainfall thresholds`: the seed's threshold maps (its Figure 10). A run's XGBoost model
/// is searched for the total rain at which each 1–5-day positive event reaches P = 0.5,
/// 0.7 and 0.9 (`ThresholdSearch`), the events' thresholds are averaged per site
/// (`SiteThreshold`), and each level's site thresholds are kriged (ordinary kriging, a
/// spherical semivariogram fitted to the empirical one, the 12 nearest sites) onto a
/// 0.05° EPSG:4326 grid over the sites or onto a mask raster's grid.
public enum ThresholdMaps {
  /// One level's kriged map.
  public struct LevelMap: Codable, Equatable, Sendable {
    public var level: Double
    /// Sites with a threshold at the level: the kriging's data.
    public var sites: Int
    public var empirical: EmpiricalVariogram
    public var variogram: SphericalVariogram
    public var krigedCells: Int
    /// Kriged cells left nodata because their system was singular.
    public var singularCells: Int
    /// The smallest and largest estimate, mm.
    public var minimum: Double
    public var maximum: Double
    public var file: String
  }

  public struct Result: Codable, Sendable {
    public var summary: ThresholdSummary
    public var width: Int
    public var height: Int
    /// The grid's west and north edges and cell size, degrees.
    public var west: Double
    public var north: Double
    public var cellSize: Double
    public var maps: [LevelMap]
    public var skipped: [SkippedLevel]
    public var files: [String]
    public var searchSeconds: Double
    /// Fitting, kriging and writing the maps.
    public var krigingSeconds: Double
  }

  /// Fewer sites than this leave too few pairs for a semivariogram worth fitting.
  public static let minimumSites = 5
  public static let noDataValue = -9999.0
  /// Bins of the empirical semivariogram (pykrige's default).
  public static let lagCount = 6
  public static let neighbours = 12

  /// Searches `events` (read from `eventsSource`, which errors name) with the run's
  /// `model` and writes into `out`: `thresholds.csv`, `thresholds.json` (a
  /// `ThresholdSummary`), per level `threshold_pNN.tif` (band 1 the kriged threshold in mm,
  /// band 2 the kriging variance in mm², nodata −9999) and `threshold_pNN.png` (one colour
  /// range for all levels), and `variogram.json` (per level the empirical bins and the
  /// fitted model). `mask` is a raster whose grid replaces the 0.05° one. A level too few
  /// sites reach gets no map and is listed in `Result.skipped` (see `writeMaps`).
  public static func run(
    runDirectory: String, events: EventSet, eventsSource: String, out: String,
    search: ThresholdSearch = ThresholdSearch(), mask: String? = nil, model name: String = "xgboost"
  ) throws(RainfallError) -> Result {
    let (model, encoder, modelPath) = try TrainedModel.load(runDirectory: runDirectory, name: name)
    guard !(try search.eligibleRows(of: events, source: eventsSource)).isEmpty else {
      throw RainfallError(
        eventsSource,
        "no positive events of \(days(search.durationDays)) days to search for thresholds")
    }
    let maskGrid = try mask.map { (path: String) throws(RainfallError) in
      try ThresholdMapGrid.mask(path)
    }
    let locations = try geographicLocations(of: events, source: eventsSource)
    let clock = ContinuousClock()
    let searchStart = clock.now
    let crossings = try search.run(events: events, source: eventsSource) {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
      do throws(ClassicalError) {
        return try model.predictProbability(encoder.encode(raw, source: eventsSource))
      } catch { throw RainfallError(modelPath, error.message) }
    }
    let searchSeconds = (clock.now - searchStart).seconds
    let sites = SiteThreshold.sites(
      of: crossings, events: events, locations: locations, levels: search.levels.count)
    let summary = ThresholdSummary(search: search, crossings: crossings, sites: sites)
    try RunFiles.write(
      SiteThreshold.csv(sites, levels: search.levels), to: RunFiles.path(out, "thresholds.csv"))
    try RunFiles.write(json(summary), to: RunFiles.path(out, "thresholds.json"))
    let grid: ThresholdMapGrid
    if let maskGrid { grid = maskGrid } else { grid = try .covering(sites.map(\.location)) }
    let krigingStart = clock.now
    let (maps, skipped) = try writeMaps(
      sites: sites, levels: search.levels, grid: grid, out: out, source: eventsSource)
    let t = grid.grid.geoTransform
    return Result(
      summary: summary, width: grid.grid.width, height: grid.grid.height, west: t.originX,
      north: t.originY, cellSize: t.pixelWidth, maps: maps, skipped: skipped,
      files: ["thresholds.csv", "thresholds.json"]
        + maps.flatMap { [$0.file, pngName($0.file)] } + ["variogram.json"],
      searchSeconds: searchSeconds, krigingSeconds: (clock.now - krigingStart).seconds)
  }

  /// A level left without a map, and why.
  public struct SkippedLevel: Codable, Equatable, Sendable {
    public var level: Double
    public var sites: Int
    public var reason: String
  }

  /// Kriges each level's site thresholds onto `grid` and writes the maps, their
  /// quick-looks and `variogram.json` into `out`. A level whose sites are too few (or too
  /// alike) for a semivariogram is skipped and said so, the others mapped: at P ≥ 0.9 a
  /// small catalogue may have only a handful of sites. When no level can be mapped it is an
  /// error, and nothing is written. `source` names the site thresholds' origin (the event
  /// set) in errors.
  public static func writeMaps(
    sites: [SiteThreshold], levels: [Double], grid: ThresholdMapGrid, out: String, source: String
  ) throws(RainfallError) -> (maps: [LevelMap], skipped: [SkippedLevel]) {
    var models: [LevelModel] = []
    var skipped: [SkippedLevel] = []
    for index in levels.indices {
      do throws(RainfallError) {
        models.append(try LevelModel(sites: sites, levels: levels, index: index, source: source))
      } catch {
        skipped.append(
          SkippedLevel(
            level: levels[index], sites: sites.count(where: { $0.thresholds[index] != nil }),
            reason: error.message))
      }
    }
    guard !models.isEmpty else {
      throw RainfallError(
        source,
        "no level can be kriged: "
          + skipped.map { "P ≥ \($0.level): \($0.reason)" }.joined(separator: "; "))
    }
    let centres = grid.krigedCentres
    let cells = grid.kriged.indices.filter { grid.kriged[$0] }
    var maps: [LevelMap] = []
    var estimates: [[Float]] = []
    for model in models {
      let prediction = OrdinaryKriging(
        sites: model.points, values: model.values, variogram: model.variogram,
        neighbours: neighbours
      ).predict(at: centres)
      var threshold = [Float](repeating: .nan, count: grid.kriged.count)
      var variance = threshold
      for (position, cell) in cells.enumerated() {
        threshold[cell] = Float(prediction.estimates[position])
        variance[cell] = Float(prediction.variances[position])
      }
      let level = model.level
      let file = "threshold_p\(ThresholdLevel.percent(level)).tif"
      do {
        try writeGeoTIFF(
          path: RunFiles.path(out, file), grid: grid.grid,
          bands: [
            RasterBand(description: "rainfall threshold at P >= \(level) (mm)", values: threshold),
            RasterBand(description: "kriging variance (mm^2)", values: variance),
          ], noDataValue: noDataValue)
      } catch { throw RainfallError(error.path, error.message) }
      let finite = prediction.estimates.filter(\.isFinite)
      maps.append(
        LevelMap(
          level: level, sites: model.points.count, empirical: model.empirical,
          variogram: model.variogram, krigedCells: cells.count, singularCells: prediction.singular,
          minimum: finite.min() ?? .nan, maximum: finite.max() ?? .nan, file: file))
      estimates.append(threshold)
    }
    // One colour range for every level, so that the maps compare.
    let lowest = maps.map(\.minimum).filter(\.isFinite).min() ?? 0
    let highest = maps.map(\.maximum).filter(\.isFinite).max() ?? 1
    for (map, values) in zip(maps, estimates) {
      let path = RunFiles.path(out, pngName(map.file))
      do {
        try QuickLook.write(
          path: path, values: values, width: grid.grid.width, height: grid.grid.height,
          title: "Rainfall threshold at P >= \(map.level)",
          style: .continuous(.viridis, range: Float(lowest)...Float(highest), unit: "mm"))
      } catch { throw RainfallError(error.path, error.message) }
    }
    try RunFiles.write(
      json(maps.map(VariogramRecord.init)), to: RunFiles.path(out, "variogram.json"))
    return (maps, skipped)
  }

  /// One level's kriging data and fitted semivariogram.
  struct LevelModel {
    var level: Double
    var points: [GeographicPoint]
    var values: [Double]
    var empirical: EmpiricalVariogram
    var variogram: SphericalVariogram

    init(sites: [SiteThreshold], levels: [Double], index: Int, source: String)
      throws(RainfallError)
    {
      level = levels[index]
      let reaching = sites.filter { $0.thresholds[index] != nil }
      guard reaching.count >= minimumSites else {
        throw RainfallError(
          source,
          "\(reaching.count) sites reach P ≥ \(level); kriging needs at least \(minimumSites) "
            + "to fit a semivariogram (see thresholds.csv)")
      }
      points = reaching.map(\.location)
      values = reaching.map { $0.thresholds[index]! }
      empirical = EmpiricalVariogram(sites: points, values: values, lagCount: lagCount)
      variogram = try SphericalVariogram.fitted(
        to: empirical, subject: "\(source): the site thresholds at P ≥ \(level)")
      guard variogram.sill > 0 else {
        throw RainfallError(
          source,
          "the \(reaching.count) site thresholds at P ≥ \(level) are all \(values[0]) mm: "
            + "nothing varies to krige")
      }
    }
  }

  /// A level's entry in `variogram.json`.
  struct VariogramRecord: Codable {
    var level: Double
    var sites: Int
    /// Great-circle distances, as the range.
    var distanceUnit = "degrees of arc"
    var model = "spherical"
    var nugget: Double
    var partialSill: Double
    var sill: Double
    var range: Double
    var empirical: [EmpiricalVariogram.Bin]

    init(_ map: LevelMap) {
      level = map.level
      sites = map.sites
      nugget = map.variogram.nugget
      partialSill = map.variogram.partialSill
      sill = map.variogram.sill
      range = map.variogram.range
      empirical = map.empirical.bins
    }
  }

  /// The event set's site locations in longitude and latitude.
  static func geographicLocations(of events: EventSet, source: String) throws(RainfallError)
    -> [GeographicPoint]
  {
    guard !events.crsWKT.isEmpty else {
      throw RainfallError(
        source, "the site locations have no CRS; `rainfall events` records the rain grid's")
    }
    do {
      return try PointTransform.transform(
        events.siteLocations.map { ($0.x, $0.y) }, fromWKT: events.crsWKT, toEPSG: 4326,
        source: source
      ).map { GeographicPoint(longitude: $0.x, latitude: $0.y) }
    } catch { throw RainfallError(error.path, error.message) }
  }

  static func days(_ range: ClosedRange<Double>) -> String {
    String(format: "%g–%g", range.lowerBound, range.upperBound)
  }

  static func pngName(_ tif: String) -> String {
    (tif as NSString).deletingPathExtension + ".png"
  }

  static func json<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
  }

}
