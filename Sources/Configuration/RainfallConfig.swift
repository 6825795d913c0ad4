import Foundation

/// The rainfall thresholds' run configuration (SPEC.md §4): the inputs (a synthetic
/// country, or the user's catalogue and rasters) and the event rules. Every key has a
/// default, so an empty document is a valid config (a synthetic country).
public struct RainfallConfig: Equatable, Sendable {
  public var inputs = RainfallInputs.synthetic(RainfallSyntheticConfig())
  public var events = EventRules()

  public init() {}

  public static func load(file: String, overrides: [String] = []) throws(ConfigError)
    -> RainfallConfig
  {
    try parse(ConfigDocument.text(of: file), file: file, overrides: overrides)
  }

  public static func parse(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> RainfallConfig
  {
    var document = try ConfigDocument.reader(text, file: file, overrides: overrides)
    var config = RainfallConfig()
    config.inputs = try document.section("inputs", default: config.inputs, RainfallInputs.read)
    config.events = try document.section("events", default: config.events, EventRules.read)
    try document.finish()
    return config
  }
}

/// Where the catalogue, the daily series and the statics come from.
public enum RainfallInputs: Equatable, Sendable {
  case synthetic(RainfallSyntheticConfig)
  case files(RainfallFilesConfig)

  static func read(_ section: inout MappingReader) throws(ConfigError) -> RainfallInputs {
    switch try section.syntheticOrFiles(
      RainfallSyntheticConfig(), RainfallSyntheticConfig.read, RainfallFilesConfig.read)
    {
    case .synthetic(let area): .synthetic(area)
    case .files(let files): .files(files)
    }
  }

}

/// A synthetic country (`landslide rainfall synth`), made on first use.
public struct RainfallSyntheticConfig: Equatable, Sendable, Codable {
  public var seed = 1
  public var firstYear = 2015
  public var years = 6
  public var width = 120
  public var height = 140
  public var sites = 1500
  public var landslides = 3000

  public init() {}

  enum CodingKeys: String, CodingKey {
    case seed, years, width, height, sites, landslides
    case firstYear = "first_year"
  }

  static func read(_ section: inout MappingReader) throws(ConfigError) -> RainfallSyntheticConfig {
    var c = RainfallSyntheticConfig()
    c.seed = try section.int("seed", default: c.seed, range: 0...Int(Int32.max))
    c.firstYear = try section.int("first_year", default: c.firstYear, range: 1900...2200)
    c.years = try section.int("years", default: c.years, range: 2...100)
    let size = try section.intList(
      "size", default: [c.width, c.height], count: 2...2, range: 40...10_000)
    (c.width, c.height) = (size[0], size[1])
    c.sites = try section.int("sites", default: c.sites, range: 10...10_000_000)
    c.landslides = try section.int("landslides", default: c.landslides, range: 1...10_000_000)
    return c
  }
}

/// A real study: a catalogue of dated landslides, daily rain (and soil moisture) rasters,
/// static rasters, and the macro-region of each site. Relative paths are resolved against
/// the config file's directory.
public struct RainfallFilesConfig: Equatable, Sendable {
  public var catalogue: String
  /// Column names; nil `id`: the row number; nil `trigger`/`country`: no such filter.
  public var columns: [String: String]
  /// `%Y-%m-%d`, `%m/%d/%Y %H:%M` (the NASA Global Landslide Catalog), …
  public var dateFormat: String
  /// Keep rows whose trigger (country) is one of these, case-insensitively; nil: all.
  public var triggers: [String]?
  public var countries: [String]?
  /// min x, min y, max x, max y in the catalogue's coordinates.
  public var boundingBox: [Double]?
  /// Directories of daily rasters (one GeoTIFF per day, or dated multi-band stacks).
  public var rain: String
  public var soilMoisture: String?
  /// A directory of one-band GeoTIFFs on one grid, each a static factor named by its file.
  public var statics: String?
  public var categorical: [String]
  /// The region of each site: a raster of codes 1…n with their names, or a catalogue column.
  public var regions: Regions

  public enum Regions: Equatable, Sendable {
    case raster(path: String, names: [String])
    case column(String)
  }

  /// The catalogue columns a user may name, with the NASA Global Landslide Catalog's
  /// names as defaults.
  public static let defaultColumns = [
    "id": "event_id", "date": "event_date", "x": "longitude", "y": "latitude",
    "trigger": "landslide_trigger", "country": "country_name",
  ]

  static func read(_ section: inout MappingReader) throws(ConfigError) -> RainfallFilesConfig {
    guard var catalogue = try section.section("catalogue") else {
      throw section.error(
        .missingKey, "catalogue", at: section.node,
        "missing; expected {path: …, date_format: …, columns: {…}}")
    }
    let cataloguePath = try path("path", in: &catalogue, required: true)!
    var columns = defaultColumns
    if var names = try catalogue.section("columns") {
      for (key, node) in names.takeAll() {
        guard ["id", "date", "x", "y", "trigger", "country", "region"].contains(key) else {
          throw names.error(
            .unknownKey, key, at: node,
            "unknown column role; expected id, date, x, y, trigger, country or region")
        }
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "null" {
          columns[key] = nil
        } else if case .scalar(let scalar) = node {
          columns[key] = scalar.string
        }
      }
    }
    let dateFormat = try catalogue.string("date_format") ?? "%m/%d/%Y %H:%M"
    let triggers = try catalogue.stringList("triggers", count: 1...100)
    let countries = try catalogue.stringList("countries", count: 1...300)
    let boundingBox = try catalogue.doubleList("bbox", count: 4...4, range: NumberRange())
    try catalogue.finish()
    let rain = try path("rain", in: &section, required: true)!
    let soilMoisture = try path("soil_moisture", in: &section, required: false)
    let statics = try path("statics", in: &section, required: false)
    let categorical = try section.stringList("categorical", count: 0...1000) ?? []
    guard var regionSection = try section.section("regions") else {
      throw section.error(
        .missingKey, "regions", at: section.node,
        "missing; expected {raster: regions.tif, names: [...]} or {column: region}")
    }
    let regions: Regions
    if let column = try regionSection.string("column") {
      regions = .column(column)
      columns["region"] = column
    } else {
      let names = try regionSection.stringList("names", count: 1...1000)
      guard let raster = try path("raster", in: &regionSection, required: false), let names
      else {
        throw regionSection.error(
          .missingKey, "raster", at: regionSection.node,
          "expected {raster: regions.tif, names: [code 1's name, …]} or {column: region}")
      }
      regions = .raster(path: raster, names: names)
    }
    try regionSection.finish()
    return RainfallFilesConfig(
      catalogue: cataloguePath, columns: columns, dateFormat: dateFormat, triggers: triggers,
      countries: countries, boundingBox: boundingBox, rain: rain, soilMoisture: soilMoisture,
      statics: statics, categorical: categorical, regions: regions)
  }

  /// The path at `key`, resolved against the config file's directory; it must exist.
  static func path(_ key: String, in section: inout MappingReader, required: Bool)
    throws(ConfigError) -> String?
  {
    let node = section.peek(key)
    guard let value = try section.string(key) else {
      guard !required else {
        throw section.error(.missingKey, key, at: section.node, "missing; expected a path")
      }
      return nil
    }
    let directory = (section.source.file as NSString).deletingLastPathComponent
    let resolved =
      value.hasPrefix("/") || directory.isEmpty
      ? value : (directory as NSString).appendingPathComponent(value)
    guard FileManager.default.fileExists(atPath: resolved) else {
      throw section.error(.missingFile, key, at: node, "no such file or directory '\(resolved)'")
    }
    return resolved
  }
}

/// How daily rain becomes events (SPEC.md §4, the seed's rules), with its defaults.
public struct EventRules: Equatable, Sendable, Codable {
  /// Days of rain read before (and including) each landslide's day.
  public var windowDays = 365
  /// A day is wet from this much rain on (CHIRPS's daily totals are never exactly 0 in
  /// a rainy season; 1 mm is the usual wet-day threshold).
  public var wetDayMillimetres: Float = 1
  /// Consecutive dry days that end an event: 2 (48 h) when the dry spell starts in a
  /// month of `summerMonths`, otherwise 4 (96 h).
  public var summerDryDays = 2
  public var otherDryDays = 4
  public var summerMonths: [Int] = [6, 7, 8, 9]
  /// Days before an event's first day whose mean soil moisture is its antecedent state.
  public var antecedentDays = 7
  /// A trigger that ended more days than this before its landslide is dropped.
  public var maxTriggerGapDays = 10
  /// Share of all events, the lowest by total rain, dropped.
  public var lowestTotalShare = 0.1

  public init() {}

  enum CodingKeys: String, CodingKey {
    case windowDays = "window_days"
    case wetDayMillimetres = "wet_day_mm"
    case summerDryDays = "summer_dry_days"
    case otherDryDays = "other_dry_days"
    case summerMonths = "summer_months"
    case antecedentDays = "antecedent_days"
    case maxTriggerGapDays = "max_trigger_gap_days"
    case lowestTotalShare = "lowest_total_share"
  }

  static func read(_ section: inout MappingReader) throws(ConfigError) -> EventRules {
    var r = EventRules()
    r.windowDays = try section.int("window_days", default: r.windowDays, range: 7...3660)
    r.wetDayMillimetres = Float(
      try section.double(
        "wet_day_mm", default: Double(r.wetDayMillimetres), range: .atLeast(0)))
    r.summerDryDays = try section.int("summer_dry_days", default: r.summerDryDays, range: 1...60)
    r.otherDryDays = try section.int("other_dry_days", default: r.otherDryDays, range: 1...60)
    r.summerMonths = try section.intList(
      "summer_months", default: r.summerMonths, count: 0...12, range: 1...12)
    r.antecedentDays = try section.int("antecedent_days", default: r.antecedentDays, range: 1...365)
    r.maxTriggerGapDays = try section.int(
      "max_trigger_gap_days", default: r.maxTriggerGapDays, range: 0...365)
    r.lowestTotalShare = try section.double(
      "lowest_total_share", default: r.lowestTotalShare, range: .halfOpenUnitInterval)
    return r
  }
}
