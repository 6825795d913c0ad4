import Configuration
import Foundation
import GeoData

/// What the events step reads: a catalogue of dated landslides, daily rain (and soil
/// moisture), static factors and the macro-region of each site, from a config's files or
/// a synthetic country's directory. With rain rasters, sites are the rain grid's cells
/// that hold landslides: every landslide in a cell reads that cell's series and statics.
/// With per-site series (gauges), the catalogue's site column names each landslide's
/// series, and a site lies at the mean x, y of the landslides naming it.
public struct RainfallStudy {
  public var cataloguePath: String
  public var catalogue: LandslideCatalogue
  public var daily: DailySource
  /// The CRS (WKT) of the sites' locations: the rain grid's; with per-site series the
  /// catalogue's (`catalogue.crs`), EPSG:4326 where it declares none.
  public var crsWKT: String
  /// Each static factor, in column order, and its file: a one-band GeoTIFF, or the CSV of
  /// `siteStatics`.
  public var statics: [(name: String, path: String)]
  /// The per-site statics table, when the statics come from one.
  public var siteStatics: SiteStatics?
  public var categorical: Set<String>
  public var regions: Regions
  /// A synthetic country's latent process: each event's true probability.
  public var latent: LatentProcess?

  /// Where the daily series come from, and so what a site is.
  public enum DailySource {
    /// Sites are the rain grid's cells.
    case rasters(rain: DailyRasters, soilMoisture: DailyRasters?)
    /// Sites are the series named by the catalogue's column `column`.
    case sites(column: String, rain: SiteSeries, soilMoisture: SiteMoisture?)
  }

  /// Soil moisture for per-site rain: its own per-site series, or rasters sampled at each
  /// site's location.
  public enum SiteMoisture {
    case series(SiteSeries)
    case rasters(DailyRasters)
  }

  public enum Regions {
    /// Codes 1…n of a raster, with their names.
    case raster(path: String, names: [String])
    /// Named polygons, in the sites' CRS.
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
    let rain = try DailyRasters(directory: path("rain"), variable: "rain")
    daily = .rasters(
      rain: rain,
      soilMoisture: try DailyRasters(
        directory: path("soil_moisture"), variable: "soil moisture"))
    crsWKT = rain.grid.crsWKT
    statics = manifest.staticNames.map { ($0, path("statics", "\($0).tif")) }
    categorical = Set(manifest.classes.keys)
    regions = .raster(path: path("regions.tif"), names: manifest.regions)
    latent = manifest.latent
  }

  /// A config's real inputs. With rain rasters, the catalogue's points are carried into
  /// the rain grid's CRS when it has another (`catalogue.crs`, or a layer's own); with
  /// per-site series they stay in the catalogue's.
  public init(files: RainfallFilesConfig) throws(RainfallError) {
    let columns = files.columns
    cataloguePath = files.catalogue
    var rainRasters: DailyRasters?
    var rainSeries: SiteSeries?
    switch files.rain {
    case .rasters(let directory):
      rainRasters = try DailyRasters(directory: directory, variable: "rain")
    case .series(let csv): rainSeries = try Self.series(csv, variable: "rain")
    }
    let siteColumn = rainSeries == nil ? nil : columns["site"]
    if rainSeries != nil, siteColumn == nil {
      throw RainfallError(files.catalogue, "per-site rain series need columns.site")
    }
    let isLayer = !files.catalogue.lowercased().hasSuffix(".csv")
    guard let date = columns["date"], isLayer || (columns["x"] != nil && columns["y"] != nil)
    else {
      throw RainfallError(files.catalogue, "the config names no date, x or y column")
    }
    let roles = CatalogueColumns(
      id: columns["id"], date: date, x: columns["x"] ?? "", y: columns["y"] ?? "",
      trigger: files.triggers == nil ? nil : columns["trigger"],
      country: files.countries == nil ? nil : columns["country"], region: columns["region"],
      extra: siteColumn.map { [$0] } ?? [],
      geographic: files.catalogueCRS == nil && (rainRasters?.grid.isGeographic ?? true))
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
    if let rain = rainRasters {
      if let crs = catalogue.crs {
        let points = try rain.grid.carry(
          catalogue.entries.map { ($0.x, $0.y) }, from: crs, source: files.catalogue,
          key: ownCRS ? "the layer's CRS" : "catalogue.crs")
        for (index, point) in points.enumerated() {
          (catalogue.entries[index].x, catalogue.entries[index].y) = (point.x, point.y)
        }
        catalogue.crs = nil
      }
      let soilMoisture = try files.soilMoisture.map { (input) throws(RainfallError) in
        guard case .rasters(let directory) = input else {
          throw RainfallError(
            files.catalogue, "per-site soil moisture needs per-site rain series")
        }
        return try DailyRasters(directory: directory, variable: "soil moisture")
      }
      daily = .rasters(rain: rain, soilMoisture: soilMoisture)
      crsWKT = rain.grid.crsWKT
    } else {
      let soilMoisture = try files.soilMoisture.map { (input) throws(RainfallError) in
        switch input {
        case .rasters(let directory):
          SiteMoisture.rasters(try DailyRasters(directory: directory, variable: "soil moisture"))
        case .series(let csv): SiteMoisture.series(try Self.series(csv, variable: "soil moisture"))
        }
      }
      daily = .sites(column: siteColumn!, rain: rainSeries!, soilMoisture: soilMoisture)
      crsWKT = try Self.wkt(of: catalogue.crs ?? "EPSG:4326", source: files.catalogue)
    }
    statics = []
    switch files.statics {
    case .rasters(let directory):
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      statics = names.filter { $0.hasSuffix(".tif") || $0.hasSuffix(".tiff") }.sorted().map {
        (($0 as NSString).deletingPathExtension, (directory as NSString).appendingPathComponent($0))
      }
    case .table(let path, let site):
      guard rainSeries != nil else {
        throw RainfallError(path, "a per-site statics table needs per-site rain series")
      }
      let table = try SiteStatics(csv: path, site: site)
      siteStatics = table
      statics = table.names.map { ($0, path) }
    case nil: break
    }
    categorical = Set(files.categorical)
    for name in categorical where !statics.contains(where: { $0.name == name }) {
      let source: String
      switch files.statics {
      case .rasters(let path), .table(let path, _): source = path
      case nil: source = "statics"
      }
      throw RainfallError(
        source,
        "categorical factor '\(name)' is not among the statics (\(statics.map(\.name).joined(separator: ", ")))"
      )
    }
    switch files.regions {
    case .raster(let path, let names): regions = .raster(path: path, names: names)
    case .vector(let path, let layer, let field):
      // The polygons are carried into the sites' CRS; only the grid's CRS matters.
      let frame = RasterGrid(
        width: 1, height: 1,
        geoTransform: GeoTransform(originX: 0, pixelWidth: 1, originY: 0, pixelHeight: -1),
        crsWKT: crsWKT)
      regions = .polygons(
        try RegionPolygons(path: path, layer: layer, field: field, grid: frame))
    case .column: regions = .column
    }
  }

  private static func series(_ csv: RainfallFilesConfig.SeriesCSV, variable: String)
    throws(RainfallError) -> SiteSeries
  {
    try SiteSeries(
      csv: csv.path, site: csv.site, date: csv.date, value: csv.value,
      dateFormat: try DateFormat(csv.dateFormat), variable: variable)
  }

  /// `crs` as WKT: an "EPSG:n" code expanded by GDAL, anything else (WKT) as given.
  private static func wkt(of crs: String, source: String) throws(RainfallError) -> String {
    guard crs.uppercased().hasPrefix("EPSG:"), let code = Int(crs.dropFirst(5)) else {
      return crs
    }
    do {
      return try RasterGrid(
        width: 1, height: 1,
        geoTransform: GeoTransform(originX: 0, pixelWidth: 1, originY: 0, pixelHeight: -1),
        epsg: code
      ).crsWKT
    } catch { throw RainfallError(source, "catalogue.crs: \(error.message)") }
  }

  /// A landslide the study cannot place, and why.
  public struct Skipped: Equatable, Sendable, CustomStringConvertible {
    public var landslide: String
    public var reason: String
    public var description: String { "\(landslide): \(reason)" }
  }

  /// A place landslides read their series and statics from.
  private struct Site {
    /// Its rain cell, for rasters.
    var cell = 0
    /// Its series' name, for per-site series.
    var name = ""
    /// In `crsWKT`.
    var x: Double
    var y: Double
    var rain: ClosedRange<Day>
    var soilMoisture: ClosedRange<Day>?
    /// How skip reasons name it: "its rain cell's centre", "its site 'G1'".
    var label: String
    /// Who holds its series: "the rain rasters cover", "site 'G1''s rain series covers".
    var coverage: String
  }

  /// Every placeable landslide's window (its site's series from `windowDays` plus the
  /// antecedent days before it), the sites (in `crsWKT`, indexed by the windows' `site`),
  /// and the landslides skipped: outside the rain grid or naming a site without series,
  /// on a site without rain, statics or region, or too early or late for its series.
  public func windows(rules: EventRules) throws(RainfallError)
    -> (windows: [EventTable.Window], sites: [SiteLocation], skipped: [Skipped])
  {
    var skipped: [Skipped] = []
    let reach = rules.windowDays + rules.antecedentDays
    let (candidates, located) = locate(skipped: &skipped)
    var placed: [(entry: CatalogueEntry, site: Int)] = []
    for (entry, index) in located {
      let site = candidates[index]
      // With soil moisture, the window's first event needs its antecedent days too.
      let start = entry.day - (site.soilMoisture == nil ? rules.windowDays : reach)
      guard site.rain.contains(start), site.rain.contains(entry.day),
        site.soilMoisture.map({ $0.contains(start) && $0.contains(entry.day) }) ?? true
      else {
        skipped.append(
          .init(
            landslide: entry.id,
            reason: "\(entry.day): its window needs daily series from \(start); "
              + "\(site.coverage) \(site.rain.lowerBound)–\(site.rain.upperBound)"
              + (site.soilMoisture.map {
                ", the soil moisture \($0.lowerBound)–\($0.upperBound)"
              } ?? "")))
        continue
      }
      placed.append((entry, index))
    }
    guard !placed.isEmpty else { return ([], [], skipped) }
    let used = Array(Set(placed.map(\.site))).sorted()
    let renumbered = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
    placed = placed.map { ($0.entry, renumbered[$0.site]!) }
    let sites = used.map { candidates[$0] }
    // Each site's series run from the earliest day its landslides need to the last
    // landslide's day: over all sites for rasters, which are read a day at a time.
    var span = [(from: Day, through: Day)](
      repeating: (Day(Int.max), Day(Int.min)), count: sites.count)
    for (entry, site) in placed {
      span[site] = (min(span[site].from, entry.day), max(span[site].through, entry.day))
    }
    if case .rasters = daily {
      let all = (span.map(\.from).min()!, span.map(\.through).max()!)
      span = span.map { _ in all }
    }
    for (index, site) in sites.enumerated() {
      span[index].from = max(
        span[index].from - reach, site.rain.lowerBound,
        site.soilMoisture?.lowerBound ?? site.rain.lowerBound)
    }
    let (rainSeries, moistureSeries) = try sample(sites, span: span)
    let staticValues = try staticsValues(at: sites)
    let regionNames = try regionNames(at: sites)
    var windows: [EventTable.Window] = []
    for (entry, index) in placed {
      let site = sites[index]
      let siteStatics: [Float]
      switch staticValues[index] {
      case .failure(let reason):
        skipped.append(.init(landslide: entry.id, reason: reason.message))
        continue
      case .success(let values): siteStatics = values
      }
      guard let region = regionNames[index] ?? entry.region, !region.isEmpty else {
        let reason: String
        if case .polygons(let polygons) = regions {
          reason =
            "\(site.label) (\(site.x), \(site.y)) lies outside every region of \(polygons.path)"
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
            first: span[index].from, rain: rain,
            soilMoisture: moistureSeries?[index].flatMap {
              $0.contains(where: \.isNaN) ? nil : $0
            })))
    }
    return (windows, sites.map { SiteLocation(x: $0.x, y: $0.y) }, skipped)
  }

  /// The sites the catalogue's landslides fall on and each placed landslide's site; a
  /// landslide off the rain grid, or naming no site or one without series, is skipped.
  private func locate(skipped: inout [Skipped]) -> (
    sites: [Site], located: [(entry: CatalogueEntry, site: Int)]
  ) {
    var sites: [Site] = []
    var located: [(entry: CatalogueEntry, site: Int)] = []
    switch daily {
    case .rasters(let rain, let moisture):
      var cells: [(entry: CatalogueEntry, cell: Int)] = []
      for entry in catalogue.entries {
        guard let (column, row) = rain.grid.pixel(x: entry.x, y: entry.y) else {
          skipped.append(.init(landslide: entry.id, reason: "outside the rain rasters' grid"))
          continue
        }
        cells.append((entry, row * rain.grid.width + column))
      }
      let distinct = Array(Set(cells.map(\.cell))).sorted()
      let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
      sites = distinct.map { cell in
        let (x, y) = rain.grid.centre(ofPixel: cell)
        return Site(
          cell: cell, x: x, y: y, rain: rain.first...rain.last,
          soilMoisture: moisture.map { $0.first...$0.last }, label: "its rain cell's centre",
          coverage: "the rain rasters cover")
      }
      located = cells.map { ($0.entry, index[$0.cell]!) }
    case .sites(let column, let rain, let moisture):
      var index: [String: Int] = [:]
      var sums: [(x: Double, y: Double, count: Int)] = []
      for entry in catalogue.entries {
        let name = entry.extra[column] ?? ""
        guard !name.isEmpty else {
          skipped.append(.init(landslide: entry.id, reason: "no site (\(column) is empty)"))
          continue
        }
        guard let days = rain.days(of: name) else {
          skipped.append(
            .init(landslide: entry.id, reason: "site '\(name)' has no series in \(rain.path)"))
          continue
        }
        var moistureDays: ClosedRange<Day>?
        switch moisture {
        case .series(let series):
          guard let found = series.days(of: name) else {
            skipped.append(
              .init(
                landslide: entry.id, reason: "site '\(name)' has no series in \(series.path)"))
            continue
          }
          moistureDays = found
        case .rasters(let rasters): moistureDays = rasters.first...rasters.last
        case nil: break
        }
        if index[name] == nil {
          index[name] = sites.count
          sums.append((0, 0, 0))
          sites.append(
            Site(
              name: name, x: 0, y: 0, rain: days, soilMoisture: moistureDays,
              label: "its site '\(name)'", coverage: "site '\(name)''s rain series covers"))
        }
        let site = index[name]!
        sums[site] = (sums[site].x + entry.x, sums[site].y + entry.y, sums[site].count + 1)
        located.append((entry, site))
      }
      for (site, sum) in sums.enumerated() {
        (sites[site].x, sites[site].y) = (sum.x / Double(sum.count), sum.y / Double(sum.count))
      }
    }
    return (sites, located)
  }

  /// Each site's rain and soil moisture over its span, NaN where a raster has no data.
  private func sample(_ sites: [Site], span: [(from: Day, through: Day)])
    throws(RainfallError) -> (rain: [[Float]], soilMoisture: [[Float]?]?)
  {
    switch daily {
    case .rasters(let rain, let moisture):
      let (from, through) = span[0]
      let rainSeries = try rain.sample(cells: sites.map(\.cell), from: from, through: through)
      let moistureSeries = try moisture.map { (moisture) throws(RainfallError) in
        try moisture.sample(
          cells: try cells(on: moisture, at: sites), from: from, through: through
        ).map { Optional($0) }
      }
      return (rainSeries, moistureSeries)
    case .sites(_, let rain, let moisture):
      let rainSeries = sites.indices.map {
        rain.values(of: sites[$0].name, from: span[$0].from, through: span[$0].through)
      }
      switch moisture {
      case .series(let series):
        return (
          rainSeries,
          sites.indices.map {
            series.values(of: sites[$0].name, from: span[$0].from, through: span[$0].through)
          }
        )
      case .rasters(let rasters):
        let from = span.map(\.from).min()!
        let stack = try rasters.sample(
          cells: try cells(on: rasters, at: sites), from: from,
          through: span.map(\.through).max()!)
        return (
          rainSeries,
          sites.indices.map {
            Array(stack[$0][(span[$0].from - from)...(span[$0].through - from)])
          }
        )
      case nil: return (rainSeries, nil)
      }
    }
  }

  /// The cells of a soil-moisture grid holding the sites (it may be coarser than the
  /// rain's, or in another CRS).
  private func cells(on rasters: DailyRasters, at sites: [Site]) throws(RainfallError) -> [Int] {
    if case .rasters(let rain, _) = daily, rasters.grid == rain.grid { return sites.map(\.cell) }
    let points = try carry(sites, onto: rasters.grid, source: rasters.directory)
    var result: [Int] = []
    for (x, y) in points {
      guard let (column, row) = rasters.grid.pixel(x: x, y: y) else {
        throw RainfallError(
          rasters.directory,
          "the soil-moisture grid does not cover the site at (\(x), \(y))")
      }
      result.append(row * rasters.grid.width + column)
    }
    return result
  }

  /// The sites' locations in `grid`'s CRS: carried there when it declares another one.
  private func carry(_ sites: [Site], onto grid: RasterGrid, source: String)
    throws(RainfallError) -> [(x: Double, y: Double)]
  {
    let points = sites.map { (x: $0.x, y: $0.y) }
    guard !grid.crsWKT.isEmpty, grid.crsWKT != crsWKT else { return points }
    return try grid.carry(points, from: crsWKT, source: source, key: "the sites' CRS")
  }

  /// Each site's static factors, or why it has none (a raster without data there, a site
  /// without a row or a value in the statics table).
  private func staticsValues(at sites: [Site]) throws(RainfallError)
    -> [Result<[Float], RainfallError>]
  {
    if let table = siteStatics {
      return sites.map { site in
        guard let values = table.sites[site.name] else {
          return .failure(
            RainfallError(table.path, "site '\(site.name)' has no row in \(table.path)"))
        }
        if let missing = values.firstIndex(where: \.isNaN) {
          return .failure(
            RainfallError(
              table.path, "site '\(site.name)' has no \(table.names[missing]) in \(table.path)"))
        }
        return .success(values)
      }
    }
    let values = try statics.map { (_, path) throws(RainfallError) in
      try sample(path, at: sites)
    }
    return sites.indices.map { index in
      let siteValues = values.map { $0[index] }
      if let missing = siteValues.firstIndex(where: \.isNaN) {
        return .failure(RainfallError(statics[missing].path, "no data in \(statics[missing].path)"))
      }
      return .success(siteValues)
    }
  }

  /// Each site's region from the raster or polygons; nil where the catalogue's column
  /// gives it (or nothing does).
  private func regionNames(at sites: [Site]) throws(RainfallError) -> [String?] {
    switch regions {
    case .raster(let path, let names):
      return try sample(path, at: sites).map { code in
        code.isNaN || Int(code) < 1 || Int(code) > names.count ? nil : names[Int(code) - 1]
      }
    case .polygons(let polygons):
      return sites.map { polygons.region(x: $0.x, y: $0.y) }
    case .column:
      return sites.map { _ in nil }
    }
  }

  /// A one-band raster's values at the sites, NaN where it has no data or does not reach.
  private func sample(_ path: String, at sites: [Site]) throws(RainfallError) -> [Float] {
    let raster: RasterDataset
    let band: BandWindow
    do {
      raster = try RasterDataset(path: path)
      band = try raster.read(band: 0)
    } catch { throw RainfallError(path, error.message) }
    return try carry(sites, onto: raster.grid, source: path).map { (x, y) in
      guard let (column, row) = raster.grid.pixel(x: x, y: y) else { return .nan }
      let index = row * raster.grid.width + column
      return band.valid[index] ? band.values[index] : .nan
    }
  }
}
