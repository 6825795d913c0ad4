/// The filled DEM and flow accumulation of a DEM in memory, as whole arrays: the tiled
/// passes of `TerrainLayers` (`DepressionFill`, `FlowDirections`, `FlowAccumulation`)
/// gathered back, for callers and tests that want the routing itself.
///
/// Depressions are filled to their spill level (plain filling: flats stay level) and flats
/// drain towards their nearest outlet; each cell sends its flow to the neighbour of
/// steepest descent.
public struct FlowRouting: Sendable {
  /// Elevations after filling; NaN where the DEM has no data.
  public let filled: [Float]
  /// Cells draining through each cell, itself included; NaN where the DEM has no data.
  public let accumulation: [Float]

  static let neighbours = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

  /// Routes `dem` in tiles of `tileSize` cells a side (one tile when nil); the result is
  /// the same for every tile size.
  public init(_ dem: ElevationModel, tileSize: Int? = nil) throws(RasterError) {
    let layout = TileLayout(
      width: dem.width, height: dem.height, size: tileSize ?? max(dem.width, dem.height))
    let filledTiles = try ScratchLayer<Float>("filled", layout: layout)
    let directions = try Self.directions(dem, layout: layout, filled: filledTiles)
    var filled = [Float](repeating: .nan, count: dem.width * dem.height)
    var accumulation = filled
    func place(_ tile: Int, _ values: [Float], into whole: inout [Float]) {
      let window = layout.window(tile)
      for row in 0..<window.height {
        for column in 0..<window.width {
          whole[(window.y + row) * dem.width + window.x + column] =
            values[row * window.width + column]
        }
      }
    }
    for tile in 0..<layout.count { place(tile, try filledTiles.read(tile), into: &filled) }
    try FlowAccumulation.accumulate(layout: layout, directions: directions) { tile, counts in
      place(tile, counts.map { $0 > 0 ? Float($0) : .nan }, into: &accumulation)
    }
    self.filled = filled
    self.accumulation = accumulation
  }

  /// Fills `dem` into `filled` and returns its flow directions, tile by tile.
  static func directions(_ dem: ElevationModel, layout: TileLayout, filled: ScratchLayer<Float>)
    throws(RasterError) -> ScratchLayer<UInt8>
  {
    let directions = try ScratchLayer<UInt8>("directions", layout: layout)
    let borderLevels = try DepressionFill.fill(dem, layout: layout, into: filled)
    try FlowDirections.compute(
      layout: layout, filled: filled, borderLevels: borderLevels, cellWidth: dem.cellWidth,
      cellHeight: dem.cellHeight, into: directions)
    return directions
  }
}
