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

/// Writes Float32 bands as a GeoTIFF with CRS, geotransform, nodata and band descriptions.
/// The file appears atomically: GDAL writes a temporary file beside `path`, which is
/// flushed to disk and renamed over `path` only once complete, so an existing file is never
/// left half-written.
public func writeGeoTIFF(
  path: String, grid: RasterGrid, bands: [RasterBand], noDataValue: Double? = nil,
  layout: GeoTIFFLayout = .tiled
) throws(RasterError) {
  _ = gdalSetUp
  guard !bands.isEmpty else { throw RasterError(path: path, message: "no bands to write") }
  for (index, band) in bands.enumerated() where band.values.count != grid.width * grid.height {
    throw RasterError(
      path: path,
      message: "band \(index) (\(band.description)) has \(band.values.count) values; "
        + "expected \(grid.width)×\(grid.height) = \(grid.width * grid.height)")
  }
  let temporaryPath = AtomicFile.temporaryPath(for: path)
  do throws(RasterError) {
    switch layout {
    case .tiled:
      try writeTiled(
        path: temporaryPath, grid: grid, bands: bands, noDataValue: noDataValue)
    case .cloudOptimized:
      try writeCloudOptimized(
        path: temporaryPath, grid: grid, bands: bands, noDataValue: noDataValue)
    }
  } catch {
    unlink(temporaryPath)
    throw RasterError(path: path, message: error.message)
  }
  do {
    try AtomicFile.commit(temporaryPath, to: path)
  } catch {
    throw RasterError(path: path, message: error.message)
  }
}

private func writeTiled(path: String, grid: RasterGrid, bands: [RasterBand], noDataValue: Double?)
  throws(RasterError)
{
  let options = [
    "TILED": "YES", "BLOCKXSIZE": "256", "BLOCKYSIZE": "256", "COMPRESS": "DEFLATE",
    "PREDICTOR": "3", "BIGTIFF": "IF_SAFER",
  ]
  let dataset = try create(
    driver: "GTiff", path: path, grid: grid, bands: bands, noDataValue: noDataValue,
    options: options)
  GDALClose(dataset)
}

/// COG's driver only copies, so the bands are assembled in memory first.
private func writeCloudOptimized(
  path: String, grid: RasterGrid, bands: [RasterBand], noDataValue: Double?
) throws(RasterError) {
  let memory = try create(
    driver: "MEM", path: "", grid: grid, bands: bands, noDataValue: noDataValue, options: [:])
  defer { GDALClose(memory) }
  let options = ["COMPRESS": "DEFLATE", "PREDICTOR": "YES", "BIGTIFF": "IF_SAFER"]
  let copy = GDAL.withOptions(options) {
    GDALCreateCopy(GDALGetDriverByName("COG"), path, memory, 0, $0, nil, nil)
  }
  guard let copy else {
    throw RasterError(path: path, message: GDAL.lastError(or: "COG creation failed"))
  }
  GDALClose(copy)
}

private func create(
  driver name: String, path: String, grid: RasterGrid, bands: [RasterBand],
  noDataValue: Double?, options: [String: String]
) throws(RasterError) -> GDALDatasetH {
  CPLErrorReset()
  guard let driver = GDALGetDriverByName(name) else {
    throw RasterError(path: path, message: "GDAL has no \(name) driver")
  }
  let created = GDAL.withOptions(options) {
    GDALCreate(
      driver, path, Int32(grid.width), Int32(grid.height), Int32(bands.count), GDT_Float32, $0)
  }
  guard let dataset = created else {
    throw RasterError(path: path, message: GDAL.lastError(or: "cannot create"))
  }
  var coefficients = grid.geoTransform.coefficients
  var failed = GDALSetGeoTransform(dataset, &coefficients) != CE_None
  if !grid.crsWKT.isEmpty { failed = failed || GDALSetProjection(dataset, grid.crsWKT) != CE_None }
  for (index, band) in bands.enumerated() where !failed {
    let handle = GDALGetRasterBand(dataset, Int32(index + 1))
    GDALSetDescription(handle, band.description)
    if let noDataValue { failed = GDALSetRasterNoDataValue(handle, noDataValue) != CE_None }
    var values = band.values
    failed =
      failed
      || values.withUnsafeMutableBytes {
        GDALRasterIO(
          handle, GF_Write, 0, 0, Int32(grid.width), Int32(grid.height), $0.baseAddress,
          Int32(grid.width), Int32(grid.height), GDT_Float32, 0, 0)
      } != CE_None
  }
  if failed {
    let message = GDAL.lastError(or: "write failed")
    GDALClose(dataset)
    throw RasterError(path: path, message: message)
  }
  return dataset
}
