import Foundation

/// Which study area a run uses: one generated from a seed, or the user's own rasters.
public enum StudyAreaConfig: Equatable, Sendable {
  case synthetic(SyntheticAreaConfig)
  case files(StudyFilesConfig)

  static func read(_ section: inout MappingReader) throws(ConfigError) -> StudyAreaConfig {
    switch try section.syntheticOrFiles(
      SyntheticAreaConfig(), SyntheticAreaConfig.read, StudyFilesConfig.read)
    {
    case .synthetic(let area): .synthetic(area)
    case .files(let files): .files(files)
    }
  }

}

/// A synthetic study area (`landslide synth`), created on first use and reused afterwards.
public struct SyntheticAreaConfig: Equatable, Sendable {
  /// Same seed, same area, byte for byte.
  public var seed: Int = 1
  public var widthKm: Int = 48
  public var heightKm: Int = 48
  /// Time periods (co-seismic, then pre/post monsoon).
  public var periods: Int = 8

  static func read(_ section: inout MappingReader) throws(ConfigError) -> SyntheticAreaConfig {
    var area = SyntheticAreaConfig()
    area.seed = try section.int("seed", default: area.seed, range: 0...Int(Int32.max))
    let size = try section.intList(
      "size_km", default: [area.widthKm, area.heightKm], count: 2...2, range: 4...4000)
    area.widthKm = size[0]
    area.heightKm = size[1]
    area.periods = try section.int("periods", default: area.periods, range: 1...256)
    return area
  }
}

/// A study area given as rasters on disk. Relative paths are resolved against the
/// directory of the config file.
public struct StudyFilesConfig: Equatable, Sendable {
  /// Directory holding one GeoTIFF per predictor, all on one grid.
  public var predictors: String
  /// GeoTIFF with one band per period: cumulative landslide area (% of each 1 km cell).
  public var inventory: String

  static func read(_ section: inout MappingReader) throws(ConfigError) -> StudyFilesConfig {
    StudyFilesConfig(
      predictors: try existingPath("predictors", in: &section, directory: true),
      inventory: try existingPath("inventory", in: &section, directory: false))
  }

  private static func existingPath(_ key: String, in section: inout MappingReader, directory: Bool)
    throws(ConfigError) -> String
  {
    let node = section.peek(key)
    guard let path = try section.string(key) else {
      throw section.error(
        .missingKey, key, at: section.node,
        "missing; expected the path of the \(directory ? "predictor directory" : "inventory GeoTIFF")"
      )
    }
    let configDirectory = (section.source.file as NSString).deletingLastPathComponent
    let resolved =
      path.hasPrefix("/") || configDirectory.isEmpty
      ? path : (configDirectory as NSString).appendingPathComponent(path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory),
      isDirectory.boolValue == directory
    else {
      throw section.error(
        .missingFile, key, at: node,
        "expected an existing \(directory ? "directory" : "file"), found no such \(directory ? "directory" : "file") '\(resolved)'"
      )
    }
    return resolved
  }
}
