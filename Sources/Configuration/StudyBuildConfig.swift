import Foundation

/// `landslide study build`'s recipe (configs/study.yaml): the raw inputs of a real study
/// area and the grid they go onto. Relative paths are resolved against the config file's
/// directory; every input is checked to exist when the config is read.
public struct StudyBuildConfig: Equatable, Sendable {
  public var grid = StudyGridConfig()
  public var dem: DEMInput
  public var shaking: ShakingInput
  public var rain: RainInput
  public var periods: [StudyPeriod]
  /// The first day after which monsoon seasons are counted (the earthquake's).
  public var eventDate: String
  public var monsoon = MonsoonSeason()
  public var inventory: InventoryInput

  public static func load(file: String, overrides: [String] = []) throws(ConfigError)
    -> StudyBuildConfig
  {
    try parse(ConfigDocument.text(of: file), file: file, overrides: overrides)
  }

  public static func parse(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> StudyBuildConfig
  {
    var document = try ConfigDocument.reader(text, file: file, overrides: overrides)
    let grid = try document.section("grid", default: StudyGridConfig(), StudyGridConfig.read)
    let dem = try required("dem", in: &document, DEMInput.read)
    let shaking = try required("shaking", in: &document, ShakingInput.read)
    let rain = try required("rain", in: &document, RainInput.read)
    let periods = try StudyPeriod.readList(&document)
    let eventDate = try document.isoDate("event_date") ?? periods[0].start
    let monsoon = try document.section("monsoon", default: MonsoonSeason(), MonsoonSeason.read)
    let inventory = try required("inventory", in: &document, InventoryInput.read)
    try document.finish()
    return StudyBuildConfig(
      grid: grid, dem: dem, shaking: shaking, rain: rain, periods: periods, eventDate: eventDate,
      monsoon: monsoon, inventory: inventory)
  }

  private static func required<Value>(
    _ key: String, in document: inout MappingReader,
    _ read: (inout MappingReader) throws(ConfigError) -> Value
  ) throws(ConfigError) -> Value {
    guard document.contains(key) else {
      throw document.error(.missingKey, key, at: document.node, "missing; see configs/study.yaml")
    }
    return try document.section(
      key, default: nil, { (reader) throws(ConfigError) in try read(&reader) })!
  }

  static func isISODate(_ text: String) -> Bool {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      let month = Int(parts[1]), let day = Int(parts[2]), Int(parts[0]) != nil
    else { return false }
    return (1...12).contains(month) && (1...31).contains(day)
  }
}

/// The target grid: a projected CRS, square mapping units split into square pixels, and
/// the extent (given, or where every input has data).
public struct StudyGridConfig: Equatable, Sendable {
  /// Nil: the UTM zone of the area's centre (WGS 84).
  public var epsg: Int?
  public var unitMetres = 1000.0
  public var pixelsPerUnit = 32
  /// Top-left corner (x, y) in the grid's CRS; nil: the inputs' intersection, snapped
  /// inward to whole units.
  public var origin: [Double]?
  /// Width and height in units, with `origin`.
  public var sizeUnits: [Int]?
  /// Polygons (any OGR file) outside which every predictor is nodata; nil: the whole grid.
  public var areaOfInterest: String?

  public init() {}

  static func read(_ section: inout MappingReader) throws(ConfigError) -> StudyGridConfig {
    var grid = StudyGridConfig()
    grid.epsg = try section.int("epsg", range: 1024...999_999)
    grid.unitMetres = try section.double(
      "unit_m", default: grid.unitMetres, range: .between(1, 100_000))
    grid.pixelsPerUnit = try section.int(
      "pixels_per_unit", default: grid.pixelsPerUnit, range: 1...1024)
    let originNode = section.peek("origin")
    grid.origin = try section.doubleList("origin", count: 2...2, range: NumberRange())
    grid.sizeUnits = try section.intList(
      "size_units", default: [], count: 0...2, range: 1...100_000)
    if grid.sizeUnits!.isEmpty { grid.sizeUnits = nil }
    grid.areaOfInterest = try RainfallFilesConfig.path(
      "area_of_interest", in: &section, required: false)
    guard (grid.origin == nil) == (grid.sizeUnits == nil) else {
      throw section.error(
        .conflictingKeys, "origin", at: originNode ?? section.node,
        "origin and size_units go together (the extent is otherwise the inputs' intersection)")
    }
    return grid
  }
}

public struct DEMInput: Equatable, Sendable {
  public var path: String
  /// Upslope area (km²) from which a cell counts as a river.
  public var riverAreaKm2 = 1.0

  static func read(_ section: inout MappingReader) throws(ConfigError) -> DEMInput {
    var dem = DEMInput(path: try RainfallFilesConfig.path("path", in: &section, required: true)!)
    dem.riverAreaKm2 = try section.double(
      "river_area_km2", default: dem.riverAreaKm2, range: .greaterThan(0))
    return dem
  }
}

/// Peak ground acceleration: a mean and a spread raster (a ShakeMap export).
public struct ShakingInput: Equatable, Sendable {
  public enum Units: String, CaseIterable, Sendable {
    case g
    case percentG = "percent_g"
    case metresPerSecondSquared = "m/s2"
    case centimetresPerSecondSquared = "cm/s2"

    /// The factor that turns a value in these units into g.
    public var toG: Double {
      switch self {
      case .g: 1
      case .percentG: 0.01
      case .metresPerSecondSquared: 1 / 9.80665
      case .centimetresPerSecondSquared: 1 / 980.665
      }
    }
  }

  /// How the spread raster is given: in the mean's units, or as the standard deviation of
  /// ln PGA (ShakeMap's uncertainty grids), the mean then being the median.
  public enum Spread: String, CaseIterable, Sendable {
    case linear
    case ln
  }

  public var mean: String
  public var std: String
  public var units = Units.g
  public var spread = Spread.linear

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ShakingInput {
    var shaking = ShakingInput(
      mean: try RainfallFilesConfig.path("pga_mean", in: &section, required: true)!,
      std: try RainfallFilesConfig.path("pga_std", in: &section, required: true)!)
    shaking.units = try section.choice("units", default: shaking.units)
    shaking.spread = try section.choice("spread", default: shaking.spread)
    return shaking
  }
}

/// Daily rain rasters (mm), dated by file name, band description or NetCDF time.
public struct RainInput: Equatable, Sendable {
  public enum MissingDays: String, CaseIterable, Sendable {
    /// A period with a missing day is an error naming the gap.
    case error
    /// Statistics over the days there are (a period with none is still an error).
    case skip
  }

  public var directory: String
  public var missingDays = MissingDays.error

  static func read(_ section: inout MappingReader) throws(ConfigError) -> RainInput {
    var rain = RainInput(
      directory: try RainfallFilesConfig.path("directory", in: &section, required: true)!)
    rain.missingDays = try section.choice("missing_days", default: rain.missingDays)
    return rain
  }
}

/// One time period: a name and its first and last day (inclusive), ISO dates.
public struct StudyPeriod: Equatable, Sendable, Codable {
  public var name: String
  public var start: String
  public var end: String

  public init(name: String, start: String, end: String) {
    self.name = name
    self.start = start
    self.end = end
  }

  static func readList(_ document: inout MappingReader) throws(ConfigError) -> [StudyPeriod] {
    guard let node = document.take("periods") else {
      throw document.error(
        .missingKey, "periods", at: document.node,
        "missing; expected a list of {name, start, end} with ISO dates")
    }
    guard case .sequence(let items) = node, !items.isEmpty else {
      throw document.error(
        .wrongType, "periods", at: node,
        "expected a list of {name, start, end}, found \(node.shown)")
    }
    var periods: [StudyPeriod] = []
    for (index, item) in items.enumerated() {
      var entry = try MappingReader(
        item, keyPath: document.path("periods[\(index)]"), source: document.source)
      func present(_ value: String?, _ key: String) throws(ConfigError) -> String {
        guard let value else { throw entry.error(.missingKey, key, at: item, "missing") }
        return value
      }
      let name = try present(entry.string("name"), "name")
      let start = try present(entry.isoDate("start"), "start")
      let end = try present(entry.isoDate("end"), "end")
      let period = StudyPeriod(name: name, start: start, end: end)
      try entry.finish()
      guard period.start <= period.end else {
        throw entry.error(
          .outOfRange, "end", at: item,
          "the period ends (\(period.end)) before it starts (\(period.start))")
      }
      if let previous = periods.last, previous.end >= period.start {
        throw entry.error(
          .outOfRange, "start", at: item,
          "periods must follow one another: this one starts \(period.start), the previous ends \(previous.end)"
        )
      }
      periods.append(period)
    }
    return periods
  }
}

/// The monsoon season, month and day of its first and last day (MM-DD).
public struct MonsoonSeason: Equatable, Sendable, Codable {
  public var start = "06-01"
  public var end = "09-30"

  public init() {}

  static func read(_ section: inout MappingReader) throws(ConfigError) -> MonsoonSeason {
    var season = MonsoonSeason()
    for key in ["start", "end"] {
      let node = section.peek(key)
      guard let value = try section.string(key) else { continue }
      guard StudyBuildConfig.isISODate("2000-" + value) else {
        throw section.error(.wrongType, key, at: node, "expected MM-DD, found '\(value)'")
      }
      if key == "start" { season.start = value } else { season.end = value }
    }
    return season
  }
}

/// The landslide inventory: polygons with a period or a date per polygon, or a raster with
/// one band per period of cumulative landslide area (% of each unit).
public enum InventoryInput: Equatable, Sendable {
  public enum Field: Equatable, Sendable {
    /// The attribute holds a period's name (as in `periods`) or its 1-based number.
    case period(String)
    /// The attribute holds a date in `format` (%Y, %m, %d, %H, %M, %S).
    case date(String, format: String)
  }

  case polygons(path: String, layer: String?, field: Field)
  case raster(path: String)

  static func read(_ section: inout MappingReader) throws(ConfigError) -> InventoryInput {
    let (hasPolygons, hasRaster) = (section.contains("polygons"), section.contains("raster"))
    guard hasPolygons != hasRaster else {
      throw section.error(
        hasPolygons ? .conflictingKeys : .missingKey, "polygons", at: section.node,
        "expected exactly one of 'polygons' (a vector file) or 'raster' (a band per period)")
    }
    if hasRaster {
      return .raster(path: try RainfallFilesConfig.path("raster", in: &section, required: true)!)
    }
    let path = try RainfallFilesConfig.path("polygons", in: &section, required: true)!
    let layer = try section.string("layer")
    let periodField = try section.string("period_field")
    let dateNode = section.peek("date_field")
    let dateField = try section.string("date_field")
    let format = try section.string("date_format") ?? "%Y-%m-%d"
    switch (periodField, dateField) {
    case (let field?, nil): return .polygons(path: path, layer: layer, field: .period(field))
    case (nil, let field?):
      return .polygons(path: path, layer: layer, field: .date(field, format: format))
    default:
      throw section.error(
        periodField == nil ? .missingKey : .conflictingKeys, "period_field",
        at: dateNode ?? section.node,
        "expected exactly one of 'period_field' or 'date_field'")
    }
  }
}

extension MappingReader {
  /// An ISO date (YYYY-MM-DD) under `key`; nil when absent.
  fileprivate mutating func isoDate(_ key: String) throws(ConfigError) -> String? {
    let node = peek(key)
    guard let value = try string(key) else { return nil }
    guard StudyBuildConfig.isISODate(value) else {
      throw error(.wrongType, key, at: node, "expected a date YYYY-MM-DD, found '\(value)'")
    }
    return value
  }
}
