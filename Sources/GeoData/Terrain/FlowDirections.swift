import HeapModule

/// D8 flow directions on the filled DEM, tile by tile.
///
/// A cell with a lower neighbour sends its flow down the steepest drop (drop over distance,
/// diagonals √(Δx² + Δy²) away; the first of equals in `FlowRouting.neighbours` order).
/// Filling leaves flats — filled depressions and level ground — whose cells have no lower
/// neighbour: each flat cell drains towards the nearest outlet of its flat (a cell of the
/// same level with a lower neighbour, or beside the raster's edge or nodata), stepping to
/// the first neighbour one step nearer. Distances over a flat are counted in steps between
/// neighbours (Garbrecht & Martz's gradient towards lower terrain); they are unique, so
/// tiles give the whole-raster directions exactly: a flat crossing tile borders is relaxed
/// tile by tile until no border distance changes.
enum FlowDirections {
  /// No downstream neighbour: the cell drains off the raster or into nodata.
  static let outlet: UInt8 = 0xFF
  /// No data.
  static let noData: UInt8 = 0xFE

  /// Not yet reached over a flat.
  private static let unreached = Int32.max

  private struct Step: Comparable {
    let distance: Int32
    let local: Int
    static func < (lhs: Step, rhs: Step) -> Bool {
      (lhs.distance, lhs.local) < (rhs.distance, rhs.local)
    }
  }

  /// Writes each cell's direction (an index into `FlowRouting.neighbours`, `outlet` or
  /// `noData`) into `directions`.
  static func compute(
    layout: TileLayout, filled: ScratchLayer<Float>, borderLevels: [Int: Float],
    cellWidth: [Double], cellHeight: [Double], into directions: ScratchLayer<UInt8>
  ) throws(RasterError) {
    func framed(_ tile: Int) throws(RasterError) -> (TileFrame, [Float]) {
      let frame = layout.frame(tile)
      return (
        frame, frame.framed(try filled.read(tile), outside: .nan) { borderLevels[$0] ?? .nan }
      )
    }
    // Border distances settle first: a tile is worked again while a neighbour's change can
    // reach it, i.e. a changed border cell has a halo neighbour at its level.
    var borderDistance: [Int: Int32] = [:]
    var pending = Set(0..<layout.count)
    while !pending.isEmpty {
      var next = Set<Int>()
      for tile in pending.sorted() {
        let (frame, levels) = try framed(tile)
        let distance = flatDistances(levels, frame) { borderDistance[$0] }
        for local in frame.border where !levels[local].isNaN {
          let cell = frame.global(local)
          guard borderDistance[cell] != distance[local] else { continue }
          borderDistance[cell] = distance[local]
          let reachesOut = frame.neighbourOffsets.contains {
            !frame.isInside(local + $0) && levels[local + $0] == levels[local]
          }
          if reachesOut { next.formUnion(layout.neighbours(of: tile)) }
        }
      }
      pending = next
    }
    for tile in 0..<layout.count {
      let (frame, levels) = try framed(tile)
      let distance = flatDistances(levels, frame) { borderDistance[$0] }
      var result = [UInt8](repeating: noData, count: frame.window.width * frame.window.height)
      let offsets = frame.neighbourOffsets
      for row in 0..<frame.window.height {
        let globalRow = frame.window.y + row
        let lengths = FlowRouting.neighbours.map { dr, dc -> Double in
          let dx = Double(dc) * cellWidth[globalRow]
          let dy = Double(dr) * cellHeight[globalRow]
          return (dx * dx + dy * dy).squareRoot()
        }
        for column in 0..<frame.window.width {
          let local = frame.local(row, column)
          let level = levels[local]
          guard !level.isNaN else { continue }
          var steepest = 0.0
          var target = -1
          for (k, offset) in offsets.enumerated() where !levels[local + offset].isNaN {
            let drop = Double(level - levels[local + offset]) / lengths[k]
            if drop > steepest {
              steepest = drop
              target = k
            }
          }
          if target < 0, distance[local] > 0 {
            target = offsets.firstIndex {
              levels[local + $0] == level && distance[local + $0] == distance[local] - 1
            }!
          }
          result[row * frame.window.width + column] = target < 0 ? outlet : UInt8(target)
        }
      }
      try directions.write(tile, result)
    }
  }

  /// Steps from each cell to the nearest outlet of its flat (0 for outlets and for cells
  /// with a lower neighbour), in the frame; halo cells take `border` of their raster index
  /// (nil: not known yet), and a flat the tile cannot see out of stays `unreached`.
  private static func flatDistances(
    _ levels: [Float], _ frame: TileFrame, border: (Int) -> Int32?
  ) -> [Int32] {
    var distance = [Int32](repeating: unreached, count: frame.count)
    let offsets = frame.neighbourOffsets
    var heap = Heap<Step>()
    for local in frame.halo where !levels[local].isNaN {
      distance[local] = border(frame.global(local)) ?? unreached
    }
    var flat: [Int] = []
    for row in 0..<frame.window.height {
      for column in 0..<frame.window.width {
        let local = frame.local(row, column)
        let level = levels[local]
        guard !level.isNaN else { continue }
        let drains = offsets.contains { levels[local + $0].isNaN || levels[local + $0] < level }
        if drains { distance[local] = 0 } else { flat.append(local) }
      }
    }
    for local in flat {
      var best = unreached
      for offset in offsets where levels[local + offset] == levels[local] {
        let known = distance[local + offset]
        // Tile cells still flat count later; outlets (0) and halo cells count now.
        if known != unreached, known == 0 || !frame.isInside(local + offset) {
          best = min(best, known + 1)
        }
      }
      if best != unreached {
        distance[local] = best
        heap.insert(Step(distance: best, local: local))
      }
    }
    while let step = heap.popMin() {
      guard step.distance == distance[step.local] else { continue }
      for offset in offsets {
        let neighbour = step.local + offset
        guard frame.isInside(neighbour), levels[neighbour] == levels[step.local],
          distance[neighbour] > step.distance + 1
        else { continue }
        distance[neighbour] = step.distance + 1
        heap.insert(Step(distance: step.distance + 1, local: neighbour))
      }
    }
    return distance
  }
}
