import Foundation
import TestSupport
import Testing

@testable import GeoData

/// A projected test grid: `width × height` cells of `cell` metres, UTM 14N.
func projectedGrid(width: Int, height: Int, cell: Double) throws -> RasterGrid {
  try RasterGrid(
    width: width, height: height,
    geoTransform: GeoTransform(
      originX: 500_000, pixelWidth: cell, originY: 3_600_000, pixelHeight: -cell),
    epsg: 32614)
}

@Suite struct HandMadeTerrainTests {
  /// z = −x² (a ridge along y): at x = 10 m the profile curvature is −2·D = 2/m (convex
  /// downslope), the plan curvature 0, the slope atan(20) and the aspect due east.
  @Test func ridgeDerivativesByHand() throws {
    let grid = try projectedGrid(width: 5, height: 5, cell: 10)
    let elevation = (0..<25).map { index -> Float in
      let x = Float(index % 5 - 2) * 10
      return -x * x / 100  // z in metres, x in metres: −x²/100 keeps numbers small
    }
    let derivatives = SurfaceDerivatives(ElevationModel(grid: grid, elevation: elevation))
    let index = 2 * 5 + 3  // row 2, column 3: x = 10 m
    // G = (−4 − 0)/20 = −0.2, D = ((0 + −4)/2 + 1)/100 = −0.01.
    #expect(abs(derivatives.slopeDegrees[index] - Float(atan(0.2) * 180 / .pi)) < 1e-4)
    #expect(abs(derivatives.profileCurvature[index] - 0.02) < 1e-6)
    #expect(abs(derivatives.planCurvature[index]) < 1e-6)
    #expect(abs(derivatives.eastness[index] - 1) < 1e-6)  // downslope towards +x: east
    #expect(abs(derivatives.northness[index]) < 1e-6)
  }

  /// A plane falling to the south: every column drains straight down, so the cell in row r
  /// gathers r + 1 cells.
  @Test func flowAccumulatesDownAPlane() throws {
    let grid = try projectedGrid(width: 4, height: 6, cell: 30)
    let elevation = (0..<24).map { index -> Float in Float(100 - 5 * (index / 4)) }
    let flow = try FlowRouting(ElevationModel(grid: grid, elevation: elevation))
    for row in 0..<6 {
      for column in 1..<3 {
        #expect(
          flow.accumulation[row * 4 + column] == Float(row + 1), "row \(row) column \(column)")
      }
    }
  }

  /// A one-cell pit in a plane falling south (rows at 50, 48, 46, 44, 42 m) is filled to
  /// its lowest rim (44 m, level: plain filling) and passes on what it gathers over the
  /// flat it joins: all 25 cells reach the bottom row, the outlets.
  @Test func pitsAreFilledAndDrain() throws {
    let grid = try projectedGrid(width: 5, height: 5, cell: 10)
    var elevation = (0..<25).map { Float(50 - 2 * ($0 / 5)) }
    elevation[12] = 10  // pit at the centre
    let flow = try FlowRouting(ElevationModel(grid: grid, elevation: elevation))
    #expect(flow.filled[12] == 44, "filled to \(flow.filled[12])")
    #expect(flow.accumulation[20..<25].reduce(0, +) == 25)
    // Rows 0–3 pass through row 3 once each, the pit's nine cells among them.
    #expect(flow.accumulation[15..<20].reduce(0, +) == 20, "the pit drains south")
    #expect(flow.accumulation[12] > 1, "the pit gathers its upslope cells")
  }

  /// A lake (a basin filled to its 30 m spill point in the east) drains across its flat to
  /// that spill point: each lake cell's flow steps one cell nearer it, so the spill cell
  /// gathers the whole lake and everything above it.
  @Test func aFilledLakeDrainsToItsSpillPoint() throws {
    let (width, height) = (7, 5)
    let grid = try projectedGrid(width: width, height: height, cell: 10)
    // A rim at 40 m around a 5 × 3 basin at 10 m; the rim is broken at 30 m in the east.
    var elevation = [Float](repeating: 40, count: width * height)
    for row in 1...3 { for column in 1...5 { elevation[row * width + column] = 10 } }
    elevation[2 * width + 6] = 30
    let flow = try FlowRouting(ElevationModel(grid: grid, elevation: elevation))
    for row in 1...3 {
      for column in 1...5 { #expect(flow.filled[row * width + column] == 30) }
    }
    #expect(flow.filled[2 * width + 6] == 30)
    // Every rim cell falls into the lake and the lake drains only through the spill cell,
    // an outlet on the edge: it gathers all 35 cells.
    #expect(flow.accumulation[2 * width + 6] == 35)
  }

  @Test func distanceTransformMatchesBruteForce() {
    let (width, height) = (17, 11)
    let marked = (0..<(width * height)).map { ($0 * 7919) % 23 == 0 }
    let cellWidth = (0..<height).map { 25.0 + Double($0) }
    let cellHeight = [Double](repeating: 30, count: height)
    let fast = DistanceTransform.distances(
      marked: marked, width: width, height: height, cellWidth: cellWidth, cellHeight: cellHeight)
    for row in 0..<height {
      for column in 0..<width {
        var best = Double.infinity
        for other in 0..<(width * height) where marked[other] {
          let dy = Double(other / width - row) * 30
          let dx = Double(other % width - column) * cellWidth[row]
          best = min(best, (dx * dx + dy * dy).squareRoot())
        }
        #expect(abs(fast[row * width + column] - best) < 1e-6)
      }
    }
  }

  @Test func wetnessIndexOnAPlane() throws {
    let grid = try projectedGrid(width: 3, height: 8, cell: 10)
    let elevation = (0..<24).map { Float(100 - ($0 / 3)) }  // 1 m drop per 10 m: tan β = 0.1
    var layers: [TerrainLayer: [Float]] = [:]
    try TerrainLayers.produce(ElevationModel(grid: grid, elevation: elevation), riverArea: 500) {
      layers[$0] = $1
    }
    #expect(layers.keys.count == TerrainLayer.allCases.count)
    // Row 4, middle column: 5 cells of 100 m² over a 10 m contour, tan β = 0.1.
    #expect(abs(layers[.twi]![4 * 3 + 1] - Float(log(5.0 * 100 / 10 / 0.1))) < 1e-4)
    // Rivers start where 5 cells (500 m²) have gathered: rows 4 and below.
    #expect(layers[.distanceToRiver]![3 * 3 + 1] == 10)
    #expect(layers[.distanceToRiver]![5 * 3 + 1] == 0)
    // The slope survives the wetness index's reuse of its storage.
    #expect(abs(layers[.slope]![4 * 3 + 1] - Float(atan(0.1) * 180 / .pi)) < 1e-4)
  }
}

/// The pysheds DEM (HydroSHEDS, geographic WGS 84) and its UTM warp, against GDAL.
@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct RealDEMTerrainTests {
  let dem = TestPaths.sharedData.appendingPathComponent("dem/pysheds_dem.tif").path

  /// Runs a GDAL tool (five minutes at most).
  static func run(_ arguments: [String]) throws {
    let result = try ChildProcess.run("/usr/bin/env", arguments, deadline: 300)
    #expect(
      result.status == 0, "\(arguments.joined(separator: " ")) failed: \(result.standardError)")
  }

  static func percentile(_ values: [Float], _ fraction: Double) -> Float {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
  }

  @Test func slopeAndAspectMatchGdaldemOnTheUTMGrid() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let utm = directory.appendingPathComponent("utm.tif").path
    let slopePath = directory.appendingPathComponent("slope.tif").path
    let aspectPath = directory.appendingPathComponent("aspect.tif").path
    try Self.run([
      "gdalwarp", "-q", "-t_srs", "EPSG:32614", "-tr", "90", "90", "-r", "bilinear", dem, utm,
    ])
    try Self.run(["gdaldem", "slope", "-q", "-alg", "ZevenbergenThorne", utm, slopePath])
    try Self.run(["gdaldem", "aspect", "-q", "-alg", "ZevenbergenThorne", utm, aspectPath])

    let model = try ElevationModel(contentsOf: utm)
    let ours = SurfaceDerivatives(model)
    let gdalSlope = try RasterDataset(path: slopePath).read(band: 0)
    let gdalAspect = try RasterDataset(path: aspectPath).read(band: 0)
    var slopeDifferences: [Float] = []
    var aspectDifferences: [Float] = []
    for row in 1..<(model.height - 1) {
      for column in 1..<(model.width - 1) {
        let index = row * model.width + column
        guard gdalSlope.valid[index], !ours.slopeDegrees[index].isNaN else { continue }
        slopeDifferences.append(abs(ours.slopeDegrees[index] - gdalSlope.values[index]))
        guard gdalAspect.valid[index], gdalSlope.values[index] > 1 else { continue }
        let aspect = atan2(ours.eastness[index], ours.northness[index]) * 180 / .pi
        let difference = abs(
          (aspect - gdalAspect.values[index] + 540).truncatingRemainder(dividingBy: 360) - 180)
        aspectDifferences.append(difference)
      }
    }
    #expect(slopeDifferences.count > 100_000)
    #expect(Self.percentile(slopeDifferences, 0.5) < 0.1)
    #expect(Self.percentile(slopeDifferences, 0.99) < 1)
    #expect(Self.percentile(aspectDifferences, 0.5) < 0.1)
    #expect(Self.percentile(aspectDifferences, 0.99) < 1)
  }

  /// On the geographic original, against a central-difference slope computed here
  /// independently on a sphere of radius 6,371,008.8 m (x spacing R·cos φ·Δλ per row).
  @Test func slopeOnTheGeographicGridIsLatitudeAware() throws {
    let raster = try RasterDataset(path: dem)
    let band = try raster.read(band: 0)
    let ours = SurfaceDerivatives(try ElevationModel(contentsOf: dem))
    let transform = raster.grid.geoTransform
    let radius = 6_371_008.8
    let (width, height) = (raster.grid.width, raster.grid.height)
    var differences: [Float] = []
    for row in 1..<(height - 1) {
      let latitude = (transform.originY + (Double(row) + 0.5) * transform.pixelHeight) * .pi / 180
      let dy = radius * abs(transform.pixelHeight) * .pi / 180
      let dx = dy * abs(transform.pixelWidth) / abs(transform.pixelHeight) * cos(latitude)
      for column in 1..<(width - 1) {
        let window = [-width, width, -1, 1].map { row * width + column + $0 }
        guard band.valid[row * width + column], window.allSatisfy({ band.valid[$0] }) else {
          continue
        }
        let p =
          Double(band.values[row * width + column + 1] - band.values[row * width + column - 1])
          / (2 * dx)
        let q =
          Double(band.values[(row - 1) * width + column] - band.values[(row + 1) * width + column])
          / (2 * dy)
        let reference = Float(atan((p * p + q * q).squareRoot()) * 180 / .pi)
        differences.append(abs(ours.slopeDegrees[row * width + column] - reference))
      }
    }
    #expect(differences.count > 100_000)
    #expect(Self.percentile(differences, 0.5) < 0.1)
    #expect(Self.percentile(differences, 0.99) < 1)
  }
}
