import Foundation
import GeoData
import TestSupport
import Testing

@Suite(
  .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
struct TerrainCommandTests {
  @Test func writesEveryLayerOnTheDEMsGrid() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let dem = TestPaths.sharedData.appendingPathComponent("dem/pysheds_dem.tif").path
    let result = try Launcher.landslide("terrain", "--dem", dem, "--out", directory.path)
    #expect(result.status == 0, "\(result.standardError)")
    let grid = try RasterDataset(path: dem).grid
    let files = [
      "elevation", "slope", "northness", "eastness", "profile_curvature", "plan_curvature",
      "flow_accumulation", "twi", "distance_to_river",
    ]
    for name in files {
      let layer = try RasterDataset(path: directory.appendingPathComponent("\(name).tif").path)
      #expect(layer.grid == grid, "\(name).tif is not on the DEM's grid")
      #expect(try layer.noDataValue(band: 0) == Double(TerrainLayers.noData))
    }
    let accumulation = try RasterDataset(
      path: directory.appendingPathComponent("flow_accumulation.tif").path
    )
    .read(band: 0).values.filter { !$0.isNaN }
    #expect(accumulation.max()! > 1000, "the main river gathers thousands of cells")
  }

  /// The real DEM read and written a tile at a time (tiles of 64 through GDAL windows)
  /// gives the files of one tile covering it, pixel for pixel.
  @Test func tilesGiveTheFilesOfOneTile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let dem = TestPaths.sharedData.appendingPathComponent("dem/pysheds_dem.tif").path
    let grid = try RasterDataset(path: dem).grid
    var outputs: [String] = []
    for tileSize in [64, max(grid.width, grid.height)] {
      let out = directory.appendingPathComponent("tiles-\(tileSize)").path
      let result = try Launcher.landslide(
        "terrain", "--dem", dem, "--out", out, "--tile-size", "\(tileSize)")
      #expect(result.status == 0, "\(result.standardError)")
      outputs.append(out)
    }
    for layer in TerrainLayer.allCases {
      let (tiled, whole) = try (
        RasterDataset(path: "\(outputs[0])/\(layer.file)").read(band: 0).values,
        RasterDataset(path: "\(outputs[1])/\(layer.file)").read(band: 0).values
      )
      #expect(zip(tiled, whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(layer.file)")
    }
  }

  @Test func missingDEMIsNamed() throws {
    let result = try Launcher.landslide(
      "terrain", "--dem", "/nonexistent/dem.tif", "--out", "/tmp/x")
    #expect(result.status != 0)
    #expect(result.standardError.contains("/nonexistent/dem.tif"))
  }
}

@Suite struct PrepareCommandTests {
  /// A synthetic study area is generated on first use and reused afterwards.
  @Test func configStudyAreaIsCreatedOnceThenReused() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let arguments = [
      "prepare", "--config", "configs/ensemble.yaml", "--set",
      "study_area.synthetic.size_km=[8, 8]",
      "--set", "study_area.synthetic.periods=2", "--set", "data.block_cells=4", "--out",
      directory.path,
    ]
    let first = try Launcher.run(Launcher.landslidePath, arguments)
    #expect(first.status == 0, "\(first.standardError)")
    #expect(first.standardOutput.contains("generating the synthetic study area"))
    let second = try Launcher.run(Launcher.landslidePath, arguments)
    #expect(second.status == 0)
    #expect(!second.standardOutput.contains("generating"))
    let prepared = try JSONDecoder().decode(
      PreparedStudy.self,
      from: Data(contentsOf: directory.appendingPathComponent("shards/shards.json")))
    #expect(prepared.periods == 2)
    #expect(prepared.channels.count == 13)
    // 8 × 8 cells: 4 normal patches and 1 shifted one, less any dropped at block edges.
    #expect(prepared.shards.flatMap(\.patches).count + prepared.droppedAtSplitBoundaries == 5)
  }

  @Test func exactlyOneSourceIsRequired() throws {
    let result = try Launcher.landslide("prepare", "--out", "/tmp/unused")
    #expect(result.status != 0)
    #expect(result.standardError.contains("give exactly one of --config and --study"))
  }
}
