import HeapModule

/// D8 flow routing on a depression-filled DEM.
///
/// Depressions are filled by Priority-Flood+ε (Barnes, Lehman & Mulla 2014): cells are
/// flooded inwards from the edges (and from nodata) in order of elevation, each raised to
/// just above the cell it was reached from, so every cell drains to an edge and flats get
/// a gradient. Each cell then sends its flow to the neighbour of steepest descent (drop
/// over distance, diagonals √(Δx² + Δy²) away); accumulation adds cells from the highest
/// down, which the flooding order already gives.
public struct FlowRouting: Sendable {
  /// Elevations after filling; NaN where the DEM has no data.
  public let filled: [Float]
  /// Cells draining through each cell, itself included; NaN where the DEM has no data.
  public let accumulation: [Float]

  private struct Entry: Comparable {
    let elevation: Float
    /// Insertion number: equal elevations leave the heap first in, first out.
    let order: Int
    let index: Int

    static func < (lhs: Entry, rhs: Entry) -> Bool {
      (lhs.elevation, lhs.order) < (rhs.elevation, rhs.order)
    }
  }

  static let neighbours = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

  public init(_ dem: ElevationModel) {
    let (width, height) = (dem.width, dem.height)
    var filled = dem.elevation
    var closed = [Bool](repeating: false, count: filled.count)
    var heap = Heap<Entry>()
    var order = 0
    func isValid(_ row: Int, _ column: Int) -> Bool {
      row >= 0 && row < height && column >= 0 && column < width
        && !filled[row * width + column].isNaN
    }
    // Seeds: valid cells on the grid's edge or next to nodata.
    for row in 0..<height {
      for column in 0..<width where isValid(row, column) {
        let open = FlowRouting.neighbours.contains { !isValid(row + $0.0, column + $0.1) }
        guard open else { continue }
        let index = row * width + column
        closed[index] = true
        heap.insert(Entry(elevation: filled[index], order: order, index: index))
        order += 1
      }
    }
    // 4 bytes a cell rather than 8: at national size (1.6 × 10⁸ cells) the order is the
    // largest array routing holds.
    precondition(filled.count <= Int(UInt32.max), "FlowRouting: more than 2³² cells")
    var floodOrder: [UInt32] = []
    floodOrder.reserveCapacity(filled.count)
    while let cell = heap.popMin() {
      floodOrder.append(UInt32(cell.index))
      let (row, column) = (cell.index / width, cell.index % width)
      for (dr, dc) in FlowRouting.neighbours where isValid(row + dr, column + dc) {
        let neighbour = (row + dr) * width + column + dc
        guard !closed[neighbour] else { continue }
        closed[neighbour] = true
        filled[neighbour] = max(filled[neighbour], filled[cell.index].nextUp)
        heap.insert(Entry(elevation: filled[neighbour], order: order, index: neighbour))
        order += 1
      }
    }

    closed = []  // released before the accumulation is allocated: peak memory at national size
    var accumulation = dem.elevation.map { $0.isNaN ? Float.nan : 1 }
    // Highest first: every cell has received its upstream flow before passing it on.
    for order in floodOrder.reversed() {
      let index = Int(order)
      let (row, column) = (index / width, index % width)
      var steepest = 0.0
      var target = -1
      for (dr, dc) in FlowRouting.neighbours where isValid(row + dr, column + dc) {
        let neighbour = (row + dr) * width + column + dc
        let dx = Double(dc) * dem.cellWidth[row]
        let dy = Double(dr) * dem.cellHeight[row]
        let drop = Double(filled[index] - filled[neighbour]) / (dx * dx + dy * dy).squareRoot()
        if drop > steepest {
          steepest = drop
          target = neighbour
        }
      }
      if target >= 0 { accumulation[target] += accumulation[index] }
    }
    self.filled = filled
    self.accumulation = accumulation
  }
}
