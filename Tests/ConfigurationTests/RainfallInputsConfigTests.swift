import Configuration
import Foundation
import TestSupport
import Testing

/// The rainfall inputs' keys for vector catalogues, their CRS, region polygons and
/// per-site series.
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

  /// A CSV catalogue with `columns` and the inputs `rest`, files made in `directory`.
  static func parseSeries(_ directory: URL, columns: String, _ rest: String) throws
    -> RainfallConfig
  {
    for name in ["catalogue.csv", "rain.csv", "moisture.csv", "statics.csv", "rain"] {
      _ = FileManager.default.createFile(
        atPath: directory.appendingPathComponent(name).path, contents: Data())
    }
    return try RainfallConfig.parse(
      """
      inputs:
        files:
          catalogue: {path: catalogue.csv, columns: {\(columns)}}
      \(rest)
          regions: {column: region}
      """, file: directory.appendingPathComponent("rainfall.yaml").path)
  }

  @Test func perSiteSeriesAndStaticsAreRead() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = try Self.parseSeries(
      directory, columns: "site: gauge",
      """
          rain:
            csv: rain.csv
            series_columns: {site: station, date: day, value: rain_mm}
            series_date_format: "%d/%m/%Y"
          soil_moisture: {csv: moisture.csv}
          statics: {csv: statics.csv, site_column: station}
      """)
    guard case .files(let files) = config.inputs else {
      Issue.record("not files")
      return
    }
    var rain = RainfallFilesConfig.SeriesCSV(path: directory.path + "/rain.csv")
    (rain.site, rain.date, rain.value, rain.dateFormat) = ("station", "day", "rain_mm", "%d/%m/%Y")
    #expect(files.rain == .series(rain))
    #expect(
      files.soilMoisture == .series(.init(path: directory.path + "/moisture.csv")))
    #expect(files.statics == .table(path: directory.path + "/statics.csv", site: "station"))
    #expect(files.columns["site"] == "gauge" && files.columns["region"] == "region")

    // Rasters stay a path; soil moisture may be rasters under per-site rain.
    let rasters = try Self.parseSeries(
      directory, columns: "site: gauge",
      "    rain: {csv: rain.csv}\n    soil_moisture: rain\n    statics: rain")
    guard case .files(let mixed) = rasters.inputs else { return }
    #expect(mixed.soilMoisture == .rasters(directory.path + "/rain"))
    #expect(mixed.statics == .rasters(directory.path + "/rain"))
  }

  @Test func perSiteSeriesRefuseWhatCannotWork() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    func refusal(_ columns: String, _ rest: String) -> ConfigError? {
      #expect(throws: ConfigError.self) {
        try Self.parseSeries(directory, columns: columns, rest)
      }
    }
    let site = refusal("id: id", "    rain: {csv: rain.csv}")
    #expect(site?.kind == .missingKey && site?.key == "inputs.files.catalogue.columns.site")
    let role = refusal(
      "site: gauge", "    rain: {csv: rain.csv, series_columns: {station: code}}")
    #expect(role?.kind == .unknownKey && role?.key == "inputs.files.rain.series_columns.station")
    let file = refusal("site: gauge", "    rain: {csv: gauges.csv}")
    #expect(file?.kind == .missingFile && file?.key == "inputs.files.rain.csv")
    let noCSV = refusal("site: gauge", "    rain: {path: rain.csv}")
    #expect(noCSV?.kind == .missingKey && noCSV?.key == "inputs.files.rain.csv")
    let moisture = refusal("site: gauge", "    rain: rain\n    soil_moisture: {csv: moisture.csv}")
    #expect(moisture?.kind == .conflictingKeys && moisture?.key == "inputs.files.soil_moisture")
    let statics = refusal("site: gauge", "    rain: rain\n    statics: {csv: statics.csv}")
    #expect(statics?.kind == .conflictingKeys && statics?.key == "inputs.files.statics")
  }
}
