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

  func validate() throws {
    guard riverAreaKm2 > 0 else { throw ValidationError("--river-area-km2 must be positive") }
  }

  func run() throws {
    ComputeReport.log()
    let model = try ElevationModel(contentsOf: dem)
    try TerrainLayers.write(model, riverArea: riverAreaKm2 * 1e6, to: out)
    print(
      "\(dem): \(model.width)×\(model.height) cells → \(TerrainLayer.allCases.count) layers in \(out)"
    )
  }
}
