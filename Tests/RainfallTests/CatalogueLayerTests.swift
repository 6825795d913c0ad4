import CGDAL
import Configuration
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// A vector file written through OGR for a test: one layer of features given as WKT with
/// text, date or date-time attributes (nil: NULL).
enum OGRFile {
  static func write(
    _ path: String, driver: String = "GPKG", layer: String = "landslides", epsg: Int? = 4326,
    fields: [(name: String, type: OGRFieldType)], features: [(wkt: String?, values: [String?])]
  ) throws {
    let reference = epsg.map { code -> OGRSpatialReferenceH? in
      let reference = OSRNewSpatialReference(nil)
      OSRImportFromEPSG(reference, Int32(code))
      return reference
    }
    defer { if let reference { OSRDestroySpatialReference(reference) } }
    GDALAllRegister()
    let dataset = try #require(
      GDALCreate(GDALGetDriverByName(driver), path, 0, 0, 0, GDT_Unknown, nil))
    defer { GDALClose(dataset) }
    let handle = try #require(
      GDALDatasetCreateLayer(dataset, layer, reference ?? nil, wkbUnknown, nil))
    for field in fields {
      let definition = OGR_Fld_Create(field.name, field.type)
      defer { OGR_Fld_Destroy(definition) }
      try #require(OGR_L_CreateField(handle, definition, 1) == OGRERR_NONE)
    }
    for (wkt, values) in features {
      let feature = OGR_F_Create(OGR_L_GetLayerDefn(handle))
      defer { OGR_F_Destroy(feature) }
      for (index, value) in values.enumerated() {
        if let value {
          OGR_F_SetFieldString(feature, Int32(index), value)
        } else {
          OGR_F_SetFieldNull(feature, Int32(index))
        }
      }
      if let wkt {
        let text = strdup(wkt)
        defer { free(text) }
        var cursor = text
        var geometry: OGRGeometryH? = nil
        try #require(OGR_G_CreateFromWkt(&cursor, nil, &geometry) == OGRERR_NONE)
        OGR_F_SetGeometryDirectly(feature, geometry)
      }
      try #require(OGR_L_CreateFeature(handle, feature) == OGRERR_NONE)
    }
  }
}

/// Catalogues kept as GIS points: GeoPackage and shapefile layers read through OGR, with
/// their attributes by role, their own dates, and features that are no points named.
@Suite struct CatalogueLayerTests {
  static let columns = CatalogueColumns(
    id: "code", date: "day", x: "", y: "", trigger: "trigger", region: "zone")

  static let fields: [(name: String, type: OGRFieldType)] = [
    ("code", OFTString), ("day", OFTDate), ("trigger", OFTString), ("zone", OFTString),
  ]

  @Test func pointsAndAttributesOfAGeoPackage() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("inventory.gpkg").path
    try OGRFile.write(
      path, fields: Self.fields,
      features: [
        ("POINT (10.03 44.97)", ["a", "2019/06/20", "Rain", "North"]),
        ("POINT (10.12 44.91)", ["b", "2019-06-21", "rain", nil]),
        (nil, ["c", "2019/06/22", "rain", "North"]),
        ("LINESTRING (10 45,10.1 45)", ["d", "2019/06/22", "rain", "North"]),
        ("POINT EMPTY", ["e", "2019/06/22", "rain", "North"]),
        ("POINT (10.05 44.95)", ["f", nil, "rain", "North"]),
        ("POINT (10.05 44.95)", ["g", "2019/06/23", "earthquake", "North"]),
        ("POINT (10.05 44.95)", ["", "2019/06/23", "rain", "North"]),
      ])
    let catalogue = try LandslideCatalogue.read(
      layer: path, columns: Self.columns, dateFormat: try DateFormat("%Y-%m-%d"),
      filter: CatalogueFilter(triggers: ["rain"]))
    #expect(
      catalogue.entries == [
        CatalogueEntry(
          id: "a", day: Day(year: 2019, month: 6, day: 20)!, x: 10.03, y: 44.97, region: "North"),
        CatalogueEntry(id: "b", day: Day(year: 2019, month: 6, day: 21)!, x: 10.12, y: 44.91),
      ])
    // GeoPackage feature ids count from 1.
    #expect(
      catalogue.skipped.map(\.description) == [
        "feature 3: no point: the geometry is missing or empty",
        "feature 4: a linestring, not a point",
        "feature 5: no point: the geometry is missing or empty",
        "feature 6: day is empty",
        "feature 8: code is empty",
      ])
    #expect(catalogue.filteredOut == 1)
    #expect(catalogue.rowCount == 8)
    #expect(try #require(catalogue.crs).contains("WGS 84"))
  }

  /// A shapefile's dates as text in the config's format, date-time fields as their day,
  /// feature ids (0-based in shapefiles) as ids, and the box and date filters.
  @Test func shapefileTextDatesAndFeatureIds() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("slides.shp").path
    try OGRFile.write(
      path, driver: "ESRI Shapefile", layer: "slides", epsg: nil,
      fields: [("when", OFTString)],
      features: [
        ("POINT (500100 4649800)", ["1/6/2019"]), ("POINT (500200 4649900)", ["31/6/2019"]),
        ("POINT (900000 4649900)", ["2/6/2019"]), ("POINT (500300 4650000)", ["30/06/2019"]),
      ])
    let columns = CatalogueColumns(date: "when", x: "", y: "")
    let catalogue = try LandslideCatalogue.read(
      layer: path, columns: columns, dateFormat: try DateFormat("%d/%m/%Y"),
      filter: CatalogueFilter(
        boundingBox: .init(minX: 500_000, minY: 4_600_000, maxX: 600_000, maxY: 4_700_000),
        last: Day(year: 2019, month: 6, day: 29)))
    #expect(catalogue.entries.map(\.id) == ["0"])
    #expect(catalogue.entries[0].x == 500_100 && catalogue.entries[0].y == 4_649_800)
    #expect(
      catalogue.skipped.map(\.description) == [
        "feature 1: when '31/6/2019' is not a date in the format %d/%m/%Y"
      ])
    #expect(catalogue.filteredOut == 2)
    #expect(catalogue.crs == nil)

    let stamped = directory.appendingPathComponent("stamped.gpkg").path
    try OGRFile.write(
      stamped, fields: [("at", OFTDateTime)],
      features: [("POINT (10 45)", ["2019/06/01 23:30:00"])])
    let day = try LandslideCatalogue.read(
      layer: stamped, columns: CatalogueColumns(date: "at", x: "", y: ""),
      dateFormat: .nasaGLC
    ).entries.map(\.day)
    #expect(day == [Day(year: 2019, month: 6, day: 1)!])
  }

  @Test func unknownLayersAndAttributesAreNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("inventory.gpkg").path
    try OGRFile.write(
      path, fields: Self.fields, features: [("POINT (10 45)", ["a", "2019/06/20", "rain", "N"])])
    let layer = #expect(throws: RainfallError.self) {
      try LandslideCatalogue.read(
        layer: path, name: "slides", columns: Self.columns, dateFormat: .nasaGLC)
    }
    #expect(layer?.subject == path)
    #expect(layer?.message == "no layer 'slides'; the file has landslides")
    var columns = Self.columns
    columns.date = "event_date"
    let attribute = #expect(throws: RainfallError.self) {
      try LandslideCatalogue.read(layer: path, columns: columns, dateFormat: .nasaGLC)
    }
    #expect(attribute?.subject == path)
    #expect(
      attribute?.message
        == "layer landslides has no attribute 'event_date' (columns.date); it has code, day, "
        + "trigger, zone")
  }

  /// Points in UTM 33N, from a CSV with `catalogue.crs` and from a layer with its own
  /// CRS, land on the geographic rain grid where `gdaltransform` puts them (the values of
  /// PointTransformTests); a CRS GDAL cannot read names the key.
  @Test func anotherCRSIsCarriedOntoTheRainGrid() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let grid = try RasterGrid(
      width: 40, height: 40,
      geoTransform: GeoTransform(originX: 12, pixelWidth: 0.1, originY: 46, pixelHeight: -0.1),
      epsg: 4326)
    let rain = root.appendingPathComponent("rain")
    try FileManager.default.createDirectory(at: rain, withIntermediateDirectories: true)
    try writeGeoTIFF(
      path: rain.appendingPathComponent("rain_20190601.tif").path, grid: grid,
      bands: [RasterBand(description: "", values: [Float](repeating: 1, count: 1600))])
    let csv = root.appendingPathComponent("catalogue.csv")
    try
      "id,date,e,n\na,2019-06-01,500000,4649776.22482\nb,2019-06-01,293229.60026102,5061700.71005404\n"
      .write(to: csv, atomically: true, encoding: .utf8)
    let layer = root.appendingPathComponent("catalogue.gpkg").path
    try OGRFile.write(
      layer, epsg: 32633, fields: [("id", OFTString), ("date", OFTDate)],
      features: [
        ("POINT (500000 4649776.22482)", ["a", "2019/06/01"]),
        ("POINT (293229.60026102 5061700.71005404)", ["b", "2019/06/01"]),
      ])
    func study(_ catalogue: String, crs: String?) throws -> RainfallStudy {
      let config = try RainfallConfig.parse(
        """
        inputs:
          files:
            catalogue:
              path: \(catalogue)
              columns: {id: id, date: date, x: e, y: n}
              date_format: "%Y-%m-%d"
        \(crs.map { "      crs: \"\($0)\"" } ?? "")
            rain: \(rain.path)
            regions: {column: id}
        """, file: root.appendingPathComponent("study.yaml").path)
      guard case .files(let files) = config.inputs else { throw RainfallError("test", "files") }
      return try RainfallStudy(files: files)
    }
    for study in [try study(csv.path, crs: "EPSG:32633"), try study(layer, crs: nil)] {
      let entries = study.catalogue.entries
      #expect(entries.map(\.id) == ["a", "b"])
      #expect(abs(entries[0].x - 15) < 1e-9 && abs(entries[0].y - 42.0000000000074) < 1e-9)
      #expect(abs(entries[1].x - 12.345) < 1e-8 && abs(entries[1].y - 45.678) < 1e-8)
      #expect(study.catalogue.crs == nil)
    }
    let error = #expect(throws: RainfallError.self) {
      try study(csv.path, crs: "EPSG:99999999")
    }
    #expect(error?.subject == csv.path)
    #expect(
      error?.message.hasPrefix("catalogue.crs: GDAL cannot read the CRS EPSG:99999999") == true)
  }
}
