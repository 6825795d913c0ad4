import Configuration
import Foundation
import GeoData

/// What the events step reads: a catalogue of dated landslides, daily rain (and soil
/// moisture) rasters, static rasters and the macro-region of each site, from a config's
/// files or a synthetic country's directory. Sites are the rain grid's cells that hold
/// landslides: every landslide in a cell reads that cell's series and statics.
public struct RainfallStudy {
  public var cataloguePath: String
  public var catalogue: LandslideCatalogue
  public var rain: DailyRasters
  public var soilMoisture: DailyRasters?
  /// One-band GeoTIFFs, each a static factor named by its file, in column order.
  public var statics: [(name: String, path: String)]
  public var categorical: Set<String>
  public var regions: Regions
  /// A synthetic country's latent process: each event's true probability.
  public var latent: LatentProcess?

  public enum Regions {
    /// Codes 1…n of a raster, with their names.
    case raster(path: String, names: [String])
    /// Named polygons, in the rain grid's CRS.
    case polygons(RegionPolygons)
    /// The catalogue's region column.
    case column
  }

  /// A synthetic country as `rainfall synth` writes it.
  public init(directory: String) throws(RainfallError) {
    func path(_ parts: String...) -> String {
      parts.reduce(directory) { ($0 as NSString).appendingPathComponent($1) }
    }
    let manifest = try CountryManifest.read(from: path(CountryManifest.fileName))
    cataloguePath = path("catalogue.csv")
    catalogue = try LandslideCatalogue.read(
      csv: cataloguePath,
      columns: CatalogueColumns(id: "id", date: "date", x: "longitude", y: "latitude"),
      dateFormat: try DateFormat("%Y-%m-%d"))
    rain = try DailyRasters(directory: path("rain"), variable: "rain")
    soilMoisture = try DailyRasters(directory: path("soil_moisture"), variable: "soil moisture")
    statics = manifest.staticNames.map { ($0, path("statics", "\($0).tif")) }
    categorical = Set(manifest.classes.keys)
    regions = .raster(path: path("regions.tif"), names: manifest.regions)
    latent = manifest.latent
  }

  /// A config's real inputs. The catalogue's points are carried into the rain grid's CRS
  /// when it has another (`catalogue.crs`, or a layer's own).
  public init(files: RainfallFilesConfig) throws(RainfallError) {
    let columns = files.columns
    cataloguePath = files.catalogue
    rain = try DailyRasters(directory: files.rain, variable: "rain")
    let isLayer = !files.catalogue.lowercased().hasSuffix(".csv")
    guard let date = columns["date"], isLayer || (columns["x"] != nil && columns["y"] != nil)
    else {
      throw RainfallError(files.catalogue, "the config names no date, x or y column")
    }
    let roles = CatalogueColumns(
      id: columns["id"], date: date, x: columns["x"] ?? "", y: columns["y"] ?? "",
      trigger: files.triggers == nil ? nil : columns["trigger"],
      country: files.countries == nil ? nil : columns["country"], region: columns["region"],
      geographic: files.catalogueCRS == nil && rain.grid.isGeographic)
    let filter = CatalogueFilter(
      triggers: files.triggers.map(Set.init), countries: files.countries.map(Set.init),
      boundingBox: files.boundingBox.map {
        .init(minX: $0[0], minY: $0[1], maxX: $0[2], maxY: $0[3])
      })
    let dateFormat = try DateFormat(files.dateFormat)
    catalogue =
      isLayer
      ? try LandslideCatalogue.read(
        layer: files.catalogue, name: files.catalogueLayer, columns: roles,
        dateFormat: dateFormat, filter: filter)
      : try LandslideCatalogue.read(
        csv: files.catalogue, columns: roles, dateFormat: dateFormat, filter: filter)
    let ownCRS = catalogue.crs != nil
    catalogue.crs = catalogue.crs ?? files.catalogueCRS
    if let crs = catalogue.crs {
      let points = try rain.grid.carry(
        catalogue.entries.map { ($0.x, $0.y) }, from: crs, source: files.catalogue,
        key: ownCRS ? "the layer's CRS" : "catalogue.crs")
      for (index, point) in points.enumerated() {
        (catalogue.entries[index].x, catalogue.entries[index].y) = (point.x, point.y)
      }
      catalogue.crs = nil
    }
    soilMoisture = try files.soilMoisture.map { (path) throws(RainfallError) in
      try DailyRasters(directory: path, variable: "soil moisture")
    }
    statics = []
    if let directory = files.statics {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      statics = names.filter { $0.hasSuffix(".tif") || $0.hasSuffix(".tiff") }.sorted().map {
        (($0 as NSString).deletingPathExtension, (directory as NSString).appendingPathComponent($0))
      }
    }
    categorical = Set(files.categorical)
    for name in categorical where !statics.contains(where: { $0.name == name }) {
      throw RainfallError(
        files.statics ?? "statics",
        "categorical factor '\(name)' is not among the statics (\(statics.map(\.name).joined(separator: ", ")))"
      )
    }
    switch files.regions {
    case .raster(let path, let names): regions = .raster(path: path, names: names)
    case .vector(let path, let layer, let field):
      regions = .polygons(
        try RegionPolygons(path: path, layer: layer, field: field, grid: rain.grid))
    case .column: regions = .column
    }
  }

  /// A landslide the study cannot place, and why.
  public struct Skipped: Equatable, Sendable, CustomStringConvertible {
    public var landslide: String
    public var reason: String
    public var description: String { "\(landslide): \(reason)" }
  }

  /// Every placeable landslide's window (its site's series from `windowDays` plus the
  /// antecedent days before it), the sites (rain cells' centres, in the rain grid's CRS,
  /// indexed by the windows' `site`), and the landslides skipped: outside the rain grid,
  /// on a cell without rain, statics or region, or too early or late for the rasters' days.
  public func windows(rules: EventRules) throws(RainfallError)
    -> (windows: [EventTable.Window], sites: [SiteLocation], skipped: [Skipped])
  {
    var skipped: [Skipped] = []
    var placed: [(entry: CatalogueEntry, cell: Int)] = []
    let reach = rules.windowDays + rules.antecedentDays
    for entry in catalogue.entries {
      guard let (column, row) = rain.grid.pixel(x: entry.x, y: entry.y) else {
        skipped.append(.init(landslide: entry.id, reason: "outside the rain rasters' grid"))
        continue
      }
      // With soil moisture, the window's first event needs its antecedent days too.
      let start = entry.day - (soilMoisture == nil ? rules.windowDays : reach)
      guard start >= rain.first, entry.day <= rain.last,
        soilMoisture.map({ start >= $0.first && entry.day <= $0.last }) ?? true
      else {
        skipped.append(
          .init(
            landslide: entry.id,
            reason: "\(entry.day): its window needs daily series from \(start); the rain "
              + "rasters cover \(rain.first)–\(rain.last)"
              + (soilMoisture.map { ", the soil moisture \($0.first)–\($0.last)" } ?? "")))
        continue
      }
      placed.append((entry, row * rain.grid.width + column))
    }
    guard !placed.isEmpty else { return ([], [], skipped) }
    let cells = Array(Set(placed.map(\.cell))).sorted()
    let site = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, $0) })
    let from = max(rain.first, placed.map(\.entry.day).min()! - reach)
    let through = placed.map(\.entry.day).max()!
    let rainSeries = try rain.sample(cells: cells, from: from, through: through)
    let moistureSeries = try soilMoisture.map { (moisture) throws(RainfallError) in
      try moisture.sample(
        cells: try cellsOn(moisture.grid, of: cells), from: from, through: through)
    }
    let staticValues = try statics.map { (_, path) throws(RainfallError) in
      try sample(path, at: cells)
    }
    let regionNames: [String?]
    switch regions {
    case .raster(let path, let names):
      regionNames = try sample(path, at: cells).map { code in
        code.isNaN || Int(code) < 1 || Int(code) > names.count ? nil : names[Int(code) - 1]
      }
    case .polygons(let polygons):
      regionNames = cells.map { cell in
        let (x, y) = rain.grid.centre(ofPixel: cell)
        return polygons.region(x: x, y: y)
      }
    case .column:
      regionNames = cells.map { _ in nil }
    }
    var windows: [EventTable.Window] = []
    for (entry, cell) in placed {
      let index = site[cell]!
      let siteStatics = staticValues.map { $0[index] }
      if let missing = statics.indices.first(where: { siteStatics[$0].isNaN }) {
        skipped.append(.init(landslide: entry.id, reason: "no data in \(statics[missing].path)"))
        continue
      }
      guard let region = regionNames[index] ?? entry.region, !region.isEmpty else {
        let reason: String
        if case .polygons(let polygons) = regions {
          let (x, y) = rain.grid.centre(ofPixel: cell)
          reason =
            "its rain cell's centre (\(x), \(y)) lies outside every region of \(polygons.path)"
        } else {
          reason = "no region at its site"
        }
        skipped.append(.init(landslide: entry.id, reason: reason))
        continue
      }
      let rain = rainSeries[index]
      guard !rain.contains(where: \.isNaN) else {
        skipped.append(.init(landslide: entry.id, reason: "no rain data at its cell"))
        continue
      }
      windows.append(
        EventTable.Window(
          landslide: entry.id, day: entry.day, site: index, region: region,
          statics: siteStatics,
          series: DailySeries(
            first: from, rain: rain,
            soilMoisture: moistureSeries.map { $0[index] }.flatMap {
              $0.contains(where: \.isNaN) ? nil : $0
            })))
    }
    let sites = cells.map { cell in
      let (x, y) = rain.grid.centre(ofPixel: cell)
      return SiteLocation(x: x, y: y)
    }
    return (windows, sites, skipped)
  }

  /// The cells of `grid` holding the centres of the rain grid's `cells` (soil moisture
  /// comes on a coarser grid).
  private func cellsOn(_ grid: RasterGrid, of cells: [Int]) throws(RainfallError) -> [Int] {
    if grid == rain.grid { return cells }
    var result: [Int] = []
    for cell in cells {
      let (x, y) = rain.grid.centre(ofPixel: cell)
      guard let (column, row) = grid.pixel(x: x, y: y) else {
        throw RainfallError(
          soilMoisture?.directory ?? "soil moisture",
          "the soil-moisture grid does not cover the rain cell at (\(x), \(y))")
      }
      result.append(row * grid.width + column)
    }
    return result
  }

  /// A one-band raster's values at the rain grid's `cells` (by their centres), NaN where
  /// it has no data or does not reach.
  private func sample(_ path: String, at cells: [Int]) throws(RainfallError) -> [Float] {
    do {
      let raster = try RasterDataset(path: path)
      let band = try raster.read(band: 0)
      return cells.map { cell in
        let (x, y) = rain.grid.centre(ofPixel: cell)
        guard let (column, row) = raster.grid.pixel(x: x, y: y) else { return .nan }
        let index = row * raster.grid.width + column
        return band.valid[index] ? band.values[index] : .nan
      }
    } catch { throw RainfallError(path, error.message) }
  }
}
