import Foundation

/// One terrain predictor of SPEC.md §1; the raw value is its file's base name.
public enum TerrainLayer: String, CaseIterable, Sendable {
  case elevation, slope, northness, eastness
  case profileCurvature = "profile_curvature"
  case planCurvature = "plan_curvature"
  /// Cells draining through each cell (D8 on the filled DEM), itself included.
  case flowAccumulation = "flow_accumulation"
  /// ln(a / tan β): a = upslope area per unit contour width (m), tan β ≥ 0.001.
  case twi
  /// Metres to the nearest cell whose upslope area reaches the river threshold.
  case distanceToRiver = "distance_to_river"

  public var file: String { "\(rawValue).tif" }

  /// The band description of its GeoTIFF.
  public var description: String {
    switch self {
    case .elevation: "elevation (m)"
    case .slope: "slope (degrees)"
    case .northness: "northness (cos aspect)"
    case .eastness: "eastness (sin aspect)"
    case .profileCurvature: "profile curvature (1/m)"
    case .planCurvature: "plan curvature (1/m)"
    case .flowAccumulation: "flow accumulation (cells)"
    case .twi: "topographic wetness index"
    case .distanceToRiver: "distance to river (m)"
    }
  }
}

/// The terrain predictors computed from one DEM, on its grid, one layer at a time: a
/// national DEM has 10⁸ cells and its nine layers together would not fit in memory, so
/// each is handed on and released before the next (the DEM and what flow routing needs
/// are held whole, routing being global).
public enum TerrainLayers {
  /// No-data value of the written layers (NaN cells become this).
  public static let noData: Float = -9999

  /// Computes the layers in `TerrainLayer.allCases` order and hands each to `body`, NaN
  /// where the DEM has no data; a layer `body` keeps stays valid.
  /// - Parameter riverArea: upslope area (m²) from which a cell counts as a river.
  public static func produce<Failure: Error>(
    _ dem: ElevationModel, riverArea: Double = 1e6,
    _ body: (TerrainLayer, [Float]) throws(Failure) -> Void
  ) throws(Failure) {
    try body(.elevation, dem.elevation)
    // The derivatives one at a time; the slope stays for the wetness index.
    let slope = SurfaceDerivatives.layer(.slopeDegrees, of: dem)
    try body(.slope, slope)
    for (layer, quantity) in [
      (TerrainLayer.northness, SurfaceDerivatives.Quantity.northness), (.eastness, .eastness),
      (.profileCurvature, .profileCurvature), (.planCurvature, .planCurvature),
    ] {
      try body(layer, SurfaceDerivatives.layer(quantity, of: dem))
    }
    var river: [Bool]
    do {
      let accumulation = FlowRouting(dem).accumulation
      // Made after routing, whose arrays are the peak of memory.
      river = [Bool](repeating: false, count: accumulation.count)
      try body(.flowAccumulation, accumulation)
      // The wetness index takes over the slope's storage, reading each cell's slope first.
      var wetness = consume slope
      for row in 0..<dem.height {
        let cellArea = dem.cellWidth[row] * dem.cellHeight[row]
        let contourWidth = cellArea.squareRoot()
        for column in 0..<dem.width {
          let index = row * dem.width + column
          let cells = Double(accumulation[index])
          guard !cells.isNaN else { continue }
          let tangent = max(tan(Double(wetness[index]) * .pi / 180), 0.001)
          wetness[index] = Float(log(cells * cellArea / contourWidth / tangent))
          river[index] = cells * cellArea >= riverArea
        }
      }
      try body(.twi, wetness)
    }
    let distanceToRiver: [Float]
    do {
      let distances = DistanceTransform.distances(
        marked: consume river, width: dem.width, height: dem.height, cellWidth: dem.cellWidth,
        cellHeight: dem.cellHeight)
      distanceToRiver = zip(distances, dem.elevation).map { distance, z in
        z.isNaN || distance.isInfinite ? .nan : Float(distance)
      }
    }
    try body(.distanceToRiver, distanceToRiver)
  }

  /// Writes one GeoTIFF per layer into `directory` (created if needed).
  public static func write(_ dem: ElevationModel, riverArea: Double = 1e6, to directory: String)
    throws(RasterError)
  {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: directory,
        message: "cannot create the output directory (\(error.localizedDescription))")
    }
    try produce(dem, riverArea: riverArea) { layer, values throws(RasterError) in
      try writeGeoTIFF(
        path: (directory as NSString).appendingPathComponent(layer.file), grid: dem.grid,
        bands: [RasterBand(description: layer.description, values: values)],
        noDataValue: Double(noData))
    }
  }
}
