import Configuration
import Foundation
import TestSupport
import Testing

/// The rainfall inputs' keys for vector catalogues, their CRS and region polygons.
@Suite struct RainfallInputsConfigTests {
  /// A config in `directory` whose catalogue and regions files exist there.
  static func parse(_ directory: URL, catalogue: String, regions: String) throws
    -> RainfallConfig
  {
    for name in ["inventory.gpkg", "regions.gpkg", "rain"] {
      _ = FileManager.default.createFile(
        atPath: directory.appendingPathComponent(name).path, contents: Data())
    }
    return try RainfallConfig.parse(
      """
      inputs:
        files:
          catalogue:
            path: inventory.gpkg
            columns: {id: code, date: day}
      \(catalogue)
          rain: rain
          regions: \(regions)
      """, file: directory.appendingPathComponent("rainfall.yaml").path)
  }

  @Test func layersCRSAndRegionPolygonsAreRead() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = try Self.parse(
      directory, catalogue: "      layer: landslides\n      crs: EPSG:32632",
      regions: "{vector: regions.gpkg, field: name, layer: zones}")
    guard case .files(let files) = config.inputs else {
      Issue.record("not files")
      return
    }
    #expect(files.catalogue == directory.path + "/inventory.gpkg")
    #expect(files.catalogueLayer == "landslides" && files.catalogueCRS == "EPSG:32632")
    #expect(files.columns["id"] == "code" && files.columns["date"] == "day")
    #expect(
      files.regions
        == .vector(path: directory.path + "/regions.gpkg", layer: "zones", field: "name"))

    let plain = try Self.parse(
      directory, catalogue: "", regions: "{vector: regions.gpkg, field: name}")
    guard case .files(let defaults) = plain.inputs else { return }
    #expect(defaults.catalogueLayer == nil && defaults.catalogueCRS == nil)
    #expect(
      defaults.regions == .vector(path: directory.path + "/regions.gpkg", layer: nil, field: "name")
    )
  }

  @Test func regionPolygonsNeedAFieldAndAFile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let field = #expect(throws: ConfigError.self) {
      try Self.parse(directory, catalogue: "", regions: "{vector: regions.gpkg}")
    }
    #expect(field?.kind == .missingKey && field?.key == "inputs.files.regions.field")
    let file = #expect(throws: ConfigError.self) {
      try Self.parse(directory, catalogue: "", regions: "{vector: zones.gpkg, field: name}")
    }
    #expect(file?.kind == .missingFile && file?.key == "inputs.files.regions.vector")
    let unknown = #expect(throws: ConfigError.self) {
      try Self.parse(directory, catalogue: "", regions: "{vector: regions.gpkg, field: n, fld: m}")
    }
    #expect(unknown?.kind == .unknownKey)
  }
}
