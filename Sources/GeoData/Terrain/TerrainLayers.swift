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

/// The terrain predictors of one DEM, worked tile by tile (`tileSize` cells a side, each
/// with a one-cell halo): a national DEM has 10⁸ cells, and memory holds a tile and a few
/// small graphs rather than whole layers. What later passes need again — the filled DEM,
/// flow directions, slope, the river mask — waits in scratch files. Every layer equals the
/// whole-raster one bit for bit, whatever the tile size: stencils see their neighbours
/// through the halo, depression filling, flat drainage and accumulation are exact across
/// tile borders (`DepressionFill`, `FlowDirections`, `FlowAccumulation`), and the distance
/// to rivers runs over strips of whole columns and whole rows.
public enum TerrainLayers {
  /// No-data value of the written layers (NaN cells become this).
  public static let noData: Float = -9999

  /// A multiple of GeoTIFF's 256-pixel blocks, so each tile writes whole blocks.
  public static let defaultTileSize = 1024

  /// Computes the layers and hands `body` each layer's values over each tile's window
  /// (row-major, NaN where the DEM has no data): first the six local layers tile by tile,
  /// then flow accumulation and wetness tile by tile, then the distance to rivers.
  /// - Parameter riverArea: upslope area (m²) from which a cell counts as a river.
  public static func produce(
    _ source: some ElevationSource, tileSize: Int = defaultTileSize, riverArea: Double = 1e6,
    _ body: (TerrainLayer, RasterWindow, [Float]) throws(RasterError) -> Void
  ) throws(RasterError) {
    let grid = source.grid
    let layout = TileLayout(width: grid.width, height: grid.height, size: tileSize)
    let (cellWidth, cellHeight) = ElevationModel.cellSizes(of: grid)
    let slopes = try ScratchLayer<Float>("slope", layout: layout)
    for tile in 0..<layout.count {
      let frame = layout.frame(tile)
      let window = frame.window
      // The frame as a DEM: its outer ring is clamped like the raster's edge, and cropped.
      let rows = (window.y - 1)...(window.y + window.height)
      let model = ElevationModel(
        grid: RasterGrid(
          width: frame.stride, height: window.height + 2, geoTransform: grid.geoTransform,
          crsWKT: ""),
        elevation: clampedAtTheEdge(try DepressionFill.framedElevations(source, frame), frame),
        cellWidth: rows.map { cellWidth[min(max($0, 0), grid.height - 1)] },
        cellHeight: rows.map { cellHeight[min(max($0, 0), grid.height - 1)] })
      try body(.elevation, window, frame.cropped(model.elevation))
      for (layer, quantity) in [
        (TerrainLayer.slope, SurfaceDerivatives.Quantity.slopeDegrees), (.northness, .northness),
        (.eastness, .eastness), (.profileCurvature, .profileCurvature),
        (.planCurvature, .planCurvature),
      ] {
        let values = frame.cropped(SurfaceDerivatives.layer(quantity, of: model))
        if layer == .slope { try slopes.write(tile, values) }
        try body(layer, window, values)
      }
    }

    let directions = try ScratchLayer<UInt8>("directions", layout: layout)
    do {
      let filled = try ScratchLayer<Float>("filled", layout: layout)
      let borderLevels = try DepressionFill.fill(source, layout: layout, into: filled)
      try FlowDirections.compute(
        layout: layout, filled: filled, borderLevels: borderLevels, cellWidth: cellWidth,
        cellHeight: cellHeight, into: directions)
    }

    let rivers = try ScratchLayer<Bool>("rivers", layout: layout)
    try FlowAccumulation.accumulate(layout: layout, directions: directions) {
      tile, counts throws(RasterError) in
      let window = layout.window(tile)
      var accumulation = [Float](repeating: .nan, count: counts.count)
      var wetness = try slopes.read(tile)
      var river = [Bool](repeating: false, count: counts.count)
      for row in 0..<window.height {
        let cellArea = cellWidth[window.y + row] * cellHeight[window.y + row]
        let contourWidth = cellArea.squareRoot()
        for column in 0..<window.width {
          let index = row * window.width + column
          guard counts[index] > 0 else { continue }
          let cells = Double(counts[index])
          accumulation[index] = Float(cells)
          let tangent = max(tan(Double(wetness[index]) * .pi / 180), 0.001)
          wetness[index] = Float(log(cells * cellArea / contourWidth / tangent))
          river[index] = cells * cellArea >= riverArea
        }
      }
      try rivers.write(tile, river)
      try body(.flowAccumulation, window, accumulation)
      try body(.twi, window, wetness)
    }

    let squared = try ScratchLayer<Double>("distances", layout: layout)
    try DistanceTransform.distances(
      marked: rivers, squared: squared, cellWidth: cellWidth, cellHeight: cellHeight
    ) { tile, distances throws(RasterError) in
      let window = layout.window(tile)
      let valid = try slopes.read(tile)
      let values = zip(distances, valid).map { distance, slope in
        slope.isNaN || distance.isInfinite ? Float.nan : Float(distance)
      }
      try body(.distanceToRiver, window, values)
    }
  }

  /// The frame with its cells off the raster taking the nearest raster cell's value, as
  /// the whole-raster stencils clamp at the edge.
  private static func clampedAtTheEdge(_ values: [Float], _ frame: TileFrame) -> [Float] {
    var values = values
    let window = frame.window
    for local in 0..<frame.count where !frame.isInside(local) {
      let (row, column) = (window.y + local / frame.stride - 1, window.x + local % frame.stride - 1)
      let clampedRow = min(max(row, 0), frame.rasterHeight - 1)
      let clampedColumn = min(max(column, 0), frame.rasterWidth - 1)
      guard (clampedRow, clampedColumn) != (row, column) else { continue }
      values[local] =
        values[(clampedRow - window.y + 1) * frame.stride + clampedColumn - window.x + 1]
    }
    return values
  }

  /// The layers of a DEM in memory as whole arrays, in `TerrainLayer.allCases` order (one
  /// tile: for rasters that fit in memory anyway).
  public static func produce(
    _ dem: ElevationModel, riverArea: Double = 1e6,
    _ body: (TerrainLayer, [Float]) throws(RasterError) -> Void
  ) throws(RasterError) {
    try produce(dem, tileSize: max(dem.width, dem.height), riverArea: riverArea) {
      layer, _, values throws(RasterError) in try body(layer, values)
    }
  }

  /// Writes one GeoTIFF per layer into `directory` (created if needed), a tile at a time,
  /// and returns the number of cells with data.
  @discardableResult
  public static func write(
    _ source: some ElevationSource, tileSize: Int = defaultTileSize, riverArea: Double = 1e6,
    to directory: String
  ) throws(RasterError) -> Int {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: directory,
        message: "cannot create the output directory (\(error.localizedDescription))")
    }
    var files: [TerrainLayer: GeoTIFFBandWriter] = [:]
    for layer in TerrainLayer.allCases {
      files[layer] = try GeoTIFFBandWriter(
        path: (directory as NSString).appendingPathComponent(layer.file), grid: source.grid,
        bandCount: 1, noDataValue: Double(noData))
    }
    var cells = 0
    try produce(source, tileSize: tileSize, riverArea: riverArea) {
      layer, window, values throws(RasterError) in
      if layer == .elevation { cells += values.count { !$0.isNaN } }
      try files[layer]!.write(
        band: 0, description: layer.description, window: window, values: values)
    }
    for layer in TerrainLayer.allCases { try files[layer]!.finish() }
    return cells
  }
}
