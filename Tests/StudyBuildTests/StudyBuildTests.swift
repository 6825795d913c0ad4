import Configuration
import Foundation
import GeoData
import StudyBuild
import TestSupport
import Testing

@Suite struct StudyBuildTests {
  static func build(_ inputs: StudyInputs, out: URL) throws -> StudyBuilder.Outcome {
    let config = try StudyBuildConfig.load(file: inputs.configURL.path)
    return try StudyBuilder.build(config, configFile: inputs.configURL.path, into: out.path)
  }

  /// Pixel centres (row, column) of the 48 × 40 pixel grid, in UTM and in degrees by
  /// gdaltransform.
  static let probes = [(0, 0), (5, 30), (17, 11), (39, 47), (25, 2)]
  static func probeDegrees() throws -> [(Double, Double)] {
    try StudyInputs.gdaltransform(
      probes.map { (300_000 + (Double($0.1) + 0.5) * 125, 3_110_000 - (Double($0.0) + 0.5) * 125) },
      from: 32645, to: 4326)
  }

  /// The DEM (EPSG:4326, 0.001°), shake map (0.0083°, % g) and rain (0.05°) land on the UTM
  /// grid with the values their functions take where gdaltransform puts each pixel centre;
  /// the rain statistics are the hand-worked ones (days 1…6: maximum 6, 97.5 − 2.5 %
  /// quantiles 5.875 − 1.125); the polygons (Web Mercator) give 25 % where a quarter of a
  /// unit is covered, twice, and 100 % where a whole unit is, from its period on.
  @Test func inputsInFourCRSsLandOnTheGridWithTheirValues() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let inputs = try StudyInputs(in: root)
    let out = root.appendingPathComponent("study")
    let outcome = try Self.build(inputs, out: out)
    #expect(outcome.built)
    let manifest = try StudyManifest.read(study: out.path)
    #expect(manifest.widthKm == 6 && manifest.heightKm == 5 && manifest.cellPixels == 8)
    #expect(manifest.epsg == 32645 && manifest.periods == 2 && manifest.monsoons == [0, 1])
    #expect(manifest.seed == nil && manifest.epicentre == nil)
    let roles = manifest.build?.inputs.map(\.role) ?? []
    #expect(roles.filter { $0 == "rain" }.count == 10)
    #expect(Set(roles) == ["dem", "pga_mean", "pga_std", "inventory", "rain"])

    let predictors = out.appendingPathComponent("predictors")
    func band(_ name: String, _ band: Int = 0) throws -> BandWindow {
      try RasterDataset(path: predictors.appendingPathComponent("\(name).tif").path).read(
        band: band)
    }
    let (elevation, pga, spread) = (
      try band("elevation"), try band("pga_mean"), try band("pga_std")
    )
    let (rainMax, rainSpread) = (
      [try band("rain_max", 0), try band("rain_max", 1)],
      [try band("rain_spread", 0), try band("rain_spread", 1)]
    )
    #expect(elevation.window.width == 48 && elevation.window.height == 40)
    for ((row, column), (lon, lat)) in zip(Self.probes, try Self.probeDegrees()) {
      let place = "pixel (\(row), \(column)) at \(lon), \(lat)"
      #expect(
        abs(Double(elevation[column, row]) - StudyInputs.elevation(lon: lon, lat: lat))
          < 0.05, "\(place)")
      #expect(
        abs(Double(pga[column, row]) - StudyInputs.pgaPercent(lon: lon, lat: lat) / 100)
          < 1e-5, "\(place)")
      #expect(abs(spread[column, row] - 0.05) < 1e-6, "\(place)")
      for (period, (_, _, days)) in StudyInputs.periods.enumerated() {
        let maximum = StudyInputs.rain(day: days, period: period, lon: lon)
        #expect(abs(Double(rainMax[period][column, row]) - maximum) < 1e-3, "\(place)")
        // Days d·(p + 1): the quantiles of 1…n scaled.
        let scale = Double(period + 1)
        let expected = scale * (0.95 * Double(days - 1))
        #expect(abs(Double(rainSpread[period][column, row]) - expected) < 1e-3, "\(place)")
      }
    }

    let inventory = try RasterDataset(path: out.appendingPathComponent("inventory.tif").path)
    #expect(inventory.grid.width == 6 && inventory.grid.height == 5)
    #expect(inventory.grid.geoTransform.originX == 300_000)
    #expect(inventory.grid.geoTransform.originY == 3_110_000)
    let coseismic = try inventory.read(band: 0).values
    let october = try inventory.read(band: 1).values
    #expect(coseismic[2 * 6 + 1] == 25 && october[2 * 6 + 1] == 25)
    #expect(coseismic[1 * 6 + 3] == 0 && october[1 * 6 + 3] == 100)
    #expect(coseismic.reduce(0, +) == 25 && october.reduce(0, +) == 125)
  }

  /// An unchanged build does nothing; a changed input rebuilds.
  @Test func aChangedInputRebuilds() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let inputs = try StudyInputs(in: root)
    let out = root.appendingPathComponent("study")
    #expect(try Self.build(inputs, out: out).built)
    #expect(try !Self.build(inputs, out: out).built)
    _ = try StudyInputs(in: root, pgaScale: 1.5)
    #expect(try Self.build(inputs, out: out).built)
    let pga = try RasterDataset(
      path: out.appendingPathComponent("predictors/pga_mean.tif").path
    ).read(band: 0)
    let (lon, lat) = try Self.probeDegrees()[0]
    #expect(
      abs(Double(pga.values[0]) - 1.5 * StudyInputs.pgaPercent(lon: lon, lat: lat) / 100) < 1e-5)
  }

  /// Each mistake a user can make names the file and what was expected, and the study
  /// already in the output directory stays as it was, with no staging directory left.
  @Test(arguments: [
    ("units", "are the units percent_g"),
    ("rain gap", "no rain raster for 2015-04-27"),
    ("bad date", "is not a date in the format %d/%m/%Y"),
    ("no overlap", "does not overlap the configured grid"),
    ("polygons elsewhere", "no polygon lies in the study area"),
  ])
  func badInputsAreNamedAndNothingIsOverwritten(mistake: String, message: String) throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var inputs = try StudyInputs(in: root)
    let out = root.appendingPathComponent("study")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let sentinel = out.appendingPathComponent("study.json")
    try Data("{\"kept\": true}".utf8).write(to: sentinel)
    var config = inputs.config()
    var file = ""
    switch mistake {
    case "units":
      config = inputs.config(units: "g")
      file = "pga_mean.tif"
    case "rain gap":
      try FileManager.default.removeItem(
        at: root.appendingPathComponent("rain/rain_2015-04-27.tif"))
      file = "rain"
    case "bad date":
      inputs = try StudyInputs(in: root, polygonDate: "2015/13/45")
      file = "inventory.geojson"
    case "no overlap":
      config = inputs.config(
        grid:
          "  epsg: 32645\n  pixels_per_unit: 8\n  origin: [600000, 3110000]\n  size_units: [6, 5]")
      file = "dem.tif"
    default:
      // UTM coordinates declared as degrees: nowhere near the area.
      let text = try String(
        contentsOf: root.appendingPathComponent("inventory.geojson"), encoding: .utf8)
      try text.replacingOccurrences(of: "EPSG::3857", with: "EPSG::32644").write(
        to: root.appendingPathComponent("inventory.geojson"), atomically: true, encoding: .utf8)
      file = "inventory.geojson"
    }
    try config.write(to: inputs.configURL, atomically: true, encoding: .utf8)
    let error = #expect(throws: RasterError.self) { try Self.build(inputs, out: out) }
    #expect(error?.path.hasSuffix(file) == true, "\(String(describing: error))")
    #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    #expect(try String(contentsOf: sentinel, encoding: .utf8) == "{\"kept\": true}")
    #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["study.json"])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: root.path).allSatisfy {
        !$0.contains(".partial")
      })
  }
}

/// configs/study.yaml, the worked example, lays its grid where the paper's own Gorkha maps
/// lie (../shared/data/gorkha: EPSG:32645, 1 km cells, the same origin and size).
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct WorkedExampleTests {
  @Test func theGorkhaRecipeProducesThePapersGrid() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    // The recipe's inputs, as empty stand-ins: only its grid is built here.
    let gorkha = root.appendingPathComponent("gorkha/chirps")
    try FileManager.default.createDirectory(at: gorkha, withIntermediateDirectories: true)
    for name in ["srtm_30m.tif", "shakemap_pga.tif", "shakemap_pga_std.tif", "inventory.gpkg"] {
      try Data().write(to: root.appendingPathComponent("gorkha/\(name)"))
    }
    let recipe = root.appendingPathComponent("study.yaml")
    try FileManager.default.copyItem(
      at: TestPaths.repositoryRoot.appendingPathComponent("configs/study.yaml"), to: recipe)
    let config = try StudyBuildConfig.load(file: recipe.path)
    #expect(config.periods.count == 8)
    let maps = try RasterDataset(
      path: TestPaths.sharedData.appendingPathComponent("gorkha/HazardOverTime.tif").path)
    let grid = try TargetGrid.resolve(config.grid, dem: (maps.path, maps.grid), inputs: [])
    #expect(grid.units.width == maps.grid.width && grid.units.height == maps.grid.height)
    #expect(grid.epsg == 32645 && maps.grid.epsg == 32645)
    let (ours, theirs) = (grid.units.geoTransform, maps.grid.geoTransform)
    #expect(abs(ours.originX - theirs.originX) < 1e-6 && abs(ours.originY - theirs.originY) < 1e-6)
    #expect(ours.pixelWidth == theirs.pixelWidth && ours.pixelHeight == theirs.pixelHeight)
    #expect(grid.pixels.width == 220 * 32 && grid.pixelsPerUnit == 32)
  }
}

extension StudyBuildTests {
  /// Outside the area-of-interest polygon (the west half, in UTM) every predictor is
  /// nodata; inside, values are those of the whole build; building in small tiles and
  /// strips changes nothing.
  @Test func outsideTheAreaOfInterestPredictorsAreNodata() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let inputs = try StudyInputs(in: root)
    try #"""
    {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32645"}},
     "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates":
      [[[299000, 3111000], [303000, 3111000], [303000, 3104000], [299000, 3104000], [299000, 3111000]]]}}]}
    """#.write(to: root.appendingPathComponent("aoi.geojson"), atomically: true, encoding: .utf8)
    let grid =
      "  epsg: 32645\n  pixels_per_unit: 8\n  origin: [300000, 3110000]\n  size_units: [6, 5]\n"
      + "  area_of_interest: aoi.geojson"
    try inputs.config(grid: grid).write(to: inputs.configURL, atomically: true, encoding: .utf8)
    let out = root.appendingPathComponent("study")
    _ = try Self.build(inputs, out: out)
    for name in ["elevation", "slope", "pga_mean", "pga_std", "rain_max", "rain_spread"] {
      let values = try RasterDataset(
        path: out.appendingPathComponent("predictors/\(name).tif").path
      ).read(band: 0)
      for row in [0, 20, 39] {
        // Pixel columns 0–23 lie west of x = 303,000 m.
        #expect(!values[2, row].isNaN && !values[21, row].isNaN, "\(name) row \(row)")
        #expect(values[24, row].isNaN && values[47, row].isNaN, "\(name) row \(row)")
      }
    }
    let roles = try StudyManifest.read(study: out.path).build?.inputs.map(\.role) ?? []
    #expect(roles.contains("area_of_interest"))

    // Tiles and strips of 16 rows (three over the 40 pixel rows, the mask burnt in each)
    // give the same study bit for bit.
    let config = try StudyBuildConfig.load(file: inputs.configURL.path)
    let tiled = root.appendingPathComponent("tiled")
    let manifest = try StudyBuilder.build(
      config, configFile: inputs.configURL.path, into: tiled.path, tileSize: 16
    ).manifest
    #expect(
      try studyDifferences(
        out, tiled, predictors: manifest.staticPredictors + manifest.timeVaryingPredictors,
        files: ["inventory.tif", "study.json"]) == [])
  }
}
