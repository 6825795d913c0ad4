import Foundation
import TestSupport
import Testing

@testable import GeoData

@Suite struct RasterStackTests {
  /// Writes a 4 × 3 raster; each argument changes one property of the reference.
  func write(
    _ directory: URL, _ name: String, epsg: Int = 32645, originX: Double = 300_000,
    pixel: Double = 30, width: Int = 4, bands: Int = 1
  ) throws -> String {
    let path = directory.appendingPathComponent(name).path
    let grid = try RasterGrid(
      width: width, height: 12 / width,
      geoTransform: GeoTransform(
        originX: originX, pixelWidth: pixel, originY: 3_100_000, pixelHeight: -pixel),
      epsg: epsg)
    let band = [Float](repeating: 1, count: width * (12 / width))
    try writeGeoTIFF(
      path: path, grid: grid,
      bands: (0..<bands).map { RasterBand(description: "b\($0)", values: band) })
    return path
  }

  @Test func matchingRastersOpenTogether() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let stack = try RasterStack(
      paths: [try write(directory, "a.tif"), try write(directory, "b.tif", bands: 2)],
      bandCounts: [directory.appendingPathComponent("b.tif").path: 2])
    #expect(stack.rasters.count == 2)
    #expect(stack.grid.epsg == 32645)
  }

  @Test func eachMismatchNamesTheFileAndTheDifference() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let reference = try write(directory, "reference.tif")
    let cases: [(String, String)] = [
      (
        try write(directory, "crs.tif", epsg: 32644),
        "CRS EPSG:32644 differs from EPSG:32645 of \(reference)"
      ),
      (
        try write(directory, "resolution.tif", pixel: 90),
        "resolution 90.0 × 90.0 differs from 30.0 × 30.0"
      ),
      (
        try write(directory, "shifted.tif", originX: 300_030),
        "extent (origin 300030.0, 3100000.0; 4 × 3 pixels)"
      ),
      (
        try write(directory, "narrow.tif", width: 3),
        "extent (origin 300000.0, 3100000.0; 3 × 4 pixels)"
      ),
    ]
    for (path, message) in cases {
      let error = #expect(throws: RasterError.self) { try RasterStack(paths: [reference, path]) }
      #expect(error?.path == path)
      #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }
    let bands = try write(directory, "bands.tif", bands: 3)
    let error = #expect(throws: RasterError.self) {
      try RasterStack(paths: [reference, bands], bandCounts: [bands: 8])
    }
    #expect(error?.description == "\(bands): expected 8 bands, found 3")
  }
}
