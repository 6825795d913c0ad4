import CGDAL
import Foundation

/// A raster resampled onto another grid by GDAL's warper (`gdalwarp` as a library): any
/// CRS, resolution and extent in; the target grid's CRS, origin, pixel size and size out,
/// nodata (−9999) where the source has no data. Written as a tiled GeoTIFF, atomically.
/// Every pixel centre is transformed exactly (`-et 0`): gdalwarp's default linear
/// approximation moves pixels by up to 1/8 of a source pixel, a quarter metre of elevation
/// on a steep 90 m DEM.
public enum RasterWarp {
  public enum Resampling: String, Sendable {
    /// Continuous quantities.
    case bilinear
    /// Class codes and 0/1 inventories, which must not be blended.
    case nearest = "near"
    /// Shares and densities onto coarser cells: the mean of the source pixels each covers.
    case average
  }

  public static func warp(
    _ path: String, onto grid: RasterGrid, resampling: Resampling, to output: String
  ) throws(RasterError) {
    _ = gdalSetUp
    CPLErrorReset()
    guard let source = GDALOpen(path, GA_ReadOnly) else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot open as a raster"))
    }
    defer { GDALClose(source) }
    let t = grid.geoTransform
    guard t.rowRotation == 0, t.columnRotation == 0 else {
      throw RasterError(path: path, message: "cannot warp onto a rotated grid")
    }
    let (xMax, yMin) = (
      t.originX + Double(grid.width) * t.pixelWidth, t.originY + Double(grid.height) * t.pixelHeight
    )
    let arguments = [
      "-t_srs", grid.crsWKT, "-te", "\(t.originX)", "\(min(yMin, t.originY))", "\(xMax)",
      "\(max(yMin, t.originY))", "-ts", "\(grid.width)", "\(grid.height)", "-r",
      resampling.rawValue, "-et", "0", "-dstnodata", "-9999", "-ot", "Float32", "-of", "GTiff",
      "-co",
      "TILED=YES", "-co", "COMPRESS=DEFLATE", "-overwrite",
    ]
    let temporary = output + ".tmp-\(getpid())"
    var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    for argument in arguments { list = CSLAddString(list, argument) }
    defer { CSLDestroy(list) }
    guard let options = GDALWarpAppOptionsNew(list, nil) else {
      throw RasterError(path: path, message: GDAL.lastError(or: "invalid warp options"))
    }
    defer { GDALWarpAppOptionsFree(options) }
    var sources: [GDALDatasetH?] = [source]
    var usageError: Int32 = 0
    guard let warped = GDALWarp(temporary, nil, 1, &sources, options, &usageError) else {
      unlink(temporary)
      throw RasterError(
        path: path, message: GDAL.lastError(or: "warping onto the target grid failed"))
    }
    GDALClose(warped)
    let descriptor = open(temporary, O_RDONLY)
    let synced = descriptor >= 0 && fsync(descriptor) == 0
    if descriptor >= 0 { close(descriptor) }
    guard synced, rename(temporary, output) == 0 else {
      unlink(temporary)
      throw RasterError(path: output, message: "cannot rename the warped file into place")
    }
  }
}
