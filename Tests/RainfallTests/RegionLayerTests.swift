import CGDAL
import Configuration
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// Macro-regions as named polygons: a site takes the polygon holding its rain cell's
/// centre, polygons in another CRS are carried onto the rain grid, and sites outside
/// every polygon are skipped, named.
@Suite struct RegionLayerTests {
  /// A unit square with a hole from 0.25 to 0.75: hand-worked inside and outside.
  @Test func evenOddRingsMakeHoles() {
    let outer = VectorLayer.Ring(x: [0, 1, 1, 0, 0], y: [0, 0, 1, 1, 0])
    let hole = VectorLayer.Ring(x: [0.25, 0.75, 0.75, 0.25], y: [0.25, 0.25, 0.75, 0.75])
    #expect(RegionPolygons.contains([outer, hole], x: 0.1, y: 0.5))
    #expect(RegionPolygons.contains([outer, hole], x: 0.9, y: 0.9))
    #expect(!RegionPolygons.contains([outer, hole], x: 0.5, y: 0.5))
    #expect(!RegionPolygons.contains([outer, hole], x: 1.1, y: 0.5))
    #expect(!RegionPolygons.contains([outer, hole], x: 0.5, y: -0.01))
    // A triangle: the edge from (1, 0) to (0, 1) is x + y = 1.
    let triangle = VectorLayer.Ring(x: [0, 1, 0], y: [0, 0, 1])
    #expect(RegionPolygons.contains([triangle], x: 0.49, y: 0.5))
    #expect(!RegionPolygons.contains([triangle], x: 0.51, y: 0.5))
  }

  /// The rain grid: 4 × 3 cells of 0.05° from (10, 45), centres at x 10.025 … 10.175.
  static let grid = try! RasterGrid(
    width: 4, height: 3,
    geoTransform: GeoTransform(originX: 10, pixelWidth: 0.05, originY: 45, pixelHeight: -0.05),
    epsg: 4326)

  /// A box in longitude and latitude as a WKT polygon in UTM 32N, its corners carried by
  /// PointTransform (straight edges in UTM bend little over 0.2°, and the boxes' edges lie
  /// 0.025° from the nearest cell centre).
  static func utmBox(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) throws
    -> String
  {
    let corners = [(minX, minY), (maxX, minY), (maxX, maxY), (minX, maxY), (minX, minY)]
    let utm = try PointTransform.transform(
      corners.map { (x: $0.0, y: $0.1) }, fromWKT: grid.crsWKT, toEPSG: 32632, source: "test")
    let ring = utm.map { "\($0.x) \($0.y)" }.joined(separator: ",")
    return "POLYGON ((" + ring + "))"
  }

  /// The study: a 30-day rain stack, four landslides (columns 0, 1, 2, 3 of row 1) and
  /// regions West (columns 0–1, with a hole over the centre of column 1, row 1) and East
  /// (column 2), none over column 3.
  static func study(in root: URL, field: String = "nome", layer: String? = nil) throws
    -> RainfallStudy
  {
    let rain = root.appendingPathComponent("rain")
    try FileManager.default.createDirectory(at: rain, withIntermediateDirectories: true)
    let first = Day(year: 2019, month: 6, day: 1)!
    try writeGeoTIFF(
      path: rain.appendingPathComponent("stack.tif").path, grid: grid,
      bands: (0..<30).map {
        RasterBand(
          description: (first + $0).description, values: [Float](repeating: 5, count: 12))
      })
    let catalogue = root.appendingPathComponent("catalogue.csv")
    try """
    id,date,x,y
    w,2019-06-25,10.02,44.93
    hole,2019-06-25,10.07,44.93
    e,2019-06-25,10.12,44.93
    out,2019-06-25,10.17,44.93

    """.write(to: catalogue, atomically: true, encoding: .utf8)
    let regions = root.appendingPathComponent("regions.gpkg").path
    if !FileManager.default.fileExists(atPath: regions) {
      let west = try utmBox(9.9, 44.8, 10.1, 45.1)
      let hole = try utmBox(10.06, 44.91, 10.09, 44.94)
      let holed = west.dropLast(1) + ", " + hole.dropFirst("POLYGON (".count)
      try OGRFile.write(
        regions, layer: "zones", epsg: 32632, fields: [("nome", OFTString)],
        features: [(String(holed), ["West"]), (try utmBox(10.1, 44.8, 10.15, 45.1), ["East"])])
    }
    let config = try RainfallConfig.parse(
      """
      inputs:
        files:
          catalogue:
            path: \(catalogue.path)
            columns: {id: id, date: date, x: x, y: y}
            date_format: "%Y-%m-%d"
          rain: \(rain.path)
          regions: {vector: \(regions), field: \(field)\(layer.map { ", layer: \($0)" } ?? "")}
      """, file: root.appendingPathComponent("study.yaml").path)
    guard case .files(let files) = config.inputs else { throw RainfallError("test", "files") }
    return try RainfallStudy(files: files)
  }

  @Test func sitesTakeThePolygonHoldingTheirCellCentre() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = try Self.study(in: root, layer: "zones")
    guard case .polygons(let polygons) = study.regions else {
      Issue.record("regions are not polygons")
      return
    }
    #expect(polygons.names == ["West", "East"])
    var rules = EventRules()
    rules.windowDays = 7
    let (windows, sites, skipped) = try study.windows(rules: rules)
    #expect(windows.map(\.landslide) == ["w", "e"])
    #expect(windows.map(\.region) == ["West", "East"])
    #expect(sites.count == 4)
    #expect(
      skipped.map(\.landslide) == ["hole", "out"]
        && skipped.allSatisfy { $0.reason.contains("outside every region of") })
    #expect(skipped[1].reason.hasPrefix("its rain cell's centre (10.17"))
  }

  @Test func anAbsentFieldOrLayerIsNamed() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let regions = root.appendingPathComponent("regions.gpkg").path
    let field = #expect(throws: RainfallError.self) {
      try Self.study(in: root, field: "name")
    }
    #expect(field?.subject == regions)
    #expect(field?.message == "layer zones has no attribute 'name' (regions.field); it has nome")
    let layer = #expect(throws: RainfallError.self) {
      try Self.study(in: root, layer: "regioni")
    }
    #expect(layer?.subject == regions)
    #expect(layer?.message == "no layer 'regioni'; the file has zones")
  }

  @Test func regionsMustBePolygons() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("regions.gpkg").path
    try OGRFile.write(
      path, fields: [("name", OFTString)],
      features: [
        ("POLYGON ((10 44,11 44,11 45,10 44))", ["A"]), ("POINT (10 45)", ["B"]),
      ])
    let error = #expect(throws: RainfallError.self) {
      try RegionPolygons(path: path, field: "name", grid: Self.grid)
    }
    #expect(error?.message == "feature 2 is a point; regions must be polygons")
  }
}
