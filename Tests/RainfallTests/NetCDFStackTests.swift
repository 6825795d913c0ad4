import CGDAL
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// NetCDF stacks as CHIRPS and SoMo.ml are distributed: GDAL's netCDF driver dates each
/// band by the time dimension's coordinate and the time variable's CF units.
@Suite struct NetCDFStackTests {
  static let grid = DailyRastersTests.grid

  /// A NetCDF file with a time dimension, written by GDAL's netCDF driver from a stack
  /// whose band b holds `bases[b] + cell`.
  static func write(
    _ path: String, times: [Double], units: String, calendar: String = "standard",
    bases: [Float]
  ) throws {
    GDALAllRegister()
    let memory = try #require(
      GDALCreate(GDALGetDriverByName("MEM"), "", 4, 3, Int32(bases.count), GDT_Float32, nil))
    defer { GDALClose(memory) }
    var coefficients = [10, 0.05, 0, 45, 0, -0.05]  // DailyRastersTests.grid
    GDALSetGeoTransform(memory, &coefficients)
    GDALSetProjection(memory, grid.crsWKT)
    for (index, base) in bases.enumerated() {
      var values = (0..<12).map { base + Float($0) }
      let band = GDALGetRasterBand(memory, Int32(index + 1))
      try #require(
        GDALRasterIO(band, GF_Write, 0, 0, 4, 3, &values, 4, 3, GDT_Float32, 0, 0) == CE_None)
    }
    let values = times.map { String($0) }.joined(separator: ",")
    for (key, value) in [
      ("NETCDF_DIM_EXTRA", "{time}"), ("NETCDF_DIM_time_DEF", "{\(times.count),6}"),
      ("NETCDF_DIM_time_VALUES", "{\(values)}"), ("time#units", units),
      ("time#calendar", calendar),
    ] {
      GDALSetMetadataItem(memory, key, value, nil)
    }
    let copy = try #require(
      GDALCreateCopy(GDALGetDriverByName("netCDF"), path, memory, 0, nil, nil, nil))
    GDALClose(copy)
  }

  @Test func theTimeDimensionDatesTheBands() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.write(
      directory.appendingPathComponent("chirps-v2.0.2019.days_p05.nc").path, times: [0, 1, 2],
      units: "days since 2019-06-01", bases: [100, 200, 300])
    // Hours after noon: 72 h and 96 h after 2019-06-01 12:00 are 06-04 12:00 and 06-05 12:00.
    try Self.write(
      directory.appendingPathComponent("later.nc").path, times: [60, 84],
      units: "hours since 2019-06-01 12:00:00", bases: [400, 500])
    let rasters = try DailyRasters(directory: directory.path, variable: "rain")
    // The netCDF driver derives the transform from Float coordinate arrays.
    let transform = rasters.grid.geoTransform
    #expect(rasters.grid.width == 4 && rasters.grid.height == 3 && rasters.grid.epsg == 4326)
    #expect(transform.originX == 10 && abs(transform.pixelWidth - 0.05) < 1e-12)
    #expect(transform.originY == 45 && abs(transform.pixelHeight + 0.05) < 1e-12)
    #expect(rasters.first.description == "2019-06-01" && rasters.last.description == "2019-06-05")
    let series = try rasters.sample(cells: [0, 11], from: rasters.first, through: rasters.last)
    #expect(series == [[100, 200, 300, 400, 500], [111, 211, 311, 411, 511]])
  }

  @Test func otherCalendarsAndUnreadableUnitsAreNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("somo.nc").path
    try Self.write(
      path, times: [0, 1], units: "days since 2019-06-01", calendar: "noleap", bases: [1, 2])
    let calendar = #expect(throws: RainfallError.self) {
      try DailyRasters(directory: directory.path, variable: "soil moisture")
    }
    #expect(calendar?.subject == path)
    #expect(calendar?.message.hasPrefix("time#calendar is 'noleap'") == true)
    try Self.write(path, times: [0, 1], units: "fortnights since 2019-06-01", bases: [1, 2])
    let units = #expect(throws: RainfallError.self) {
      try DailyRasters(directory: directory.path, variable: "soil moisture")
    }
    #expect(units?.message.hasPrefix("time#units 'fortnights since 2019-06-01' is not") == true)
  }

  /// CHIRPS' units; days counted by hand: 1980–2019 hold 10 leap years, so 2020-01-01 is
  /// day 40 · 365 + 10 = 14 610.
  @Test func cfUnitsCountFromTheirReference() throws {
    let chirps = try #require(CFTimeUnits("days since 1980-1-1 0:0:0"))
    #expect(chirps.day(14_610) == Day(year: 2020, month: 1, day: 1))
    #expect(chirps.day(14_610.5) == Day(year: 2020, month: 1, day: 1))
    #expect(chirps.day(-1) == Day(year: 1979, month: 12, day: 31))
    let seconds = try #require(CFTimeUnits("seconds since 1970-01-01T00:00:00Z"))
    #expect(seconds.day(86_400 * 365 - 1) == Day(year: 1970, month: 12, day: 31))
    #expect(seconds.day(86_400 * 365) == Day(year: 1971, month: 1, day: 1))
    #expect(CFTimeUnits("days since 2019-02-30") == nil)
    #expect(CFTimeUnits("days after 2019-06-01") == nil)
  }
}
