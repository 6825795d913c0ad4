import CGDAL

/// GDAL's affine geotransform: map x = originX + column·pixelWidth + row·rowRotation,
/// map y = originY + column·columnRotation + row·pixelHeight (negative for north-up).
public struct GeoTransform: Equatable, Sendable {
  public var originX: Double
  public var pixelWidth: Double
  public var rowRotation: Double
  public var originY: Double
  public var columnRotation: Double
  public var pixelHeight: Double

  public init(
    originX: Double, pixelWidth: Double, rowRotation: Double = 0,
    originY: Double, columnRotation: Double = 0, pixelHeight: Double
  ) {
    self.originX = originX
    self.pixelWidth = pixelWidth
    self.rowRotation = rowRotation
    self.originY = originY
    self.columnRotation = columnRotation
    self.pixelHeight = pixelHeight
  }

  init(coefficients c: [Double]) {
    self.init(
      originX: c[0], pixelWidth: c[1], rowRotation: c[2],
      originY: c[3], columnRotation: c[4], pixelHeight: c[5])
  }

  var coefficients: [Double] {
    [originX, pixelWidth, rowRotation, originY, columnRotation, pixelHeight]
  }
}

/// Where a raster's pixels lie on the Earth: size, geotransform and coordinate reference
/// system. Rasters of one stack must share it.
public struct RasterGrid: Equatable, Sendable {
  public var width: Int
  public var height: Int
  public var geoTransform: GeoTransform
  /// The CRS as OGC WKT; empty when the raster has none.
  public var crsWKT: String

  public init(width: Int, height: Int, geoTransform: GeoTransform, crsWKT: String) {
    self.width = width
    self.height = height
    self.geoTransform = geoTransform
    self.crsWKT = crsWKT
  }

  /// A grid in the CRS of an EPSG code, e.g. 32645 for WGS 84 / UTM zone 45N.
  public init(width: Int, height: Int, geoTransform: GeoTransform, epsg: Int) throws(RasterError) {
    self.init(
      width: width, height: height, geoTransform: geoTransform, crsWKT: try Self.wkt(epsg: epsg))
  }

  /// The OGC WKT of an EPSG code's CRS.
  public static func wkt(epsg: Int) throws(RasterError) -> String {
    _ = gdalSetUp
    let reference = OSRNewSpatialReference(nil)
    defer { OSRDestroySpatialReference(reference) }
    guard OSRImportFromEPSG(reference, Int32(epsg)) == OGRERR_NONE else {
      throw RasterError(path: "EPSG:\(epsg)", message: "unknown EPSG code")
    }
    var wkt: UnsafeMutablePointer<CChar>? = nil
    OSRExportToWkt(reference, &wkt)
    defer { VSIFree(wkt) }
    return String(cString: wkt!)
  }

  /// Whether two WKT definitions denote the same CRS.
  static func isSameCRS(_ a: String, _ b: String) -> Bool {
    _ = gdalSetUp
    let first = OSRNewSpatialReference(a)
    let second = OSRNewSpatialReference(b)
    defer {
      OSRDestroySpatialReference(first)
      OSRDestroySpatialReference(second)
    }
    return OSRIsSame(first, second) != 0
  }

  /// The centre of pixel `index` (row-major) in the grid's CRS.
  public func centre(ofPixel index: Int) -> (x: Double, y: Double) {
    let t = geoTransform
    let (column, row) = (Double(index % width) + 0.5, Double(index / width) + 0.5)
    return (
      t.originX + column * t.pixelWidth + row * t.rowRotation,
      t.originY + column * t.columnRotation + row * t.pixelHeight
    )
  }

  /// The column and row of the pixel holding the point (x, y) of the grid's CRS; nil off
  /// the grid or on a rotated one.
  public func pixel(x: Double, y: Double) -> (column: Int, row: Int)? {
    let t = geoTransform
    guard t.rowRotation == 0, t.columnRotation == 0 else { return nil }
    let column = ((x - t.originX) / t.pixelWidth).rounded(.down)
    let row = ((y - t.originY) / t.pixelHeight).rounded(.down)
    guard column >= 0, row >= 0, column < Double(width), row < Double(height) else { return nil }
    return (Int(column), Int(row))
  }

  /// The grid of `window`'s pixels: the same CRS and pixel size, its origin at the
  /// window's top-left corner.
  public func cropped(to window: RasterWindow) -> RasterGrid {
    var t = geoTransform
    (t.originX, t.originY) = (
      t.originX + Double(window.x) * t.pixelWidth + Double(window.y) * t.rowRotation,
      t.originY + Double(window.x) * t.columnRotation + Double(window.y) * t.pixelHeight
    )
    return RasterGrid(width: window.width, height: window.height, geoTransform: t, crsWKT: crsWKT)
  }

  /// The grid as strips of whole rows, `rows` high (the last one what remains), top to
  /// bottom: how layers too large for memory are made and written.
  public func strips(of rows: Int) -> [RasterWindow] {
    stride(from: 0, to: height, by: rows).map {
      RasterWindow(x: 0, y: $0, width: width, height: min(rows, height - $0))
    }
  }

  /// Whether the CRS is geographic (degrees of latitude and longitude).
  public var isGeographic: Bool {
    guard !crsWKT.isEmpty else { return false }
    _ = gdalSetUp
    let reference = OSRNewSpatialReference(crsWKT)
    defer { OSRDestroySpatialReference(reference) }
    return OSRIsGeographic(reference) != 0
  }

  /// The EPSG code of the CRS, when GDAL can identify one.
  public var epsg: Int? {
    guard !crsWKT.isEmpty else { return nil }
    _ = gdalSetUp
    let reference = OSRNewSpatialReference(crsWKT)
    defer { OSRDestroySpatialReference(reference) }
    _ = OSRAutoIdentifyEPSG(reference)
    let authority = OSRGetAuthorityName(reference, nil).map { String(cString: $0) }
    guard authority == "EPSG", let code = OSRGetAuthorityCode(reference, nil) else { return nil }
    return Int(String(cString: code))
  }
}

/// A rectangle of pixels: column `x`, row `y` of its top-left corner, and its size.
public struct RasterWindow: Equatable, Sendable {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int

  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }
}
