import Foundation
import GeoData
import TestSupport
import Testing

/// `landslide study build` on the real DEMs of ../shared/data with shake maps, daily rain
/// and landslide polygons made around them, then `train` on the result.
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct StudyBuildCommandTests {
  /// Shake map, rain (three periods of three days) and polygons in degrees over
  /// `box` (west, south, east, north), and the recipe for `dem`.
  static func inputs(
    around dem: String, box: [Double], in directory: URL, grid: String
  ) throws -> URL {
    let wkt = try RasterGrid.wkt(epsg: 4326)
    func raster(_ name: String, step: Double, value: (Double, Double) -> Double) throws {
      let columns = Int(((box[2] - box[0]) / step).rounded(.up)) + 4
      let rows = Int(((box[3] - box[1]) / step).rounded(.up)) + 4
      let (west, north) = (box[0] - 2 * step, box[3] + 2 * step)
      var values = [Float](repeating: 0, count: columns * rows)
      for row in 0..<rows {
        for column in 0..<columns {
          values[row * columns + column] = Float(
            value(west + (Double(column) + 0.5) * step, north - (Double(row) + 0.5) * step))
        }
      }
      try writeGeoTIFF(
        path: directory.appendingPathComponent(name).path,
        grid: RasterGrid(
          width: columns, height: rows,
          geoTransform: GeoTransform(
            originX: west, pixelWidth: step, originY: north, pixelHeight: -step),
          crsWKT: wkt),
        bands: [RasterBand(description: name, values: values)])
    }
    let (midX, midY) = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    try raster("pga_mean.tif", step: 0.0083) { x, y in
      0.5 * exp(-((x - midX) * (x - midX) + (y - midY) * (y - midY)) * 200)
    }
    try raster("pga_std.tif", step: 0.0083) { _, _ in 0.05 }
    let rain = directory.appendingPathComponent("rain")
    try FileManager.default.createDirectory(at: rain, withIntermediateDirectories: true)
    let days = [
      "2015-04-25", "2015-04-26", "2015-04-27", "2015-08-01", "2015-08-02",
      "2015-08-03", "2016-02-01", "2016-02-02", "2016-02-03",
    ]
    for (index, day) in days.enumerated() {
      try raster("rain/chirps-v2.0.\(day.replacingOccurrences(of: "-", with: ".")).tif", step: 0.05)
      { x, _ in Double(index % 3 + 1) * (10 + 40 * (x - box[0])) }
    }
    // Landslides: squares of about 100 m on steeper ground, spread over the area.
    var random = SystemRandomNumberGenerator()
    var features: [String] = []
    for index in 0..<400 {
      let x = Double.random(in: box[0]...box[2], using: &random)
      let y = Double.random(in: box[1]...box[3], using: &random)
      let (w, h) = (0.001, 0.001)
      let ring = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)].map {
        "[\($0.0), \($0.1)]"
      }
      features.append(
        #"{"type": "Feature", "properties": {"period": "\#(index % 3 + 1)"}, "geometry": {"type": "Polygon", "coordinates": [[\#(ring.joined(separator: ", "))]]}}"#
      )
    }
    try #"{"type": "FeatureCollection", "features": [\#(features.joined(separator: ",\n"))]}"#
      .write(
        to: directory.appendingPathComponent("landslides.geojson"), atomically: true,
        encoding: .utf8)
    let recipe = directory.appendingPathComponent("study.yaml")
    try """
    grid: \(grid)
    dem: {path: \(dem)}
    shaking: {pga_mean: pga_mean.tif, pga_std: pga_std.tif, units: g}
    rain: {directory: rain}
    periods:
      - {name: coseismic, start: 2015-04-25, end: 2015-04-27}
      - {name: monsoon, start: 2015-08-01, end: 2015-08-03}
      - {name: winter, start: 2016-02-01, end: 2016-02-03}
    monsoon: {start: 06-01, end: 09-30}
    inventory: {polygons: landslides.geojson, period_field: period}

    """.write(to: recipe, atomically: true, encoding: .utf8)
    return recipe
  }

  /// Runs `study build` on `dem` with the inputs of `inputs(around:…)`; the study and its
  /// manifest.
  static func build(around dem: String, box: [Double], in root: URL, grid: String) throws -> (
    URL, StudyManifest
  ) {
    let recipe = try inputs(around: dem, box: box, in: root, grid: grid)
    let study = root.appendingPathComponent("study")
    let built = try Launcher.landslide(
      "study", "build", "--config", recipe.path, "--out", study.path)
    #expect(built.status == 0, "\(built.standardError)")
    return (study, try StudyManifest.read(study: study.path))
  }

  /// The pysheds DEM (degrees, 90 m, Texas) becomes a study of 16 × 16 km in UTM zone 14N,
  /// 1 km units of 32 pixels, and `train` runs on it.
  @Test func theRealDEMBuildsAStudyThatTrains() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let dem = TestPaths.sharedData.appendingPathComponent("dem/pysheds_dem.tif").path
    let (study, manifest) = try Self.build(
      around: dem, box: [-97.485, 32.522, -97.179, 32.822], in: root,
      grid: "{epsg: 32614, origin: [649000, 3624000], size_units: [16, 16]}")
    #expect(manifest.epsg == 32614 && manifest.cellPixels == 32 && manifest.monsoons == [0, 0, 1])
    #expect(manifest.widthKm == 16 && manifest.heightKm == 16)
    let elevation = try RasterDataset(
      path: study.appendingPathComponent("predictors/elevation.tif").path
    ).read(band: 0).values.filter { !$0.isNaN }
    let source = try RasterDataset(path: dem).read(band: 0).values.filter {
      !$0.isNaN && $0 > -1000
    }
    #expect(elevation.count == 512 * 512, "the DEM covers the whole area")
    #expect(elevation.min()! >= source.min()! - 1 && elevation.max()! <= source.max()! + 1)

    let config = root.appendingPathComponent("train.yaml")
    try """
    study_area:
      files: {predictors: \(study.path)/predictors, inventory: \(study.path)/inventory.tif}
    data: {block_cells: 4}
    susceptibility: {blocks_per_stage: [1, 1, 1, 1]}
    density: {dense_widths: [16, 8], stage_epochs: [1, 1, 1], joint_epochs: 1}
    training: {batch_size: 4, max_epochs: 1, patience: 1}

    """.write(to: config, atomically: true, encoding: .utf8)
    let trained = try Launcher.landslide(
      "train", "--config", config.path, "--run-dir", root.appendingPathComponent("run").path,
      "--threads", "2")
    #expect(trained.status == 0, "\(trained.standardOutput) \(trained.standardError)")
    let metrics = try String(
      contentsOf: root.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8)
    #expect(metrics.contains("\"susceptibility\"") && metrics.contains("\"joint\""))
  }

  /// The Ecuador DEM (UTM 17S, 31 m, 3.6 km across) on a grid of 250 m units of 8 pixels:
  /// the area the inputs share (x 794,599–798,209 m, y 8,931,775–8,935,384 m), shrunk to
  /// whole units (794,750–798,000 and 8,932,000–8,935,250: 13 × 13), in the DEM's own UTM
  /// zone, found from its centre.
  @Test func theEcuadorDEMBuildsOnItsUTMZone() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let dem = TestPaths.sharedData.appendingPathComponent("ecuador/dem.tif").path
    let grid = try RasterDataset(path: dem).grid
    let t = grid.geoTransform
    let corners = try PointTransform.transform(
      [
        (t.originX, t.originY),
        (
          t.originX + Double(grid.width) * t.pixelWidth,
          t.originY + Double(grid.height) * t.pixelHeight
        ),
      ], fromWKT: grid.crsWKT, toEPSG: 4326, source: dem)
    let (study, manifest) = try Self.build(
      around: dem, box: [corners[0].x, corners[1].y, corners[1].x, corners[0].y], in: root,
      grid: "{unit_m: 250, pixels_per_unit: 8}")
    #expect(
      manifest.epsg == 32717 && manifest.widthKm == 13 && manifest.heightKm == 13, "\(manifest)")
    let inventory = try RasterDataset(path: study.appendingPathComponent("inventory.tif").path)
    #expect(inventory.grid.geoTransform.pixelWidth == 250 && inventory.bandCount == 3)
    #expect(inventory.grid.geoTransform.originX == 794_750)
    #expect(inventory.grid.geoTransform.originY == 8_935_250)
    let last = try inventory.read(band: 2).values
    #expect(last.reduce(0, +) > 0, "some landslide area by the last period")

    // 8 pixels a unit: the susceptibility network cannot map them onto units.
    let config = root.appendingPathComponent("train.yaml")
    try """
    study_area:
      files: {predictors: \(study.path)/predictors, inventory: \(study.path)/inventory.tif}
    data: {block_cells: 2, patch_cells: 2}

    """.write(to: config, atomically: true, encoding: .utf8)
    let trained = try Launcher.landslide(
      "train", "--config", config.path, "--run-dir", root.appendingPathComponent("run").path)
    #expect(trained.status != 0)
    #expect(
      trained.standardError.contains("8 pixels per mapping unit")
        && trained.standardError.contains("grid.pixels_per_unit: 32"), "\(trained.standardError)")
  }
}
