/// Co-registered rasters opened together (a predictor stack): every file must share the
/// first one's CRS, extent and resolution, and each may be required to hold a given
/// number of bands. A mismatch names the file and what differs.
public struct RasterStack {
  public let rasters: [RasterDataset]
  public var grid: RasterGrid { rasters[0].grid }

  /// Geotransform coefficients may differ by this fraction of a pixel (rounding in
  /// headers written by different tools).
  static let tolerance = 1e-6

  /// - Parameter bandCounts: the number of bands each file must have, by path; files not
  ///   listed may have any number.
  public init(paths: [String], bandCounts: [String: Int] = [:]) throws(RasterError) {
    guard let first = paths.first else {
      throw RasterError(path: "(stack)", message: "no rasters given")
    }
    var rasters: [RasterDataset] = []
    for path in paths {
      let raster = try RasterDataset(path: path)
      if let expected = bandCounts[path], raster.bandCount != expected {
        throw RasterError(
          path: path,
          message: "expected \(expected) band\(expected == 1 ? "" : "s"), found \(raster.bandCount)"
        )
      }
      if let reference = rasters.first {
        try RasterStack.check(raster, against: reference, firstPath: first)
      }
      rasters.append(raster)
    }
    self.rasters = rasters
  }

  private static func check(
    _ raster: RasterDataset, against reference: RasterDataset, firstPath: String
  )
    throws(RasterError)
  {
    let (grid, expected) = (raster.grid, reference.grid)
    if !sameCRS(grid.crsWKT, expected.crsWKT) {
      throw RasterError(
        path: raster.path,
        message: "CRS \(describe(grid)) differs from \(describe(expected)) of \(firstPath)")
    }
    let (t, e) = (grid.geoTransform, expected.geoTransform)
    let pixel = max(abs(e.pixelWidth), abs(e.pixelHeight))
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= tolerance * pixel }
    if !close(t.pixelWidth, e.pixelWidth) || !close(t.pixelHeight, e.pixelHeight) {
      throw RasterError(
        path: raster.path,
        message: "resolution \(abs(t.pixelWidth)) × \(abs(t.pixelHeight)) differs from "
          + "\(abs(e.pixelWidth)) × \(abs(e.pixelHeight)) of \(firstPath)")
    }
    if !close(t.originX, e.originX) || !close(t.originY, e.originY) || grid.width != expected.width
      || grid.height != expected.height
    {
      throw RasterError(
        path: raster.path,
        message:
          "extent (origin \(t.originX), \(t.originY); \(grid.width) × \(grid.height) pixels) "
          + "differs from (origin \(e.originX), \(e.originY); \(expected.width) × \(expected.height)) of \(firstPath)"
      )
    }
  }

  private static func describe(_ grid: RasterGrid) -> String {
    if let epsg = grid.epsg { return "EPSG:\(epsg)" }
    return grid.crsWKT.isEmpty ? "(none)" : String(grid.crsWKT.prefix(60)) + "…"
  }

  /// Whether two WKT strings denote the same CRS (GDAL's comparison, not text equality).
  private static func sameCRS(_ a: String, _ b: String) -> Bool {
    if a.isEmpty || b.isEmpty { return a.isEmpty && b.isEmpty }
    return RasterGrid.isSameCRS(a, b)
  }
}
