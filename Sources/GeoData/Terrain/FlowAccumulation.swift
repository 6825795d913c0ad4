/// Cells draining through each cell (itself included), tile by tile, after Barnes (2017):
/// each tile accumulates its own cells and notes, for every cell whose flow leaves it, the
/// cell it enters and where the flow entering each border cell leaves the tile again; the
/// small graph of those links carries flow across tiles, and a second pass per tile adds
/// what enters it. Counts are integers, so the sums are exact in any order: tiles give
/// the whole-raster values.
enum FlowAccumulation {
  /// A cell whose flow leaves its tile.
  private struct Exit {
    let target: Int
    let local: Int
  }

  /// Hands `body` each tile's counts (row-major over its window; 0 where there is no data).
  static func accumulate(
    layout: TileLayout, directions: ScratchLayer<UInt8>,
    _ body: (Int, [Int]) throws(RasterError) -> Void
  ) throws(RasterError) {
    var exits: [Int: Exit] = [:]
    /// Where flow entering at a border cell leaves its tile (nil: it ends in the tile).
    var leavesAt: [Int: Int] = [:]
    if layout.count > 1 {
      for tile in 0..<layout.count {
        let frame = layout.frame(tile)
        let tileDirections = try directions.read(tile)
        let (counts, order) = local(tileDirections, frame, inflow: [:])
        // Downstream first: a cell's exit is its target's, or itself where it leaves.
        var exitOf = [Int](repeating: -1, count: counts.count)
        for index in order.reversed() {
          guard let target = target(of: index, tileDirections, frame) else { continue }
          if target.inside {
            exitOf[index] = exitOf[target.index]
          } else {
            let cell = frame.global(
              frame.local(index / frame.window.width, index % frame.window.width))
            exitOf[index] = cell
            exits[cell] = Exit(target: target.index, local: counts[index])
          }
        }
        for local in frame.border {
          let index = tileIndex(local, frame)
          guard tileDirections[index] != FlowDirections.noData, exitOf[index] >= 0 else { continue }
          leavesAt[frame.global(local)] = exitOf[index]
        }
      }
    }
    // Exits in upstream-first order: an exit's total is its own tile's count plus the
    // totals of the exits whose flow passes through it.
    var upstream: [Int: Int] = [:]
    for exit in exits.values {
      if let next = leavesAt[exit.target] { upstream[next, default: 0] += 1 }
    }
    var total: [Int: Int] = exits.mapValues { $0.local }
    var ready = exits.keys.filter { upstream[$0] == nil }
    var inflow: [Int: Int] = [:]
    while let cell = ready.popLast() {
      let exit = exits[cell]!
      inflow[exit.target, default: 0] += total[cell]!
      guard let next = leavesAt[exit.target] else { continue }
      total[next]! += total[cell]!
      upstream[next]! -= 1
      if upstream[next] == 0 { ready.append(next) }
    }
    for tile in 0..<layout.count {
      let frame = layout.frame(tile)
      let (counts, _) = local(try directions.read(tile), frame, inflow: inflow)
      try body(tile, counts)
    }
  }

  @inline(__always)
  private static func tileIndex(_ local: Int, _ frame: TileFrame) -> Int {
    (local / frame.stride - 1) * frame.window.width + local % frame.stride - 1
  }

  /// The cell a tile cell drains to: a tile index when inside, else a raster index.
  @inline(__always)
  private static func target(of index: Int, _ directions: [UInt8], _ frame: TileFrame)
    -> (index: Int, inside: Bool)?
  {
    let direction = directions[index]
    guard direction < 8 else { return nil }
    let (dr, dc) = FlowRouting.neighbours[Int(direction)]
    let (row, column) = (index / frame.window.width + dr, index % frame.window.width + dc)
    if row >= 0, row < frame.window.height, column >= 0, column < frame.window.width {
      return (row * frame.window.width + column, true)
    }
    return ((frame.window.y + row) * frame.rasterWidth + frame.window.x + column, false)
  }

  /// Counts within one tile, each cell starting at 1 plus what flows in from other tiles
  /// (`inflow`, by raster index), and the cells in upstream-first order.
  private static func local(_ directions: [UInt8], _ frame: TileFrame, inflow: [Int: Int])
    -> (counts: [Int], order: [Int])
  {
    let count = directions.count
    var counts = [Int](repeating: 0, count: count)
    var upstream = [UInt8](repeating: 0, count: count)
    for index in 0..<count where directions[index] != FlowDirections.noData {
      counts[index] = 1
      if let target = target(of: index, directions, frame), target.inside {
        upstream[target.index] += 1
      }
    }
    if !inflow.isEmpty {
      for local in frame.border {
        if let extra = inflow[frame.global(local)] { counts[tileIndex(local, frame)] += extra }
      }
    }
    var order: [Int] = []
    order.reserveCapacity(count)
    for index in 0..<count where directions[index] != FlowDirections.noData && upstream[index] == 0
    {
      order.append(index)
    }
    var next = 0
    while next < order.count {
      let index = order[next]
      next += 1
      guard let target = target(of: index, directions, frame), target.inside else { continue }
      counts[target.index] += counts[index]
      upstream[target.index] -= 1
      if upstream[target.index] == 0 { order.append(target.index) }
    }
    return (counts, order)
  }
}
