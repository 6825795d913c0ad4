import GeoData

extension RasterGrid {
  /// `points` in the CRS `crs` (WKT, or what GDAL reads: "EPSG:32632") carried into this
  /// grid's CRS, x first on both sides. Errors name `source` (the file) and `key` (where
  /// the CRS came from: "catalogue.crs", "the layer's CRS").
  func carry(
    _ points: [(x: Double, y: Double)], from crs: String, source: String, key: String
  ) throws(RainfallError) -> [(x: Double, y: Double)] {
    guard !crsWKT.isEmpty else {
      throw RainfallError(
        source, "\(key) is \(crs), but the rain rasters declare no CRS to carry points into")
    }
    guard let epsg else {
      throw RainfallError(
        source,
        "\(key) is \(crs), but the rain rasters' CRS has no EPSG code to carry points into")
    }
    do {
      return try PointTransform.transform(points, fromWKT: crs, toEPSG: epsg, source: source)
    } catch {
      throw RainfallError(source, "\(key): \(error.message)")
    }
  }
}
