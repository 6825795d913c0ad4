import Testing

@testable import GeoData

@Suite struct PointTransformTests {
  /// WKT of an EPSG code, as a raster or an event set carries its CRS.
  static func wkt(_ epsg: Int) throws -> String {
    let origin = GeoTransform(originX: 0, pixelWidth: 1, originY: 0, pixelHeight: -1)
    return try RasterGrid(width: 1, height: 1, geoTransform: origin, epsg: epsg).crsWKT
  }

  /// UTM zone 33N to longitude and latitude, against `gdaltransform -s_srs EPSG:32633
  /// -t_srs EPSG:4326` (GDAL 3.6, PROJ 9): the zone's central meridian and a point 2.7° west
  /// of it.
  @Test func utmToGeographicMatchesGDALTransform() throws {
    let points = try PointTransform.transform(
      [(500_000, 4_649_776.22482), (293_229.60026102, 5_061_700.71005404)],
      fromWKT: Self.wkt(32633), toEPSG: 4326, source: "sites")
    #expect(abs(points[0].x - 15) < 1e-9)
    #expect(abs(points[0].y - 42.0000000000074) < 1e-9)
    #expect(abs(points[1].x - 12.345) < 1e-8)
    #expect(abs(points[1].y - 45.678) < 1e-8)
  }

  /// Longitude stays first on both sides, whatever EPSG:4326's official axis order.
  @Test func geographicToUTMTakesLongitudeFirst() throws {
    let points = try PointTransform.transform(
      [(12.345, 45.678)], fromWKT: Self.wkt(4326), toEPSG: 32633, source: "sites")
    #expect(abs(points[0].x - 293_229.60026102) < 1e-4)
    #expect(abs(points[0].y - 5_061_700.71005404) < 1e-4)
  }

  @Test func theSameCRSLeavesPointsUnchanged() throws {
    let points = try PointTransform.transform(
      [(12.345, 45.678)], fromWKT: Self.wkt(4326), toEPSG: 4326, source: "sites")
    #expect(points[0].x == 12.345 && points[0].y == 45.678)
  }

  @Test func pointsWithoutCRSAreAnErrorNamingTheirSource() {
    let error = #expect(throws: RasterError.self) {
      try PointTransform.transform([(1, 2)], fromWKT: "", toEPSG: 4326, source: "events.json")
    }
    #expect(error?.path == "events.json")
  }
}
