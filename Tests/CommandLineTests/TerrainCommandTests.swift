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

  @Test func missingDEMIsNamed() throws {
    let result = try Launcher.landslide(
      "terrain", "--dem", "/nonexistent/dem.tif", "--out", "/tmp/x")
    #expect(result.status != 0)
    #expect(result.standardError.contains("/nonexistent/dem.tif"))
  }
}
