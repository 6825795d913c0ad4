import Foundation

/// The terrain predictors of SPEC.md §1 computed from one DEM, on its grid.
public struct TerrainLayers: Sendable {
  public let grid: RasterGrid
  public let elevation: [Float]
  public let derivatives: SurfaceDerivatives
  /// Cells draining through each cell (D8 on the filled DEM), itself included.
  public let flowAccumulation: [Float]
  /// ln(a / tan β): a = upslope area per unit contour width (m), tan β ≥ 0.001.
  public let wetnessIndex: [Float]
  /// Metres to the nearest cell whose upslope area reaches the river threshold.
  public let distanceToRiver: [Float]

  /// - Parameter riverArea: upslope area (m²) from which a cell counts as a river.
  public init(_ dem: ElevationModel, riverArea: Double = 1e6) {
    grid = dem.grid
    elevation = dem.elevation
    derivatives = SurfaceDerivatives(dem)
    let flow = FlowRouting(dem)
    flowAccumulation = flow.accumulation
    var wetness = [Float](repeating: .nan, count: elevation.count)
    var river = [Bool](repeating: false, count: elevation.count)
    for row in 0..<dem.height {
      let cellArea = dem.cellWidth[row] * dem.cellHeight[row]
      let contourWidth = cellArea.squareRoot()
      for column in 0..<dem.width {
        let index = row * dem.width + column
        let cells = Double(flow.accumulation[index])
        guard !cells.isNaN else { continue }
        let tangent = max(tan(Double(derivatives.slopeDegrees[index]) * .pi / 180), 0.001)
        wetness[index] = Float(log(cells * cellArea / contourWidth / tangent))
        river[index] = cells * cellArea >= riverArea
      }
    }
    wetnessIndex = wetness
    let distances = DistanceTransform.distances(
      marked: river, width: dem.width, height: dem.height, cellWidth: dem.cellWidth,
      cellHeight: dem.cellHeight)
    distanceToRiver = zip(distances, elevation).map { distance, z in
      z.isNaN || distance.isInfinite ? .nan : Float(distance)
    }
  }

  /// File name, band description and values of each layer, in SPEC order.
  public var layers: [(file: String, description: String, values: [Float])] {
    [
      ("elevation.tif", "elevation (m)", elevation),
      ("slope.tif", "slope (degrees)", derivatives.slopeDegrees),
      ("northness.tif", "northness (cos aspect)", derivatives.northness),
      ("eastness.tif", "eastness (sin aspect)", derivatives.eastness),
      ("profile_curvature.tif", "profile curvature (1/m)", derivatives.profileCurvature),
      ("plan_curvature.tif", "plan curvature (1/m)", derivatives.planCurvature),
      ("flow_accumulation.tif", "flow accumulation (cells)", flowAccumulation),
      ("twi.tif", "topographic wetness index", wetnessIndex),
      ("distance_to_river.tif", "distance to river (m)", distanceToRiver),
    ]
  }

  /// No-data value of the written layers (NaN cells become this).
  public static let noData: Float = -9999

  /// Writes one GeoTIFF per layer into `directory` (created if needed).
  public func write(to directory: String) throws(RasterError) {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: directory,
        message: "cannot create the output directory (\(error.localizedDescription))")
    }
    for layer in layers {
      let values = layer.values.map { $0.isNaN ? TerrainLayers.noData : $0 }
      try writeGeoTIFF(
        path: (directory as NSString).appendingPathComponent(layer.file), grid: grid,
        bands: [RasterBand(description: layer.description, values: values)],
        noDataValue: Double(TerrainLayers.noData))
    }
  }
}
