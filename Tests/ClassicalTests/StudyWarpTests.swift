import Configuration
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Classical

/// Factors on another grid than the first factor's: refused by default, naming the file;
/// with `warp: true` resampled onto it by GDAL (bilinear for quantities, nearest for codes).
@Suite struct StudyWarpTests {
  /// 40 × 40 pixels of 10 m in UTM 54N.
  static let reference = GeoTransform(
    originX: 500_000, pixelWidth: 10, originY: 4_700_000, pixelHeight: -10)
  /// The same area in 20 × 20 pixels of 20 m.
  static let coarse = GeoTransform(
    originX: 500_000, pixelWidth: 20, originY: 4_700_000, pixelHeight: -20)

  /// A plane in map coordinates: bilinear resampling reproduces it exactly inside the area.
  static func plane(_ x: Double, _ y: Double) -> Float {
    Float(0.001 * (x - 500_000) + 0.002 * (4_700_000 - y))
  }

  static func values(_ t: GeoTransform, size: Int, _ value: (Double, Double, Int, Int) -> Float)
    -> [Float]
  {
    (0..<(size * size)).map { index in
      let (column, row) = (index % size, index / size)
      return value(
        t.originX + (Double(column) + 0.5) * t.pixelWidth,
        t.originY + (Double(row) + 0.5) * t.pixelHeight, column, row)
    }
  }

  func makeStudy(warp: Bool) throws -> (URL, ClassicalFilesConfig) {
    let directory = try TestPaths.temporaryDirectory()
    let factors = directory.appendingPathComponent("factors")
    try FileManager.default.createDirectory(at: factors, withIntermediateDirectories: true)
    func write(_ name: String, _ t: GeoTransform, _ size: Int, _ values: [Float]) throws {
      let grid = try RasterGrid(width: size, height: size, geoTransform: t, epsg: 32654)
      try writeGeoTIFF(
        path: factors.appendingPathComponent("\(name).tif").path, grid: grid,
        bands: [RasterBand(description: name, values: values)], noDataValue: -9999)
    }
    try write(
      "a_elevation", Self.reference, 40,
      Self.values(Self.reference, size: 40) { x, y, _, _ in Float(x - y) })
    try write(
      "b_rain", Self.coarse, 20,
      Self.values(Self.coarse, size: 20) { x, y, _, _ in Self.plane(x, y) })
    try write(
      "c_lithology", Self.coarse, 20,
      Self.values(Self.coarse, size: 20) { _, _, column, _ in Float(1 + column / 7) })
    let inventory = directory.appendingPathComponent("inventory.tif").path
    try writeGeoTIFF(
      path: inventory,
      grid: try RasterGrid(width: 40, height: 40, geoTransform: Self.reference, epsg: 32654),
      bands: [RasterBand(description: "inventory", values: (0..<1600).map { $0 % 9 == 0 ? 1 : 0 })])
    let text = """
      study:
        files:
          factors: factors
          categorical: [c_lithology]
          warp: \(warp)
          inventories:
            historical: inventory.tif
      """
    let config = try ClassicalConfig.parse(
      text, file: directory.appendingPathComponent("config.yaml").path)
    guard case .files(let files) = config.study else { throw ClassicalError("test", "not files") }
    return (directory, files)
  }

  @Test func aFactorOnAnotherGridIsRefusedByName() throws {
    let (directory, files) = try makeStudy(warp: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let error = #expect(throws: ClassicalError.self) {
      try ClassicalStudy(files: files, warpDirectory: directory.appendingPathComponent("w").path)
    }
    #expect(error?.subject.hasSuffix("b_rain.tif") == true)
    #expect(error?.message.contains("resolution") == true)
  }

  @Test func warpingPutsEveryFactorOnTheFirstOnesGrid() throws {
    let (directory, files) = try makeStudy(warp: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let warped = directory.appendingPathComponent("warped").path
    let study = try ClassicalStudy(files: files, warpDirectory: warped)
    #expect(study.grid.width == 40 && study.grid.geoTransform == Self.reference)
    #expect(study.factors.map(\.name) == ["a_elevation", "b_rain", "c_lithology"])
    #expect(study.factors[1].path == (warped as NSString).appendingPathComponent("b_rain.tif"))
    let strip = try study.strip(0..<40)
    let expected = Self.values(Self.reference, size: 40) { x, y, _, _ in Self.plane(x, y) }
    // Bilinear from pixel centres is exact for a plane away from the outermost pixels.
    for row in 1..<39 {
      for column in 1..<39 {
        let index = row * 40 + column
        #expect(abs(strip[1][index] - expected[index]) < 1e-4, "row \(row) column \(column)")
      }
    }
    // Nearest keeps class codes whole; the study finds the same three classes.
    #expect(Set(strip[2]) == [1, 2, 3])
    let survey = try study.survey()
    #expect(survey.columns[2].categories == [1, 2, 3])
  }
}
