import Foundation
import Testing

@testable import GeoData

/// Terrain worked tile by tile equals terrain worked on the whole raster, bit for bit, on
/// DEMs whose rivers, lakes and flats cross tile borders.
@Suite struct TiledTerrainTests {
  /// A valley falling east with tributaries, a lake basin straddling tile borders, a level
  /// plateau, scattered pits and a nodata hole: everything routing must carry across tiles.
  static func valley(width: Int, height: Int) -> [Float] {
    var generator = SplitMix(seed: 7)
    var z = [Float](repeating: 0, count: width * height)
    for row in 0..<height {
      for column in 0..<width {
        let x = Double(column) / Double(width)
        let y = Double(row) / Double(height)
        let valley = 80 * abs(y - 0.5 - 0.1 * sin(9 * x))
        let ridges = 6 * sin(23 * x) * cos(17 * y)
        z[row * width + column] = Float(300 - 120 * x + valley + ridges + generator.unit())
      }
    }
    // A basin 20 m deep across several tiles, a level plateau and pits.
    for row in (height / 3)..<(height / 3 + 14) {
      for column in (width / 3)..<(width / 3 + 19) { z[row * width + column] -= 20 }
    }
    for row in 4..<14 { for column in (width - 20)..<(width - 6) { z[row * width + column] = 350 } }
    for _ in 0..<40 { z[generator.index(width * height)] -= 15 }
    for row in (height - 12)..<(height - 8) {
      for column in 10..<15 { z[row * width + column] = .nan }
    }
    return z
  }

  /// Every layer of `dem` by tiles of `size`, gathered into whole arrays.
  static func layers(_ dem: ElevationModel, tileSize: Int) throws -> [TerrainLayer: [Float]] {
    var layers: [TerrainLayer: [Float]] = [:]
    try TerrainLayers.produce(dem, tileSize: tileSize, riverArea: 40 * 900) {
      layer, window, values in
      var whole = layers[layer] ?? [Float](repeating: 0, count: dem.width * dem.height)
      for row in 0..<window.height {
        for column in 0..<window.width {
          whole[(window.y + row) * dem.width + window.x + column] =
            values[row * window.width + column]
        }
      }
      layers[layer] = whole
    }
    return layers
  }

  static func bitwiseEqual(_ a: [Float], _ b: [Float]) -> Int {
    zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
  }

  @Test(arguments: [16, 23, 37])
  func everyLayerEqualsTheWholeRaster(tileSize: Int) throws {
    let (width, height) = (90, 70)
    let grid = try projectedGrid(width: width, height: height, cell: 30)
    let dem = ElevationModel(grid: grid, elevation: Self.valley(width: width, height: height))
    let whole = try Self.layers(dem, tileSize: max(width, height))
    let tiled = try Self.layers(dem, tileSize: tileSize)
    for layer in TerrainLayer.allCases {
      #expect(Self.bitwiseEqual(whole[layer]!, tiled[layer]!) == 0, "\(layer) differs")
    }
    let wholeRouting = try FlowRouting(dem)
    let tiledRouting = try FlowRouting(dem, tileSize: tileSize)
    #expect(Self.bitwiseEqual(wholeRouting.filled, tiledRouting.filled) == 0, "filled DEM")
    // The routing is not trivially local: flow crosses tile borders in bulk.
    let accumulation = wholeRouting.accumulation.filter { !$0.isNaN }
    #expect(accumulation.max()! > Float(4 * tileSize), "largest river \(accumulation.max()!)")
  }

  /// On a geographic grid cells shrink row by row: tiles keep each row's cell size.
  @Test func aGeographicGridEqualsTheWholeRaster() throws {
    let (width, height) = (60, 50)
    let grid = RasterGrid(
      width: width, height: height,
      geoTransform: GeoTransform(
        originX: 85, pixelWidth: 0.0003, originY: 28.2, pixelHeight: -0.0003),
      crsWKT: try RasterGrid.wkt(epsg: 4326))
    let dem = ElevationModel(grid: grid, elevation: Self.valley(width: width, height: height))
    let whole = try Self.layers(dem, tileSize: max(width, height))
    let tiled = try Self.layers(dem, tileSize: 13)
    for layer in TerrainLayer.allCases {
      #expect(Self.bitwiseEqual(whole[layer]!, tiled[layer]!) == 0, "\(layer) differs")
    }
  }

  /// The filled DEM is the least surface at or above the DEM from which every cell drains
  /// to the edge or to nodata: found independently by relaxing each cell to the lowest
  /// level among its neighbours (Planchon & Darboux 2001) until nothing changes.
  @Test func theFillIsTheSpillLevelOfEveryCell() throws {
    let (width, height) = (90, 70)
    let z = Self.valley(width: width, height: height)
    let grid = try projectedGrid(width: width, height: height, cell: 30)
    let filled = try FlowRouting(ElevationModel(grid: grid, elevation: z), tileSize: 21).filled
    var water = z.enumerated().map { index, value -> Float in
      let (row, column) = (index / width, index % width)
      let open = FlowRouting.neighbours.contains { dr, dc in
        let (r, c) = (row + dr, column + dc)
        return r < 0 || r >= height || c < 0 || c >= width || z[r * width + c].isNaN
      }
      return value.isNaN || open ? value : .infinity
    }
    var changed = true
    while changed {
      changed = false
      for index in water.indices where water[index] > z[index] {
        let (row, column) = (index / width, index % width)
        var lowest = Float.infinity
        for (dr, dc) in FlowRouting.neighbours {
          let neighbour = water[(row + dr) * width + column + dc]
          if !neighbour.isNaN { lowest = min(lowest, neighbour) }
        }
        let level = max(z[index], lowest)
        if level < water[index] {
          water[index] = level
          changed = true
        }
      }
    }
    #expect(Self.bitwiseEqual(filled, water) == 0)
    #expect(zip(filled, z).contains { $0 > $1 }, "the DEM has depressions to fill")
  }

  /// Every cell's flow ends somewhere: the cells that drain off the raster or into
  /// nodata gather all valid cells between them.
  @Test func accumulationConservesCells() throws {
    let (width, height) = (90, 70)
    let z = Self.valley(width: width, height: height)
    let grid = try projectedGrid(width: width, height: height, cell: 30)
    let layout = TileLayout(width: width, height: height, size: 19)
    let dem = ElevationModel(grid: grid, elevation: z)
    let directions = try FlowRouting.directions(
      dem, layout: layout, filled: ScratchLayer<Float>("filled", layout: layout))
    let accumulation = try FlowRouting(dem, tileSize: 19).accumulation
    var drained: Float = 0
    for tile in 0..<layout.count {
      let window = layout.window(tile)
      let tileDirections = try directions.read(tile)
      for row in 0..<window.height {
        for column in 0..<window.width
        where tileDirections[row * window.width + column] == FlowDirections.outlet {
          drained += accumulation[(window.y + row) * width + window.x + column]
        }
      }
    }
    #expect(drained == Float(z.filter { !$0.isNaN }.count))
  }
}

/// A small deterministic generator for test terrain.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
  mutating func index(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}
