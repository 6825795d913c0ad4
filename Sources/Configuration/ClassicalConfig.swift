import Foundation
import Yams

/// The classical susceptibility models' run configuration (SPEC.md §3): the study area
/// (synthetic, or the user's GeoTIFFs and inventories), how pixel tables are sampled,
/// split and encoded, the models with their hyperparameters, and the networks' training.
/// Every key has a default (the paper's, or scikit-learn's where the paper gives none), so
/// an empty document is a valid config.
public struct ClassicalConfig: Equatable, Sendable {
  public var study = ClassicalStudyConfig.synthetic(ClassicalSyntheticConfig())
  public var tables = ClassicalTablesConfig()
  public var encoding = ClassicalEncodingConfig()
  /// In the order written; absent: every model with its defaults.
  public var models = ClassicalModelConfig.allDefaults
  public var training = TrainingConfig.classicalDefaults
  /// Share of the training table held out for the networks' early stopping.
  public var validationShare = 0.1

  public init() {}

  public static func load(file: String, overrides: [String] = []) throws(ConfigError)
    -> ClassicalConfig
  {
    try parse(ConfigDocument.text(of: file), file: file, overrides: overrides)
  }

  public static func parse(_ text: String, file: String, overrides: [String] = [])
    throws(ConfigError) -> ClassicalConfig
  {
    var document = try ConfigDocument.reader(text, file: file, overrides: overrides)
    var config = ClassicalConfig()
    config.study = try document.section("study", default: config.study, ClassicalStudyConfig.read)
    config.tables = try document.section(
      "tables", default: config.tables, ClassicalTablesConfig.read)
    config.encoding = try document.section(
      "encoding", default: config.encoding, ClassicalEncodingConfig.read)
    if let node = document.take("models") {
      config.models = try ClassicalModelConfig.readAll(
        node, keyPath: "models", source: document.source)
    }
    if var training = try document.section("training") {
      config.training = try TrainingConfig.read(&training, defaults: config.training)
      config.validationShare = try training.double(
        "validation_share", default: config.validationShare, range: .openUnitInterval)
      try training.finish()
    }
    try document.finish()
    return config
  }
}

extension TrainingConfig {
  /// The networks' defaults: tabular rows are cheap, so larger batches and a higher rate.
  public static let classicalDefaults: TrainingConfig = {
    var config = TrainingConfig()
    config.batchSize = 256
    config.maxEpochs = 200
    config.patience = 10
    config.learningRate = 1e-3
    config.decayRate = 1
    config.progressInterval = 30
    return config
  }()
}

/// Where the factors and inventories come from.
public enum ClassicalStudyConfig: Equatable, Sendable {
  case synthetic(ClassicalSyntheticConfig)
  case files(ClassicalFilesConfig)

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalStudyConfig {
    switch try section.syntheticOrFiles(
      ClassicalSyntheticConfig(), ClassicalSyntheticConfig.read, ClassicalFilesConfig.read)
    {
    case .synthetic(let area): .synthetic(area)
    case .files(let files): .files(files)
    }
  }

}

/// A synthetic area of 10 m pixels (`landslide classical synth`), made on first use.
public struct ClassicalSyntheticConfig: Equatable, Sendable {
  public var seed = 1
  public var width = 2000
  public var height = 2000

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalSyntheticConfig {
    var area = ClassicalSyntheticConfig()
    area.seed = try section.int("seed", default: area.seed, range: 0...Int(Int32.max))
    let size = try section.intList(
      "size", default: [area.width, area.height], count: 2...2, range: 32...100_000)
    (area.width, area.height) = (size[0], size[1])
    return area
  }
}

/// A real study: GeoTIFF factors on one grid and one or more inventories. Relative paths
/// are resolved against the config file's directory.
public struct ClassicalFilesConfig: Equatable, Sendable {
  /// GeoTIFFs: a one-band file is a factor named by its base name, each band of a
  /// multi-band stack one named by its description (`factors` in the config: a directory
  /// of GeoTIFFs, or one stack).
  public var factors: [String]
  /// Factors holding class codes rather than quantities (lithology, soil, land use).
  public var categorical: [String]
  /// By name ("historical", "earthquake"), in the order written.
  public var inventories: [InventoryConfig]
  /// Rasters not on the first factor's grid are warped onto it by GDAL (bilinear for
  /// quantities, nearest for class codes and inventories) instead of refused.
  public var warp = false

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalFilesConfig {
    let factorNode = section.peek("factors")
    guard let factorPath = try section.string("factors") else {
      throw section.error(
        .missingKey, "factors", at: section.node,
        "missing; expected a directory of GeoTIFFs, one per factor")
    }
    let path = resolve(factorPath, in: section)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw section.error(
        .missingFile, "factors", at: factorNode,
        "no such file or directory '\(path)'; expected a directory of GeoTIFFs or one stack")
    }
    var factors = [path]
    if isDirectory.boolValue {
      let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
      factors = files.filter { $0.hasSuffix(".tif") || $0.hasSuffix(".tiff") }.sorted().map {
        (path as NSString).appendingPathComponent($0)
      }
      guard !factors.isEmpty else {
        throw section.error(.missingFile, "factors", at: factorNode, "no .tif files in '\(path)'")
      }
    }
    // Names come from the rasters (a stack's band descriptions): checked when opened.
    let categorical = try section.stringList("categorical", count: 0...1000) ?? []
    guard var inventories = try section.section("inventories") else {
      throw section.error(
        .missingKey, "inventories", at: section.node,
        "missing; expected a section of inventories by name (a 0/1 GeoTIFF, a points CSV)")
    }
    var read: [InventoryConfig] = []
    for (name, node) in inventories.takeAll() {
      read.append(try InventoryConfig.read(name: name, node, in: inventories))
    }
    guard !read.isEmpty else {
      throw section.error(.missingKey, "inventories", at: inventories.node, "no inventory given")
    }
    let warp = try section.bool("warp", default: false)
    return ClassicalFilesConfig(
      factors: factors, categorical: categorical, inventories: read, warp: warp)
  }

  static func resolve(_ path: String, in section: MappingReader) -> String {
    let directory = (section.source.file as NSString).deletingLastPathComponent
    return path.hasPrefix("/") || directory.isEmpty
      ? path : (directory as NSString).appendingPathComponent(path)
  }
}

/// One inventory: a 0/1 GeoTIFF on the factors' grid (nodata allowed), landslide polygons
/// (GeoPackage, shapefile, GeoJSON; any CRS) rasterised onto the grid, or points in a CSV
/// in the factors' CRS with a 0/1 (or TRUE/FALSE) column; points give their own table.
public struct InventoryConfig: Equatable, Sendable {
  public enum Source: Equatable, Sendable {
    case raster(path: String)
    /// `layer` nil: the file's first layer.
    case polygons(path: String, layer: String?)
    case points(path: String, x: String, y: String, label: String)
  }

  /// Extensions read as polygons when an inventory is given as a bare path.
  static let vectorExtensions = ["gpkg", "shp", "geojson", "json", "kml", "gml"]

  public var name: String
  public var source: Source

  public init(name: String, source: Source) {
    self.name = name
    self.source = source
  }

  static func read(name: String, _ node: Node, in parent: MappingReader) throws(ConfigError)
    -> InventoryConfig
  {
    let keyPath = MappingReader.join(parent.keyPath, name)
    if case .scalar(let scalar) = node {
      let path = ClassicalFilesConfig.resolve(scalar.string, in: parent)
      guard !path.lowercased().hasSuffix(".csv") else {
        throw parent.source.error(
          .wrongType, at: node, key: keyPath,
          "a points CSV needs its columns: write it as {points: \(scalar.string), x: …, y: …, label: …}"
        )
      }
      try requireFile(path, node: node, keyPath: keyPath, source: parent.source)
      let isVector = vectorExtensions.contains((path as NSString).pathExtension.lowercased())
      return InventoryConfig(
        name: name, source: isVector ? .polygons(path: path, layer: nil) : .raster(path: path))
    }
    var section = try MappingReader(node, keyPath: keyPath, source: parent.source)
    if section.contains("polygons") {
      let polygonsNode = section.peek("polygons")
      let path = ClassicalFilesConfig.resolve(try section.string("polygons")!, in: section)
      try requireFile(
        path, node: polygonsNode, keyPath: section.path("polygons"), source: section.source)
      let layer = try section.string("layer")
      try section.finish()
      return InventoryConfig(name: name, source: .polygons(path: path, layer: layer))
    }
    let pointsNode = section.peek("points")
    guard let points = try section.string("points") else {
      throw section.error(
        .missingKey, "points", at: section.node,
        "expected a GeoTIFF or vector path, or a section {polygons: file.gpkg, layer: …} or "
          + "{points: file.csv, x: …, y: …, label: …}")
    }
    let path = ClassicalFilesConfig.resolve(points, in: section)
    try requireFile(path, node: pointsNode, keyPath: section.path("points"), source: section.source)
    let source = InventoryConfig.Source.points(
      path: path, x: try section.string("x") ?? "x", y: try section.string("y") ?? "y",
      label: try section.string("label") ?? "label")
    try section.finish()
    return InventoryConfig(name: name, source: source)
  }

  private static func requireFile(
    _ path: String, node: Node?, keyPath: String, source: ConfigSource
  ) throws(ConfigError) {
    guard FileManager.default.fileExists(atPath: path) else {
      throw source.error(.missingFile, at: node, key: keyPath, "no such file '\(path)'")
    }
  }
}

/// Which pixels become the training and test tables (the seed's samplings) and how they
/// are kept apart.
public struct ClassicalTablesConfig: Equatable, Sendable {
  public enum Sampling: String, CaseIterable, Sendable {
    /// Px1: every valid pixel.
    case all
    /// Po1: `random_rows` random valid pixels.
    case random
    /// Po2: landslide pixels at least `min_distance` apart plus as many others.
    case balanced
    /// Po3: one centre point per landslide plus as many other points.
    case centres
  }

  public enum Split: String, CaseIterable, Sendable {
    /// The paper's protocol: train on one sampling, test on another over the same area.
    case paper
    /// Square blocks of `block_pixels` go to training or test; training rows within a
    /// block of a test block are dropped, since neighbouring pixels leak.
    case blocks
  }

  public var seed = 1
  public var train = Sampling.balanced
  public var test = Sampling.random
  /// Po1's size (the paper: 500,000).
  public var randomRows = 500_000
  /// Po2's minimum distance between landslide pixels, in pixels.
  public var minDistance = 2.0
  public var split = Split.paper
  public var blockPixels = 200
  /// Share of blocks (split: blocks), or of points (point inventories), held out for test.
  public var testShare = 0.3

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalTablesConfig {
    var tables = ClassicalTablesConfig()
    tables.seed = try section.int("seed", default: tables.seed, range: 0...Int(Int32.max))
    tables.train = try section.choice("train", default: tables.train)
    tables.test = try section.choice("test", default: tables.test)
    tables.randomRows = try section.int(
      "random_rows", default: tables.randomRows, range: 1...1_000_000_000)
    tables.minDistance = try section.double(
      "min_distance", default: tables.minDistance, range: .atLeast(0))
    tables.split = try section.choice("split", default: tables.split)
    tables.blockPixels = try section.int(
      "block_pixels", default: tables.blockPixels, range: 1...1_000_000)
    tables.testShare = try section.double(
      "test_share", default: tables.testShare, range: .openUnitInterval)
    return tables
  }
}

/// How factors become columns: categorical codes one-hot for the models that measure
/// distances or weigh columns linearly (LR, KNN, networks), as codes for trees.
public struct ClassicalEncodingConfig: Equatable, Sendable {
  public var oneHot = true
  public var treesOneHot = false

  static func read(_ section: inout MappingReader) throws(ConfigError) -> ClassicalEncodingConfig {
    var encoding = ClassicalEncodingConfig()
    encoding.oneHot = try section.bool("one_hot", default: encoding.oneHot)
    encoding.treesOneHot = try section.bool("trees_one_hot", default: encoding.treesOneHot)
    return encoding
  }
}
