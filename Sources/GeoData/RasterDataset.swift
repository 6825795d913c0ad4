import CGDAL

/// One band's pixels over a window, as Float32, with the band's validity mask.
/// Invalid (nodata) cells hold NaN so that they cannot pass silently as numbers.
public struct BandWindow: Sendable {
  public let window: RasterWindow
  /// Row-major, `window.width × window.height`.
  public let values: [Float]
  /// True where the pixel holds data, from GDAL's mask band (nodata, alpha or mask file).
  public let valid: [Bool]

  public subscript(column: Int, row: Int) -> Float { values[row * window.width + column] }
}

/// A raster opened read-only through GDAL (GeoTIFF and anything else GDAL reads).
public final class RasterDataset {
  public let path: String
  public let grid: RasterGrid
  public let bandCount: Int
  private let handle: GDALDatasetH

  public init(path: String) throws(RasterError) {
    _ = gdalSetUp
    CPLErrorReset()
    guard let handle = GDALOpen(path, GA_ReadOnly) else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot open as a raster"))
    }
    self.handle = handle
    self.path = path
    self.bandCount = Int(GDALGetRasterCount(handle))
    var coefficients = [Double](repeating: 0, count: 6)
    if GDALGetGeoTransform(handle, &coefficients) != CE_None {
      coefficients = [0, 1, 0, 0, 0, 1]  // GDAL's default: pixel coordinates
    }
    self.grid = RasterGrid(
      width: Int(GDALGetRasterXSize(handle)), height: Int(GDALGetRasterYSize(handle)),
      geoTransform: GeoTransform(coefficients: coefficients),
      crsWKT: String(cString: GDALGetProjectionRef(handle)))
  }

  deinit { GDALClose(handle) }

  /// The band's description (GDAL's band description; empty when unset). `band` is 0-based.
  public func description(band: Int) throws(RasterError) -> String {
    String(cString: GDALGetDescription(try bandHandle(band)))
  }

  /// A metadata item of the dataset (`band` nil) or of a 0-based band, e.g. the netCDF
  /// driver's `NETCDF_DIM_time`; nil when unset.
  public func metadata(_ key: String, band: Int? = nil) throws(RasterError) -> String? {
    let object: GDALMajorObjectH? =
      if let band { UnsafeMutableRawPointer(try bandHandle(band)) } else {
        UnsafeMutableRawPointer(handle)
      }
    return GDALGetMetadataItem(object, key, nil).map { String(cString: $0) }
  }

  /// The band's nodata value, or nil when it declares none. `band` is 0-based.
  public func noDataValue(band: Int) throws(RasterError) -> Double? {
    var hasNoData: Int32 = 0
    let value = GDALGetRasterNoDataValue(try bandHandle(band), &hasNoData)
    return hasNoData != 0 ? value : nil
  }

  /// Reads `window` (the whole raster when nil) of a 0-based band as Float32.
  public func read(band: Int, window: RasterWindow? = nil) throws(RasterError) -> BandWindow {
    let band = try bandHandle(band)
    let window = window ?? RasterWindow(x: 0, y: 0, width: grid.width, height: grid.height)
    guard window.x >= 0, window.y >= 0, window.width > 0, window.height > 0,
      window.x + window.width <= grid.width, window.y + window.height <= grid.height
    else {
      throw RasterError(
        path: path,
        message: "window x=\(window.x) y=\(window.y) \(window.width)×\(window.height) "
          + "is outside the raster's \(grid.width)×\(grid.height) pixels")
    }
    let count = window.width * window.height
    var values = [Float](repeating: 0, count: count)
    var mask = [UInt8](repeating: 0, count: count)
    let valuesRead = values.withUnsafeMutableBytes {
      GDALRasterIO(
        band, GF_Read, Int32(window.x), Int32(window.y), Int32(window.width),
        Int32(window.height), $0.baseAddress, Int32(window.width), Int32(window.height),
        GDT_Float32, 0, 0)
    }
    let maskRead = mask.withUnsafeMutableBytes {
      GDALRasterIO(
        GDALGetMaskBand(band), GF_Read, Int32(window.x), Int32(window.y),
        Int32(window.width), Int32(window.height), $0.baseAddress, Int32(window.width),
        Int32(window.height), GDT_Byte, 0, 0)
    }
    guard valuesRead == CE_None, maskRead == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "read failed"))
    }
    let valid = mask.map { $0 != 0 }
    for index in 0..<count where !valid[index] { values[index] = .nan }
    return BandWindow(window: window, values: values, valid: valid)
  }

  private func bandHandle(_ band: Int) throws(RasterError) -> GDALRasterBandH {
    guard (0..<bandCount).contains(band), let handle = GDALGetRasterBand(handle, Int32(band + 1))
    else {
      throw RasterError(
        path: path, message: "band index \(band) is out of range; the raster has \(bandCount) bands"
      )
    }
    return handle
  }
}
