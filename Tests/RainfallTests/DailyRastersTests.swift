import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// Daily rasters as the products come: one file per day with its date in the name, or
/// dated multi-band stacks; sampled at cells, with gaps and bad stacks named.
@Suite struct DailyRastersTests {
  static let grid = try! RasterGrid(
    width: 4, height: 3,
    geoTransform: GeoTransform(
      originX: 10, pixelWidth: 0.05, rowRotation: 0, originY: 45, columnRotation: 0,
      pixelHeight: -0.05),
    epsg: 4326)

  /// A band whose cell k holds `base + k`.
  static func band(_ base: Float, _ description: String) -> RasterBand {
    RasterBand(description: description, values: (0..<12).map { base + Float($0) })
  }

  @Test func fileNamesGiveTheirDates() {
    #expect(DailyRasters.day(inFileName: "chirps-v2.0.2019.06.01.tif")?.description == "2019-06-01")
    #expect(DailyRasters.day(inFileName: "rain_20190601.tif")?.description == "2019-06-01")
    #expect(DailyRasters.day(inFileName: "imerg_2019-06-01_v7.tif")?.description == "2019-06-01")
    #expect(DailyRasters.day(inFileName: "sm_2019_06_01.tif")?.description == "2019-06-01")
    #expect(DailyRasters.day(inFileName: "rain_2019.tif") == nil)
    #expect(DailyRasters.day(inFileName: "rain_20190231.tif") == nil)
    #expect(DailyRasters.day(inFileName: "rain_2019.06-01.tif") == nil)
    #expect(DailyRasters.day(inFileName: "v2.0.2019.12.31.tif")?.description == "2019-12-31")
  }

  @Test func daysComeFromFilesAndStacksAlike() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try writeGeoTIFF(
      path: directory.appendingPathComponent("chirps-v2.0.2019.06.01.tif").path, grid: Self.grid,
      bands: [Self.band(100, "rain")])
    try writeGeoTIFF(
      path: directory.appendingPathComponent("rain_stack.tif").path, grid: Self.grid,
      bands: [Self.band(200, "2019-06-02"), Self.band(300, "2019-06-03")])
    let rasters = try DailyRasters(directory: directory.path, variable: "rain")
    #expect(rasters.first.description == "2019-06-01" && rasters.last.description == "2019-06-03")
    let series = try rasters.sample(cells: [0, 5], from: rasters.first, through: rasters.last)
    #expect(series == [[100, 200, 300], [105, 205, 305]])
    #expect(Self.grid.pixel(x: 10.12, y: 44.96)! == (2, 0))
    #expect(Self.grid.pixel(x: 9.99, y: 44.96) == nil)

    // A missing day is named with the gap.
    try writeGeoTIFF(
      path: directory.appendingPathComponent("chirps-v2.0.2019.06.06.tif").path, grid: Self.grid,
      bands: [Self.band(600, "rain")])
    let gapped = try DailyRasters(directory: directory.path, variable: "rain")
    do {
      _ = try gapped.sample(cells: [0], from: gapped.first, through: gapped.last)
      Issue.record("a gap was not reported")
    } catch {
      #expect(error.message.contains("no rain raster for 2019-06-04–2019-06-05"), "\(error)")
    }
  }

  @Test func badStacksAreNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let stack = directory.appendingPathComponent("stack.tif").path
    try writeGeoTIFF(
      path: stack, grid: Self.grid, bands: [Self.band(0, "2019-06-02"), Self.band(0, "band 2")])
    do {
      _ = try DailyRasters(directory: directory.path, variable: "rain")
      Issue.record("an undated band was accepted")
    } catch {
      #expect(error.subject == stack && error.message.contains("band 2: description 'band 2'"))
    }
    try FileManager.default.removeItem(atPath: stack)
    var other = Self.grid
    other.geoTransform.originX = 11
    try writeGeoTIFF(
      path: directory.appendingPathComponent("a_20190601.tif").path, grid: Self.grid,
      bands: [Self.band(0, "")])
    let moved = directory.appendingPathComponent("b_20190602.tif").path
    try writeGeoTIFF(path: moved, grid: other, bands: [Self.band(0, "")])
    do {
      _ = try DailyRasters(directory: directory.path, variable: "rain")
      Issue.record("rasters on two grids were accepted")
    } catch {
      #expect(error.subject == moved && error.message.contains("must share one grid"))
    }
  }
}
