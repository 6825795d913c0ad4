import HeapModule

/// Depression filling, tile by tile, after Barnes, Lehman & Mulla's parallel Priority-Flood
/// (2016). The filled elevation of a cell is the lowest level at which water standing on it
/// could leave the raster: over all paths from the cell to the edge or to nodata, the
/// least of the path's highest elevation. That level is unique, so the tiled result is the
/// whole-raster one exactly, whatever the tiles.
///
/// 1. Each tile is flooded from its border cells (each its own watershed label) and from
///    cells beside nodata or the raster's edge (the "ocean"); where two watersheds meet,
///    the lower of their meeting levels joins them in a graph whose nodes are border cells.
///    Border cells of neighbouring tiles are joined at the higher of their elevations.
/// 2. The graph is flooded from the ocean: each border cell's filled level.
/// 3. Each tile is flooded again with its border cells seeded at those levels.
enum DepressionFill {
  private struct Entry: Comparable {
    let level: Float
    /// Insertion number: equal levels leave first in, first out.
    let order: Int
    let local: Int

    static func < (lhs: Entry, rhs: Entry) -> Bool {
      (lhs.level, lhs.order) < (rhs.level, rhs.order)
    }
  }

  /// The seeds of a tile's flood: border cells and cells beside the ocean.
  private struct Seed {
    let local: Int
    let level: Float
    let label: Int32
  }

  static let ocean: Int32 = 0

  /// Fills every tile into `filled` and returns the filled level of every border cell by
  /// raster index (what later passes need of a tile's halo; empty for a single tile).
  static func fill(
    _ source: some ElevationSource, layout: TileLayout, into filled: ScratchLayer<Float>
  ) throws(RasterError) -> [Int: Float] {
    var graph = SpillGraph()
    if layout.count > 1 {
      for tile in 0..<layout.count {
        let frame = layout.frame(tile)
        let z = try framedElevations(source, frame)
        var seeds: [Seed] = []
        for local in frame.border where !z[local].isNaN {
          let node = graph.node(frame.global(local))
          seeds.append(Seed(local: local, level: z[local], label: node))
          if isBesideOcean(local, z, frame) { graph.join(ocean, node, z[local]) }
          for offset in frame.neighbourOffsets where !frame.isInside(local + offset) {
            let neighbour = local + offset
            guard !z[neighbour].isNaN else { continue }
            graph.join(node, graph.node(frame.global(neighbour)), max(z[local], z[neighbour]))
          }
        }
        seeds += oceanSeeds(z, frame)
        _ = flood(z, frame, seeds) { a, b, level in graph.join(a, b, level) }
      }
    }
    let borderLevels = graph.levels()
    for tile in 0..<layout.count {
      let frame = layout.frame(tile)
      let z = try framedElevations(source, frame)
      var seeds: [Seed] = []
      for local in frame.border where !z[local].isNaN {
        // A single tile's border is the raster's edge: each cell is its own outlet.
        let level = layout.count > 1 ? borderLevels[frame.global(local)]! : z[local]
        seeds.append(Seed(local: local, level: level, label: ocean))
      }
      seeds += oceanSeeds(z, frame)
      let levels = flood(z, frame, seeds, meeting: nil)
      try filled.write(tile, frame.cropped(levels))
    }
    // A single tile has no halo on the raster: nothing needs its border levels.
    return borderLevels
  }

  /// The tile's elevations in its frame, NaN off the raster.
  static func framedElevations(_ source: some ElevationSource, _ frame: TileFrame)
    throws(RasterError) -> [Float]
  {
    let w = frame.window
    let x0 = max(w.x - 1, 0)
    let y0 = max(w.y - 1, 0)
    let x1 = min(w.x + w.width + 1, frame.rasterWidth)
    let y1 = min(w.y + w.height + 1, frame.rasterHeight)
    let read = try source.elevations(
      in: RasterWindow(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
    var values = [Float](repeating: .nan, count: frame.count)
    for row in y0..<y1 {
      for column in x0..<x1 {
        let local = (row - w.y + 1) * frame.stride + column - w.x + 1
        values[local] = read[(row - y0) * (x1 - x0) + column - x0]
      }
    }
    return values
  }

  /// Whether a tile cell has a neighbour without data (nodata or off the raster).
  @inline(__always)
  static func isBesideOcean(_ local: Int, _ values: [Float], _ frame: TileFrame) -> Bool {
    frame.neighbourOffsets.contains { values[local + $0].isNaN }
  }

  /// Tile cells off the border beside nodata: they drain at their own elevation.
  private static func oceanSeeds(_ z: [Float], _ frame: TileFrame) -> [Seed] {
    var seeds: [Seed] = []
    let offsets = frame.neighbourOffsets
    for row in 1..<max(frame.window.height - 1, 1) {
      for column in 1..<max(frame.window.width - 1, 1) {
        let local = frame.local(row, column)
        guard !z[local].isNaN, offsets.contains(where: { z[local + $0].isNaN }) else { continue }
        seeds.append(Seed(local: local, level: z[local], label: ocean))
      }
    }
    return seeds
  }

  /// Priority-Flood of the tile from `seeds`: each cell is raised to the level of the cell
  /// it is reached from, when that is higher. `meeting` hears each pair of labels whose
  /// watersheds touch, with the level at which they do. Returns the levels, NaN outside.
  private static func flood(
    _ z: [Float], _ frame: TileFrame, _ seeds: [Seed],
    meeting: ((Int32, Int32, Float) -> Void)?
  ) -> [Float] {
    var levels = [Float](repeating: .nan, count: frame.count)
    var labels = [Int32](repeating: -1, count: meeting == nil ? 0 : frame.count)
    var reached = [Bool](repeating: false, count: frame.count)
    for local in 0..<frame.count where !frame.isInside(local) || z[local].isNaN {
      reached[local] = true
    }
    var heap = Heap<Entry>()
    var order = 0
    for seed in seeds where !reached[seed.local] {
      reached[seed.local] = true
      levels[seed.local] = max(seed.level, z[seed.local])
      if meeting != nil { labels[seed.local] = seed.label }
      heap.insert(Entry(level: levels[seed.local], order: order, local: seed.local))
      order += 1
    }
    let offsets = frame.neighbourOffsets
    while let cell = heap.popMin() {
      for offset in offsets {
        let neighbour = cell.local + offset
        if reached[neighbour] {
          if let meeting, labels[neighbour] >= 0, labels[neighbour] != labels[cell.local] {
            meeting(labels[cell.local], labels[neighbour], max(cell.level, levels[neighbour]))
          }
          continue
        }
        reached[neighbour] = true
        levels[neighbour] = max(z[neighbour], cell.level)
        if meeting != nil { labels[neighbour] = labels[cell.local] }
        heap.insert(Entry(level: levels[neighbour], order: order, local: neighbour))
        order += 1
      }
    }
    return levels
  }
}

/// Border cells of all tiles and the ocean, joined at the level water needs to pass
/// between them; flooding it from the ocean gives each border cell its filled level.
private struct SpillGraph {
  /// Raster index of each node; node 0 is the ocean.
  private var cells: [Int] = [-1]
  private var nodes: [Int: Int32] = [:]
  /// The lowest joining level of each pair (smaller node in the high half of the key).
  private var edges: [UInt64: Float] = [:]

  mutating func node(_ cell: Int) -> Int32 {
    if let node = nodes[cell] { return node }
    let node = Int32(cells.count)
    cells.append(cell)
    nodes[cell] = node
    return node
  }

  mutating func join(_ a: Int32, _ b: Int32, _ level: Float) {
    guard a != b else { return }
    let key = UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b)))
    if let known = edges[key], known <= level { return }
    edges[key] = level
  }

  /// The filled level of every border cell, by raster index.
  func levels() -> [Int: Float] {
    var adjacency = [[(Int32, Float)]](repeating: [], count: cells.count)
    for (key, level) in edges {
      let (a, b) = (
        Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key & 0xFFFF_FFFF)
      )
      adjacency[Int(a)].append((b, level))
      adjacency[Int(b)].append((a, level))
    }
    var level = [Float](repeating: .infinity, count: cells.count)
    var done = [Bool](repeating: false, count: cells.count)
    var heap = Heap<Pair>()
    level[0] = -.infinity
    heap.insert(Pair(level: -.infinity, node: 0))
    while let next = heap.popMin() {
      guard !done[Int(next.node)] else { continue }
      done[Int(next.node)] = true
      for (neighbour, joining) in adjacency[Int(next.node)] where !done[Int(neighbour)] {
        let candidate = max(next.level, joining)
        if candidate < level[Int(neighbour)] {
          level[Int(neighbour)] = candidate
          heap.insert(Pair(level: candidate, node: neighbour))
        }
      }
    }
    var result: [Int: Float] = [:]
    result.reserveCapacity(cells.count)
    for node in 1..<cells.count {
      precondition(done[node], "DepressionFill: border cell \(cells[node]) cannot drain")
      result[cells[node]] = level[node]
    }
    return result
  }

  private struct Pair: Comparable {
    let level: Float
    let node: Int32
    static func < (lhs: Pair, rhs: Pair) -> Bool { (lhs.level, lhs.node) < (rhs.level, rhs.node) }
  }
}
