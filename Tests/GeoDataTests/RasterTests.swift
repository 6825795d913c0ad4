import Foundation
import TestSupport
import Testing

@testable import GeoData

/// The hazard paper's own susceptibility output (see ../shared/data/README.md).
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct GorkhaRasterTests {
  let path = TestPaths.sharedData.appendingPathComponent("gorkha/SusceptibilityOverTime.tif").path

  @Test func gridMatchesTheFile() throws {
    let raster = try RasterDataset(path: path)
    #expect(raster.grid.width == 220)
    #expect(raster.grid.height == 196)
    #expect(raster.bandCount == 8)
    #expect(raster.grid.epsg == 32645)
    let transform = raster.grid.geoTransform
    #expect(abs(transform.originX - 248_635.0796) < 1e-3)
    #expect(abs(transform.originY - 3_175_441.1060) < 1e-3)
    #expect(transform.pixelWidth == 1000)
    #expect(transform.pixelHeight == -1000)
    #expect(try raster.noDataValue(band: 0) == 1.79e308)
  }

  /// Values read independently with `gdallocationinfo -valonly FILE column row`.
  @Test(arguments: [
    (column: 100, row: 80, band: 0, value: 0.000928555207793),
    (column: 100, row: 80, band: 7, value: 0.991353690624237),
    (column: 150, row: 120, band: 0, value: 0.024630609899759),
    (column: 150, row: 120, band: 1, value: 0.042292259633541),
    (column: 60, row: 150, band: 6, value: 0.030708571895957),
    (column: 0, row: 0, band: 3, value: 0),
  ])
  func pixelValuesMatchGdallocationinfo(column: Int, row: Int, band: Int, value: Double) throws {
    let raster = try RasterDataset(path: path)
    let pixel = try raster.read(
      band: band, window: RasterWindow(x: column, y: row, width: 1, height: 1))
    #expect(pixel.valid == [true])
    #expect(abs(Double(pixel.values[0]) - value) < 1e-7)
  }

  @Test func windowReadAgreesWithFullRead() throws {
    let raster = try RasterDataset(path: path)
    let full = try raster.read(band: 5)
    let window = try raster.read(band: 5, window: RasterWindow(x: 90, y: 70, width: 20, height: 15))
    #expect(full.values.count == 220 * 196)
    for row in 0..<15 {
      for column in 0..<20 {
        #expect(window[column, row] == full[90 + column, 70 + row])
      }
    }
  }

  @Test func windowOutsideTheRasterIsAnError() throws {
    let raster = try RasterDataset(path: path)
    let error = #expect(throws: RasterError.self) {
      try raster.read(band: 0, window: RasterWindow(x: 210, y: 0, width: 20, height: 5))
    }
    #expect(error?.description.contains("outside the raster's 220×196 pixels") == true)
    #expect(error?.path == path)
  }

  @Test func bandOutOfRangeIsAnError() throws {
    let raster = try RasterDataset(path: path)
    let error = #expect(throws: RasterError.self) { try raster.read(band: 8) }
    #expect(error?.message.contains("the raster has 8 bands") == true)
  }
}

@Suite struct GeoTIFFRoundTripTests {
  /// A 5×3 UTM 45N grid with 30 m pixels.
  func grid() throws -> RasterGrid {
    try RasterGrid(
      width: 5, height: 3,
      geoTransform: GeoTransform(
        originX: 300_000, pixelWidth: 30, originY: 3_100_000, pixelHeight: -30),
      epsg: 32645)
  }

  let slope: [Float] = (0..<15).map { Float($0) * 1.5 }
  let elevation: [Float] = (0..<15).map { $0 == 7 ? -9999 : 1000 + Float($0) }

  @Test(arguments: [GeoTIFFLayout.tiled, .cloudOptimized])
  func writtenFileReadsBackIntact(layout: GeoTIFFLayout) throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("stack.tif").path
    let grid = try grid()
    try writeGeoTIFF(
      path: path, grid: grid,
      bands: [
        RasterBand(description: "slope (degrees)", values: slope),
        RasterBand(description: "elevation (m)", values: elevation),
      ],
      noDataValue: -9999, layout: layout)

    let raster = try RasterDataset(path: path)
    #expect(raster.grid.geoTransform == grid.geoTransform)
    #expect(raster.grid.epsg == 32645)
    #expect(raster.bandCount == 2)
    #expect(try raster.description(band: 0) == "slope (degrees)")
    #expect(try raster.description(band: 1) == "elevation (m)")
    #expect(try raster.noDataValue(band: 1) == -9999)
    #expect(try raster.read(band: 0).values == slope)
    let elevationRead = try raster.read(band: 1)
    #expect(elevationRead.valid == (0..<15).map { $0 != 7 })
    #expect(elevationRead.values[7].isNaN)
    #expect(elevationRead.values[8] == 1008)
    // Only the finished file is left: no temporary or sidecar files.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["stack.tif"])
  }

  @Test func wrongBandSizeIsRejectedAndTheOldFileSurvives() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("map.tif").path
    let grid = try grid()
    try writeGeoTIFF(path: path, grid: grid, bands: [RasterBand(description: "a", values: slope)])
    let error = #expect(throws: RasterError.self) {
      try writeGeoTIFF(
        path: path, grid: grid, bands: [RasterBand(description: "b", values: [1, 2])])
    }
    #expect(error?.description == "\(path): band 0 (b) has 2 values; expected 5×3 = 15")
    #expect(try RasterDataset(path: path).read(band: 0).values == slope)
  }

  /// Three bands written one at a time, out of order, on a grid tall enough for several
  /// 256-row strips; NaN comes back as nodata.
  @Test func bandByBandWriterRoundTrip() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("rain.tif").path
    let grid = try RasterGrid(
      width: 7, height: 600,
      geoTransform: GeoTransform(
        originX: 300_000, pixelWidth: 30, originY: 3_100_000, pixelHeight: -30),
      epsg: 32645)
    let count = grid.width * grid.height
    func values(_ band: Int) -> [Float] {
      var values = (0..<count).map { Float(band * 10_000 + $0) }
      values[3000 + band] = .nan
      return values
    }
    let bands = [values(0), values(1), values(2)]
    let file = try GeoTIFFBandWriter(path: path, grid: grid, bandCount: 3, noDataValue: -9999)
    for band in [2, 0, 1] {
      try file.write(band: band, description: "rain, period \(band)", values: bands[band])
    }
    #expect(!FileManager.default.fileExists(atPath: path), "the file appears only when finished")
    try file.finish()

    let raster = try RasterDataset(path: path)
    #expect(raster.grid == grid)
    #expect(raster.bandCount == 3)
    for band in 0..<3 {
      #expect(try raster.description(band: band) == "rain, period \(band)")
      #expect(try raster.noDataValue(band: band) == -9999)
      let read = try raster.read(band: band)
      #expect(read.valid == (0..<count).map { $0 != 3000 + band })
      #expect(zip(read.values, bands[band]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["rain.tif"])
  }

  /// A failed band write or an unfinished file leaves no temporary file, and the file
  /// already at the path intact.
  @Test func failedBandByBandWriteLeavesNoTemporaryFile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("map.tif").path
    let grid = try grid()
    try writeGeoTIFF(path: path, grid: grid, bands: [RasterBand(description: "a", values: slope)])
    do {
      let file = try GeoTIFFBandWriter(path: path, grid: grid, bandCount: 3)
      try file.write(band: 0, description: "a", values: slope)
      let error = #expect(throws: RasterError.self) {
        try file.write(band: 1, description: "b", values: [1, 2])
      }
      #expect(error?.description == "\(path): band 1 (b) has 2 values; expected 5×3 = 15")
    }
    do {
      let file = try GeoTIFFBandWriter(path: path, grid: grid, bandCount: 3)
      try file.write(band: 0, description: "a", values: elevation)
      try file.write(band: 2, description: "c", values: elevation)
      let error = #expect(throws: RasterError.self) { try file.finish() }
      #expect(error?.message == "band 1 was never written")
    }
    do {
      // Written a window at a time, a band is whole only once its windows cover it.
      let file = try GeoTIFFBandWriter(path: path, grid: grid, bandCount: 1)
      try file.write(
        band: 0, description: "a", window: RasterWindow(x: 0, y: 0, width: 5, height: 2),
        values: Array(elevation[0..<10]))
      let error = #expect(throws: RasterError.self) { try file.finish() }
      #expect(error?.message == "band 0 was not written whole (10 of 15 pixels)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["map.tif"])
    let raster = try RasterDataset(path: path)
    #expect(raster.bandCount == 1)
    #expect(try raster.read(band: 0).values == slope)
  }

  @Test func missingFileNamesThePath() {
    let error = #expect(throws: RasterError.self) {
      try RasterDataset(path: "/nonexistent/predictors.tif")
    }
    #expect(error?.path == "/nonexistent/predictors.tif")
    #expect(error?.message.contains("No such file") == true)
  }

  @Test func nonRasterFileIsAnError() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("notes.tif").path
    try "not a raster".write(toFile: path, atomically: true, encoding: .utf8)
    let error = #expect(throws: RasterError.self) { try RasterDataset(path: path) }
    #expect(error?.path == path)
    #expect(error?.message.isEmpty == false)
  }
}
