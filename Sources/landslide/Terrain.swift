import ArgumentParser
import GeoData

/// `landslide terrain`: the terrain predictors of a DEM, one GeoTIFF each.
struct Terrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Derive slope, aspect, curvatures, flow accumulation, TWI and distance to river from a DEM.")

  @Option(help: "The DEM (GeoTIFF or anything GDAL reads; projected or geographic CRS).")
  var dem: String

  @Option(help: "Directory for elevation.tif, slope.tif, … distance_to_river.tif.")
  var out: String

  @Option(help: "Upslope area, in km², from which a cell counts as a river.")
  var riverAreaKm2 = 1.0

  @Option(
    help: """
      Cells a side of the tiles worked one at a time (memory grows with the tile, not the \
      DEM; the layers are the same for any size).
      """)
  var tileSize = TerrainLayers.defaultTileSize

  func validate() throws {
    guard riverAreaKm2 > 0 else { throw ValidationError("--river-area-km2 must be positive") }
    guard tileSize > 0 else { throw ValidationError("--tile-size must be positive") }
  }

  func run() throws {
    ComputeReport.log()
    let raster = try RasterDataset(path: dem)
    let cells = try TerrainLayers.write(
      raster, tileSize: tileSize, riverArea: riverAreaKm2 * 1e6, to: out)
    print(
      "\(dem): \(raster.grid.width)×\(raster.grid.height) cells (\(cells) with data), "
        + "tiles of \(tileSize) → \(TerrainLayer.allCases.count) layers in \(out)")
  }
}
