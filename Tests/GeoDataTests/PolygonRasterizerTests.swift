import CGDAL
import Foundation
import TestSupport
import Testing

@testable import GeoData

/// Landslide polygons burnt onto a grid: pixels whose centre lies inside, in the grid's CRS
/// or reprojected from another.
@Suite struct PolygonRasterizerTests {
  /// 20 × 20 pixels of 10 m in UTM 54N from (500000, 4700000).
  static func grid() throws -> RasterGrid {
    try RasterGrid(
      width: 20, height: 20,
      geoTransform: GeoTransform(
        originX: 500_000, pixelWidth: 10, originY: 4_700_000, pixelHeight: -10),
      epsg: 32654)
  }

  /// Two squares: x 500050–500100, y 4699900–4699950 (columns and rows 5–9) and a 10 m one
  /// holding exactly the centre of column 15, row 2.
  static let squares: [[(Double, Double)]] = [
    [(500_050, 4_699_900), (500_100, 4_699_900), (500_100, 4_699_950), (500_050, 4_699_950)],
    [(500_152, 4_699_972), (500_158, 4_699_972), (500_158, 4_699_978), (500_152, 4_699_978)],
  ]

  static func geoJSON(_ polygons: [[(Double, Double)]], epsg: Int) -> String {
    let features = polygons.map { ring in
      let points = (ring + [ring[0]]).map { "[\($0.0), \($0.1)]" }.joined(separator: ", ")
      return """
        {"type": "Feature", "properties": {"period": 1}, "geometry": {"type": "Polygon", \
        "coordinates": [[\(points)]]}}
        """
    }
    return """
      {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": \
      "EPSG:\(epsg)"}}, "features": [\(features.joined(separator: ", "))]}
      """
  }

  static var expected: [Float] {
    var values = [Float](repeating: 0, count: 400)
    for row in 5...9 { for column in 5...9 { values[row * 20 + column] = 1 } }
    values[2 * 20 + 15] = 1
    return values
  }

  @Test func polygonsInTheGridsCRSBurnTheirPixels() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("landslides.geojson").path
    try Self.geoJSON(Self.squares, epsg: 32654).write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(try PolygonRasterizer.rasterize(path: path, onto: Self.grid()) == Self.expected)
  }

  /// Burning a window (rows 2–8, columns 4–16, off both edges of the squares) gives the
  /// window's part of the whole grid's pixels.
  @Test func aWindowBurnsItsPartOfTheGrid() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("landslides.geojson").path
    try Self.geoJSON(Self.squares, epsg: 32654).write(
      toFile: path, atomically: true, encoding: .utf8)
    let window = RasterWindow(x: 4, y: 2, width: 13, height: 7)
    let expected = (2..<9).flatMap { row in (4..<17).map { Self.expected[row * 20 + $0] } }
    #expect(
      try PolygonRasterizer.rasterize(path: path, onto: Self.grid(), window: window) == expected)
  }

  /// The same polygons in geographic coordinates (EPSG:4326, longitude first as GeoJSON
  /// orders them) land on the same pixels.
  @Test func polygonsInAnotherCRSAreReprojected() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let utm = OSRNewSpatialReference(nil)
    let geographic = OSRNewSpatialReference(nil)
    defer {
      OSRDestroySpatialReference(utm)
      OSRDestroySpatialReference(geographic)
    }
    OSRImportFromEPSG(utm, 32654)
    OSRImportFromEPSG(geographic, 4326)
    OSRSetAxisMappingStrategy(geographic, OAMS_TRADITIONAL_GIS_ORDER)
    let transform = OCTNewCoordinateTransformation(utm, geographic)
    defer { OCTDestroyCoordinateTransformation(transform) }
    let degrees = Self.squares.map { ring in
      ring.map { point -> (Double, Double) in
        var (x, y, z) = (point.0, point.1, 0.0)
        OCTTransform(transform, 1, &x, &y, &z)
        return (x, y)
      }
    }
    let path = directory.appendingPathComponent("landslides.geojson").path
    try Self.geoJSON(degrees, epsg: 4326).write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try PolygonRasterizer.rasterize(path: path, onto: Self.grid()) == Self.expected)
  }

  @Test func aMissingLayerOrFileIsNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("landslides.geojson").path
    try Self.geoJSON(Self.squares, epsg: 32654).write(
      toFile: path, atomically: true, encoding: .utf8)
    let layer = #expect(throws: RasterError.self) {
      try PolygonRasterizer.rasterize(path: path, layer: "slides", onto: Self.grid())
    }
    #expect(layer?.path == path && layer?.message.contains("no layer 'slides'") == true)
    let missing = directory.appendingPathComponent("none.gpkg").path
    let error = #expect(throws: RasterError.self) {
      try PolygonRasterizer.rasterize(path: missing, onto: Self.grid())
    }
    #expect(error?.path == missing)
  }
}
