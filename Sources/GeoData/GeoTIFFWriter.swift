import CGDAL
import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

/// One band to write: its values (row-major over the grid) and a description that GIS
/// tools show as the band's name, e.g. "slope (degrees)".
public struct RasterBand: Sendable {
  public var description: String
  public var values: [Float]

  public init(description: String, values: [Float]) {
    self.description = description
    self.values = values
  }
}

/// The GeoTIFF flavour to write.
public enum GeoTIFFLayout: Sendable {
  /// Internally tiled (256 × 256) with DEFLATE compression and the floating-point predictor.
  case tiled
  /// Cloud-optimised GeoTIFF: tiled, compressed, with overviews, readable over HTTP ranges.
  case cloudOptimized
}

/// Writes Float32 bands as a GeoTIFF with CRS, geotransform, nodata and band descriptions;
/// NaN values are written as `noDataValue` when there is one. The file appears atomically
/// (see `GeoTIFFBandWriter`).
public func writeGeoTIFF(
  path: String, grid: RasterGrid, bands: [RasterBand], noDataValue: Double? = nil,
  layout: GeoTIFFLayout = .tiled
) throws(RasterError) {
  switch layout {
  case .tiled:
    let file = try GeoTIFFBandWriter(
      path: path, grid: grid, bandCount: bands.count, noDataValue: noDataValue)
    for (index, band) in bands.enumerated() {
      try file.write(band: index, description: band.description, values: band.values)
    }
    try file.finish()
  case .cloudOptimized:
    try writeCloudOptimized(path: path, grid: grid, bands: bands, noDataValue: noDataValue)
  }
}

/// A tiled GeoTIFF written one band at a time, so that a file of many bands never needs
/// them all in memory: create it, `write` every band, then `finish`.
///
/// The file appears atomically: GDAL writes a temporary file beside `path`, which `finish`
/// flushes to disk and renames over `path`, so an existing file is never left half-written.
/// A writer released unfinished (an error on the way) removes its temporary file.
///
/// Files of several bands are band-interleaved: a tile holding every band (GDAL's default)
/// would be compressed with one band, then read back, recompressed and appended anew for
/// each later band once the file outgrows GDAL's block cache, growing it several times over.
public final class GeoTIFFBandWriter {
  public let path: String
  public let grid: RasterGrid
  public let bandCount: Int
  public let noDataValue: Double?
  private let temporaryPath: String
  /// Nil once finished.
  private var dataset: GDALDatasetH?
  /// Pixels written into each band.
  private var written: [Int]

  public init(path: String, grid: RasterGrid, bandCount: Int, noDataValue: Double? = nil)
    throws(RasterError)
  {
    guard bandCount > 0 else { throw RasterError(path: path, message: "no bands to write") }
    var options = [
      "TILED": "YES", "BLOCKXSIZE": "256", "BLOCKYSIZE": "256", "COMPRESS": "DEFLATE",
      "PREDICTOR": "3", "BIGTIFF": "IF_SAFER",
    ]
    if bandCount > 1 { options["INTERLEAVE"] = "BAND" }
    let temporaryPath = AtomicFile.temporaryPath(for: path)
    do throws(RasterError) {
      dataset = try createDataset(
        driver: "GTiff", file: temporaryPath, grid: grid, bandCount: bandCount,
        options: options, path: path)
    } catch {
      unlink(temporaryPath)
      throw error
    }
    self.temporaryPath = temporaryPath
    self.path = path
    self.grid = grid
    self.bandCount = bandCount
    self.noDataValue = noDataValue
    written = Array(repeating: 0, count: bandCount)
  }

  deinit {
    if let dataset {
      GDALClose(dataset)
      unlink(temporaryPath)
    }
  }

  /// Writes the 0-based `band` (row-major values over the grid) and its description. Its
  /// blocks are on disk when this returns, so GDAL's cache never holds more than the band
  /// being written.
  public func write(band: Int, description: String, values: [Float]) throws(RasterError) {
    try write(
      band: band, description: description,
      window: RasterWindow(x: 0, y: 0, width: grid.width, height: grid.height), values: values)
  }

  /// Writes `values` (row-major over `window`) into the 0-based `band`, for files made a
  /// tile at a time; the band is complete once its windows have covered it. The window's
  /// blocks are on disk when this returns.
  public func write(band: Int, description: String, window: RasterWindow, values: [Float])
    throws(RasterError)
  {
    guard let dataset else {
      throw RasterError(path: path, message: "band \(band) written after the file was finished")
    }
    guard (0..<bandCount).contains(band) else {
      throw RasterError(
        path: path, message: "band index \(band) is out of range; the file has \(bandCount) bands")
    }
    try writeWindow(
      dataset, band, description: description, window: window, values: values,
      noDataValue: noDataValue, grid: grid, path: path)
    guard GDALFlushRasterCache(GDALGetRasterBand(dataset, Int32(band + 1))) == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot flush band \(band)"))
    }
    written[band] += window.width * window.height
  }

  /// Closes the file and moves it into place; every band must have been written.
  public func finish() throws(RasterError) {
    guard let dataset else {
      throw RasterError(path: path, message: "the file was already finished")
    }
    if let missing = written.firstIndex(where: { $0 < grid.width * grid.height }) {
      throw RasterError(
        path: path,
        message: written[missing] == 0
          ? "band \(missing) was never written"
          : "band \(missing) was not written whole (\(written[missing]) of "
            + "\(grid.width * grid.height) pixels)")
    }
    self.dataset = nil
    CPLErrorReset()
    GDALClose(dataset)
    guard CPLGetLastErrorType() != CE_Failure else {
      let message = GDAL.lastError(or: "cannot close")
      unlink(temporaryPath)
      throw RasterError(path: path, message: message)
    }
    do {
      try AtomicFile.commit(temporaryPath, to: path)
    } catch {
      throw RasterError(path: path, message: error.message)
    }
  }
}

/// COG's driver only copies, so the bands are assembled in memory first.
private func writeCloudOptimized(
  path: String, grid: RasterGrid, bands: [RasterBand], noDataValue: Double?
) throws(RasterError) {
  guard !bands.isEmpty else { throw RasterError(path: path, message: "no bands to write") }
  let memory = try createDataset(
    driver: "MEM", file: "", grid: grid, bandCount: bands.count, options: [:], path: path)
  defer { GDALClose(memory) }
  for (index, band) in bands.enumerated() {
    try writeBand(
      memory, index, description: band.description, values: band.values,
      noDataValue: noDataValue, grid: grid, path: path)
  }
  let temporaryPath = AtomicFile.temporaryPath(for: path)
  let options = ["COMPRESS": "DEFLATE", "PREDICTOR": "YES", "BIGTIFF": "IF_SAFER"]
  let copy = GDAL.withOptions(options) {
    GDALCreateCopy(GDALGetDriverByName("COG"), temporaryPath, memory, 0, $0, nil, nil)
  }
  guard let copy else {
    unlink(temporaryPath)
    throw RasterError(path: path, message: GDAL.lastError(or: "COG creation failed"))
  }
  GDALClose(copy)
  do {
    try AtomicFile.commit(temporaryPath, to: path)
  } catch {
    throw RasterError(path: path, message: error.message)
  }
}

/// A Float32 dataset on `grid` with its geotransform and CRS, bands still empty; `file` is
/// what GDAL creates, `path` what errors name.
private func createDataset(
  driver name: String, file: String, grid: RasterGrid, bandCount: Int,
  options: [String: String], path: String
) throws(RasterError) -> GDALDatasetH {
  _ = gdalSetUp
  CPLErrorReset()
  guard let driver = GDALGetDriverByName(name) else {
    throw RasterError(path: path, message: "GDAL has no \(name) driver")
  }
  let created = GDAL.withOptions(options) {
    GDALCreate(
      driver, file, Int32(grid.width), Int32(grid.height), Int32(bandCount), GDT_Float32, $0)
  }
  guard let dataset = created else {
    throw RasterError(path: path, message: GDAL.lastError(or: "cannot create"))
  }
  var coefficients = grid.geoTransform.coefficients
  var failed = GDALSetGeoTransform(dataset, &coefficients) != CE_None
  if !grid.crsWKT.isEmpty { failed = failed || GDALSetProjection(dataset, grid.crsWKT) != CE_None }
  if failed {
    let message = GDAL.lastError(or: "cannot set the geotransform or CRS")
    GDALClose(dataset)
    throw RasterError(path: path, message: message)
  }
  return dataset
}

/// Sets a band's description and nodata value and writes its pixels.
private func writeBand(
  _ dataset: GDALDatasetH, _ band: Int, description: String, values: [Float],
  noDataValue: Double?, grid: RasterGrid, path: String
) throws(RasterError) {
  try writeWindow(
    dataset, band, description: description,
    window: RasterWindow(x: 0, y: 0, width: grid.width, height: grid.height), values: values,
    noDataValue: noDataValue, grid: grid, path: path)
}

/// Sets a band's description and nodata value and writes a window of its pixels, 256 rows
/// (a row of tiles) at a time through a small buffer in which NaN becomes the nodata value,
/// so the caller's values need no full-size copy.
private func writeWindow(
  _ dataset: GDALDatasetH, _ band: Int, description: String, window: RasterWindow,
  values: [Float], noDataValue: Double?, grid: RasterGrid, path: String
) throws(RasterError) {
  let (width, height) = (window.width, window.height)
  guard values.count == width * height else {
    throw RasterError(
      path: path,
      message: "band \(band) (\(description)) has \(values.count) values; "
        + "expected \(width)×\(height) = \(width * height)")
  }
  guard window.x >= 0, window.y >= 0, window.x + width <= grid.width,
    window.y + height <= grid.height
  else {
    throw RasterError(
      path: path,
      message: "window x=\(window.x) y=\(window.y) \(width)×\(height) is outside the raster's "
        + "\(grid.width)×\(grid.height) pixels")
  }
  let handle = GDALGetRasterBand(dataset, Int32(band + 1))
  GDALSetDescription(handle, description)
  if let noDataValue, GDALSetRasterNoDataValue(handle, noDataValue) != CE_None {
    throw RasterError(path: path, message: GDAL.lastError(or: "cannot set the nodata value"))
  }
  let replacement = noDataValue.map { Float($0) }
  let stripRows = 256
  var strip = [Float](repeating: 0, count: width * min(stripRows, height))
  for top in stride(from: 0, to: height, by: stripRows) {
    let rows = min(stripRows, height - top)
    for offset in 0..<(rows * width) {
      let value = values[top * width + offset]
      strip[offset] = value.isNaN ? (replacement ?? value) : value
    }
    let status = strip.withUnsafeMutableBytes {
      GDALRasterIO(
        handle, GF_Write, Int32(window.x), Int32(window.y + top), Int32(width), Int32(rows),
        $0.baseAddress, Int32(width), Int32(rows), GDT_Float32, 0, 0)
    }
    guard status == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "write failed"))
    }
  }
}
