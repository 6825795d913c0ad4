import Foundation
import GeoData
import TestSupport

/// Raw inputs made in a test, each in its own CRS and resolution, over a study area in UTM
/// zone 45N (x 300–306 km, y 3105–3110 km): a DEM in degrees (0.0015°), a shake map at
/// 0.0083° in % g, daily rain at 0.05°, and landslide polygons in Web Mercator with dates.
/// Every raster is a linear function of longitude and latitude, which bilinear warping
/// reproduces exactly, so expected values come from longitude and latitude alone.
struct StudyInputs {
  let directory: URL

  static func elevation(lon: Double, lat: Double) -> Double {
    1000 + 2000 * (lon - 84.9) + 3000 * (lat - 28)
  }
  /// % g.
  static func pgaPercent(lon: Double, lat: Double) -> Double { 10 + 20 * (lon - 84.8) }
  static func rain(day: Int, period: Int, lon: Double) -> Double {
    Double(day * (period + 1)) + 10 * (lon - 84.5)
  }

  static let periods = [("coseismic", "2015-04-25", 6), ("post_monsoon", "2015-10-01", 4)]

  /// Writes the inputs and `study.yaml` into `directory`; `edit` may change the YAML.
  init(in directory: URL, pgaScale: Double = 1, polygonDate: String = "27/04/2015") throws {
    self.directory = directory
    let geographic = try RasterGrid.wkt(epsg: 4326)
    func raster(
      _ name: String, lon: Double, lat: Double, step: Double, columns: Int, rows: Int,
      value: (Double, Double) -> Double
    ) throws {
      var values = [Float](repeating: 0, count: columns * rows)
      for row in 0..<rows {
        for column in 0..<columns {
          let x = lon + (Double(column) + 0.5) * step
          let y = lat - (Double(row) + 0.5) * step
          values[row * columns + column] = Float(value(x, y))
        }
      }
      let grid = RasterGrid(
        width: columns, height: rows,
        geoTransform: GeoTransform(
          originX: lon, pixelWidth: step, originY: lat, pixelHeight: -step),
        crsWKT: geographic)
      try writeGeoTIFF(
        path: directory.appendingPathComponent(name).path, grid: grid,
        bands: [RasterBand(description: name, values: values)])
    }
    // Coarser than the 125 m pixels: GDAL's bilinear kernel widens when it shrinks a raster,
    // and its discrete weights then shift values by a fraction of a source pixel.
    try raster("dem.tif", lon: 84.9, lat: 28.15, step: 0.0015, columns: 134, rows: 100) {
      Self.elevation(lon: $0, lat: $1)
    }
    try raster("pga_mean.tif", lon: 84.8, lat: 28.3, step: 0.0083, columns: 48, rows: 48) {
      Self.pgaPercent(lon: $0, lat: $1) * pgaScale
    }
    try raster("pga_std.tif", lon: 84.8, lat: 28.3, step: 0.0083, columns: 48, rows: 48) { _, _ in
      5
    }
    let rain = directory.appendingPathComponent("rain")
    try FileManager.default.createDirectory(at: rain, withIntermediateDirectories: true)
    for (period, (_, start, days)) in Self.periods.enumerated() {
      for day in 1...days {
        let date =
          "2015-\(start.dropFirst(5).prefix(2))-\(String(format: "%02d", Int(start.suffix(2))! + day - 1))"
        try raster("rain/rain_\(date).tif", lon: 84.5, lat: 28.5, step: 0.05, columns: 20, rows: 20)
        {
          lon, _ in Self.rain(day: day, period: period, lon: lon)
        }
      }
    }
    // Polygons drawn in UTM 45N, written in EPSG:3857: a quarter of unit (column 1, row 2)
    // on `polygonDate`, the whole unit (3, 1) and the same quarter again in October.
    let quarter = [
      (301_000.0, 3_107_000.0), (301_500, 3_107_000), (301_500, 3_107_500), (301_000, 3_107_500),
    ]
    let whole = [
      (303_000.0, 3_108_000.0), (304_000, 3_108_000), (304_000, 3_109_000), (303_000, 3_109_000),
    ]
    var features: [String] = []
    for (ring, date) in [(quarter, polygonDate), (whole, "02/10/2015"), (quarter, "03/10/2015")] {
      let mercator = try Self.gdaltransform(ring, from: 32645, to: 3857)
      let coordinates = (mercator + [mercator[0]]).map { "[\($0.0), \($0.1)]" }.joined(
        separator: ", ")
      features.append(
        #"{"type": "Feature", "properties": {"mapped": "\#(date)"}, "geometry": {"type": "Polygon", "coordinates": [[\#(coordinates)]]}}"#
      )
    }
    try """
    {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
     "features": [\(features.joined(separator: ",\n"))]}
    """.write(
      to: directory.appendingPathComponent("inventory.geojson"), atomically: true, encoding: .utf8)
    try config().write(to: configURL, atomically: true, encoding: .utf8)
  }

  var configURL: URL { directory.appendingPathComponent("study.yaml") }

  func config(units: String = "percent_g", grid: String? = nil) -> String {
    """
    grid:
    \(grid ?? "  epsg: 32645\n  unit_m: 1000\n  pixels_per_unit: 8\n  origin: [300000, 3110000]\n  size_units: [6, 5]")
    dem:
      path: dem.tif
    shaking:
      pga_mean: pga_mean.tif
      pga_std: pga_std.tif
      units: \(units)
    rain:
      directory: rain
    periods:
      - {name: coseismic, start: 2015-04-25, end: 2015-04-30}
      - {name: post_monsoon, start: 2015-10-01, end: 2015-10-04}
    event_date: 2015-04-25
    monsoon: {start: 06-01, end: 09-30}
    inventory:
      polygons: inventory.geojson
      date_field: mapped
      date_format: "%d/%m/%Y"

    """
  }

  /// Points carried between EPSG codes by GDAL's own command-line tool.
  static func gdaltransform(_ points: [(Double, Double)], from: Int, to: Int) throws -> [(
    Double, Double
  )] {
    let folder = try TestPaths.temporaryDirectory("gdaltransform")
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("points.txt")
    try points.map { "\($0.0) \($0.1)" }.joined(separator: "\n").write(
      to: input, atomically: true, encoding: .utf8)
    let result = try ChildProcess.run(
      "/bin/sh",
      ["-c", "gdaltransform -s_srs EPSG:\(from) -t_srs EPSG:\(to) -output_xy < '\(input.path)'"],
      deadline: 60)
    guard result.status == 0 else { throw LaunchError(description: result.standardError) }
    return result.standardOutput.split(separator: "\n").map {
      let parts = $0.split(separator: " ").compactMap { Double($0) }
      return (parts[0], parts[1])
    }
  }
}
