import Foundation

/// The rainfall thresholds' run configuration (SPEC.md §4): the inputs (a synthetic
/// country, or the user's catalogue and rasters) and the event rules. Every key has a
/// default, so an empty document is a valid config (a synthetic country).
public struct RainfallConfig: Equatable, Sendable {
  public var inputs = RainfallInputs.synthetic(RainfallSyntheticConfig())
  public var events = EventRules()
  public var training = RainfallTrainingConfig()

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
    config.training = try document.section(
      "training", default: config.training, RainfallTrainingConfig.read)
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

/// A real study: a catalogue of dated landslides, daily rain (and soil moisture) as rasters
/// or per-site series, static factors, and the macro-region of each site. Relative paths
/// are resolved against the config file's directory.
public struct RainfallFilesConfig: Equatable, Sendable {
  /// A CSV (`.csv`), or any vector source OGR reads (GeoPackage, shapefile, GeoJSON) whose
  /// points are the landslides.
  public var catalogue: String
  /// The vector source's layer; nil: its only (or first) one.
  public var catalogueLayer: String? = nil
  /// The CRS of the catalogue's coordinates ("EPSG:32632", WKT: what GDAL reads) when not
  /// the rain rasters'; a layer's own CRS comes first.
  public var catalogueCRS: String? = nil
  /// Column names; nil `id`: the row number; nil `trigger`/`country`: no such filter. A
  /// layer's x and y come from its points.
  public var columns: [String: String]
  /// `%Y-%m-%d`, `%m/%d/%Y %H:%M` (the NASA Global Landslide Catalog), …
  public var dateFormat: String
  /// Keep rows whose trigger (country) is one of these, case-insensitively; nil: all.
  public var triggers: [String]?
  public var countries: [String]?
  /// min x, min y, max x, max y in the catalogue's coordinates.
  public var boundingBox: [Double]?
  /// Daily rasters, or per-site series (then the catalogue names each landslide's site in
  /// `columns["site"]`).
  public var rain: DailyInput
  public var soilMoisture: DailyInput?
  /// Rasters, each a static factor named by its file, or a CSV of one row per site.
  public var statics: StaticsInput?
  public var categorical: [String]
  /// The region of each site: a raster of codes 1…n with their names, polygons named by
  /// an attribute, or a catalogue column.
  public var regions: Regions

  /// Where a daily variable comes from.
  public enum DailyInput: Equatable, Sendable {
    /// A directory of daily rasters (one GeoTIFF per day, or dated multi-band stacks).
    case rasters(String)
    /// A long CSV, as gauge networks export: one row per site and day.
    case series(SeriesCSV)
  }

  /// A long CSV of daily series and the names of its columns.
  public struct SeriesCSV: Equatable, Sendable {
    public var path: String
    public var site = "site"
    public var date = "date"
    public var value = "value"
    public var dateFormat = "%Y-%m-%d"

    public init(path: String) { self.path = path }
  }

  public enum StaticsInput: Equatable, Sendable {
    /// A directory of one-band GeoTIFFs, each a factor named by its file.
    case rasters(String)
    /// A CSV with the site column `site` and one column per factor.
    case table(path: String, site: String)
  }

  public enum Regions: Equatable, Sendable {
    case raster(path: String, names: [String])
    /// A vector layer's polygons (nil layer: the file's only or first), named by `field`.
    case vector(path: String, layer: String?, field: String)
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
        guard ["id", "date", "x", "y", "trigger", "country", "region", "site"].contains(key)
        else {
          throw names.error(
            .unknownKey, key, at: node,
            "unknown column role; expected id, date, x, y, trigger, country, region or site")
        }
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "null" {
          columns[key] = nil
        } else if case .scalar(let scalar) = node {
          columns[key] = scalar.string
        }
      }
    }
    let dateFormat = try catalogue.string("date_format") ?? "%m/%d/%Y %H:%M"
    let layer = try catalogue.string("layer")
    let crs = try catalogue.string("crs")
    let triggers = try catalogue.stringList("triggers", count: 1...100)
    let countries = try catalogue.stringList("countries", count: 1...300)
    let boundingBox = try catalogue.doubleList("bbox", count: 4...4, range: NumberRange())
    try catalogue.finish()
    guard let rain = try dailyInput("rain", in: &section) else {
      throw section.error(
        .missingKey, "rain", at: section.node,
        "missing; expected a directory of daily rasters or {csv: rain.csv}")
    }
    let soilMoisture = try dailyInput("soil_moisture", in: &section)
    if case .series = rain, columns["site"] == nil {
      throw section.error(
        .missingKey, "catalogue.columns.site", at: section.peek("catalogue"),
        "missing; per-site rain series need the catalogue column naming each landslide's site")
    }
    if case .rasters = rain, case .series = soilMoisture {
      throw section.error(
        .conflictingKeys, "soil_moisture", at: section.peek("soil_moisture"),
        "per-site soil moisture needs per-site rain: with rain rasters, sites are rain cells")
    }
    let statics: StaticsInput?
    if case .mapping = section.peek("statics") {
      var table = try section.section("statics")!
      let csv = try path("csv", in: &table, required: true)!
      statics = .table(path: csv, site: try table.string("site_column") ?? "site")
      try table.finish()
    } else {
      statics = try path("statics", in: &section, required: false).map { .rasters($0) }
    }
    if case .rasters = rain, case .table = statics {
      throw section.error(
        .conflictingKeys, "statics", at: section.peek("statics"),
        "a per-site statics table needs per-site rain: with rain rasters, sites are rain cells")
    }
    let categorical = try section.stringList("categorical", count: 0...1000) ?? []
    let expected =
      "{raster: regions.tif, names: [code 1's name, …]}, {vector: regions.gpkg, field: name} "
      + "or {column: region}"
    guard var regionSection = try section.section("regions") else {
      throw section.error(.missingKey, "regions", at: section.node, "missing; expected \(expected)")
    }
    let regions: Regions
    if let column = try regionSection.string("column") {
      regions = .column(column)
      columns["region"] = column
    } else if let vector = try path("vector", in: &regionSection, required: false) {
      guard let field = try regionSection.string("field") else {
        throw regionSection.error(
          .missingKey, "field", at: regionSection.node,
          "missing; expected the attribute naming each polygon's region")
      }
      regions = .vector(path: vector, layer: try regionSection.string("layer"), field: field)
    } else {
      let names = try regionSection.stringList("names", count: 1...1000)
      guard let raster = try path("raster", in: &regionSection, required: false), let names
      else {
        throw regionSection.error(
          .missingKey, "raster", at: regionSection.node, "expected \(expected)")
      }
      regions = .raster(path: raster, names: names)
    }
    try regionSection.finish()
    return RainfallFilesConfig(
      catalogue: cataloguePath, catalogueLayer: layer, catalogueCRS: crs, columns: columns,
      dateFormat: dateFormat, triggers: triggers,
      countries: countries, boundingBox: boundingBox, rain: rain, soilMoisture: soilMoisture,
      statics: statics, categorical: categorical, regions: regions)
  }

  /// A directory of rasters (a path) or `{csv: …, series_columns: {site:, date:, value:},
  /// series_date_format: …}`; nil when absent.
  static func dailyInput(_ key: String, in section: inout MappingReader) throws(ConfigError)
    -> DailyInput?
  {
    guard case .mapping = section.peek(key) else {
      return try path(key, in: &section, required: false).map { .rasters($0) }
    }
    var reader = try section.section(key)!
    var series = SeriesCSV(path: try path("csv", in: &reader, required: true)!)
    if var names = try reader.section("series_columns") {
      series.site = try names.string("site") ?? series.site
      series.date = try names.string("date") ?? series.date
      series.value = try names.string("value") ?? series.value
      try names.finish()
    }
    series.dateFormat = try reader.string("series_date_format") ?? series.dateFormat
    try reader.finish()
    return .series(series)
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
  /// Negatives kept per positive in each region, drawn at random (the seed's Table 4 is
  /// exactly 1 : 10 in every region); 0 keeps every negative.
  public var negativesPerPositive = 10
  public var negativeSampleSeed = 1

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
    case negativesPerPositive = "negatives_per_positive"
    case negativeSampleSeed = "negative_sample_seed"
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
    r.negativesPerPositive = try section.int(
      "negatives_per_positive", default: r.negativesPerPositive, range: 0...1_000_000)
    r.negativeSampleSeed = try section.int(
      "negative_sample_seed", default: r.negativeSampleSeed, range: 0...Int(Int32.max))
    return r
  }
}

/// The seed's protocol: an 80/20 split stratified within each macro-region, leave-one-
/// region-out cross-validation on the 80 % with SMOTE on each training fold, a grid search
/// per model, repeated; the best configuration refitted and scored on the test set.
public struct RainfallTrainingConfig: Equatable, Sendable {
  public var testShare = 0.2
  public var repetitions = 10
  /// SMOTE's k; 0 turns resampling off.
  public var smoteNeighbours = 5
  public var seed = 1
  /// P(landslide) from which an event is predicted to trigger one.
  public var threshold = 0.5
  /// In the order written; absent: Table 3's grids for every model.
  public var models = ModelGrid.table3

  public init() {}

  /// One model and its search space: hyperparameter → values, in the file's order.
  public struct ModelGrid: Equatable, Sendable {
    public var model: String
    public var space: [(key: String, values: [SweepValue])]

    public init(model: String, space: [(key: String, values: [SweepValue])]) {
      self.model = model
      self.space = space
    }

    public static func == (a: ModelGrid, b: ModelGrid) -> Bool {
      a.model == b.model && a.space.map(\.key) == b.space.map(\.key)
        && a.space.map(\.values) == b.space.map(\.values)
    }

    /// The models and the hyperparameters each grid may set (scikit-learn's, XGBoost's
    /// and LightGBM's names).
    public static let keys: [String: [String]] = [
      "xgboost": [
        "n_estimators", "max_depth", "learning_rate", "subsample", "colsample_bytree",
        "min_child_weight", "reg_lambda", "max_bin",
      ],
      "lightgbm": [
        "n_estimators", "max_depth", "learning_rate", "subsample", "colsample_bytree",
        "num_leaves", "min_child_weight", "reg_lambda", "max_bin",
      ],
      "random_forest": [
        "n_estimators", "max_depth", "min_samples_split", "min_samples_leaf",
        "max_features",
      ],
      "logistic_regression": ["C", "penalty", "l1_ratio", "max_iter"],
    ]

    /// The seed's Table 3 (logistic regression without `solver`: ours solves each
    /// penalty's objective to convergence, so the solver changes nothing).
    public static let table3: [ModelGrid] = {
      let boosted: [(String, [SweepValue])] = [
        ("n_estimators", [50, 100, 200, 300].map { .integer($0) }),
        ("max_depth", [5, 10, 20, 40].map { .integer($0) }),
        ("learning_rate", [0.01, 0.1, 0.2, 0.3].map { .number($0) }),
        ("subsample", [0.8, 0.9, 1.0].map { .number($0) }),
        ("colsample_bytree", [0.8, 0.9, 1.0].map { .number($0) }),
      ]
      return [
        ModelGrid(model: "xgboost", space: boosted.map { (key: $0.0, values: $0.1) }),
        ModelGrid(model: "lightgbm", space: boosted.map { (key: $0.0, values: $0.1) }),
        ModelGrid(
          model: "random_forest",
          space: [
            ("n_estimators", [50, 100, 200, 300].map { .integer($0) }),
            ("max_depth", [5, 10, 20, 40].map { .integer($0) }),
            ("min_samples_split", [2, 5, 10].map { .integer($0) }),
            ("min_samples_leaf", [1, 2, 4].map { .integer($0) }),
            ("max_features", ["sqrt", "log2", "all"].map { .text($0) }),
          ].map { (key: $0.0, values: $0.1) }),
        ModelGrid(
          model: "logistic_regression",
          space: [
            ("C", [0.01, 0.1, 1, 10, 100].map { .number($0) }),
            ("penalty", ["l1", "l2", "elasticnet"].map { .text($0) }),
          ].map { (key: $0.0, values: $0.1) }),
      ]
    }()

    /// Every combination, the last key varying fastest.
    public var points: [[(key: String, value: SweepValue)]] {
      let count = space.reduce(1) { $0 * $1.values.count }
      return (0..<count).map { index in
        var rest = index
        var point: [(key: String, value: SweepValue)] = []
        for (key, values) in space.reversed() {
          point.append((key, values[rest % values.count]))
          rest /= values.count
        }
        return point.reversed()
      }
    }
  }

  static func read(_ section: inout MappingReader) throws(ConfigError) -> RainfallTrainingConfig {
    var c = RainfallTrainingConfig()
    c.testShare = try section.double("test_share", default: c.testShare, range: .openUnitInterval)
    c.repetitions = try section.int("repetitions", default: c.repetitions, range: 1...1000)
    c.smoteNeighbours = try section.int(
      "smote_neighbours", default: c.smoteNeighbours, range: 0...100)
    c.seed = try section.int("seed", default: c.seed, range: 0...Int(Int32.max))
    c.threshold = try section.double("threshold", default: c.threshold, range: .openUnitInterval)
    if var models = try section.section("models") {
      var grids: [ModelGrid] = []
      for (name, node) in models.takeAll() {
        guard let known = ModelGrid.keys[name] else {
          throw models.error(
            .unknownKey, name, at: node,
            "unknown model; expected \(ModelGrid.keys.keys.sorted().joined(separator: ", "))")
        }
        var grid = ModelGrid(model: name, space: [])
        if case .mapping = node {
          var space = try MappingReader(node, keyPath: models.path(name), source: models.source)
          for (key, value) in space.takeAll() {
            guard known.contains(key) else {
              throw space.error(
                .unknownKey, key, at: value,
                "not a hyperparameter of \(name); expected \(known.joined(separator: ", "))")
            }
            var values: [SweepValue] = []
            if case .sequence(let items) = value {
              for item in items { values.append(try SweepValue(item, reader: space, key: key)) }
            } else {
              values = [try SweepValue(value, reader: space, key: key)]
            }
            guard !values.isEmpty else {
              throw space.error(.outOfRange, key, at: value, "expected at least one value")
            }
            grid.space.append((key, values))
          }
        }
        grids.append(grid)
      }
      guard !grids.isEmpty else {
        throw section.error(.missingKey, "models", at: section.node, "no model given")
      }
      c.models = grids
    }
    return c
  }
}
