/// A raster cut into square tiles (row-major; the last row and column may be narrower), so
/// that terrain work holds one tile at a time and its memory does not grow with the area.
///
/// A tile is worked on as a *frame*: the tile with a one-cell ring around it (the halo),
/// NaN where the ring falls off the raster, so every cell of the tile has its eight
/// neighbours at fixed offsets.
struct TileLayout: Sendable {
  let width: Int
  let height: Int
  let size: Int
  let columns: Int
  let rows: Int

  init(width: Int, height: Int, size: Int) {
    precondition(width > 0 && height > 0 && size > 0)
    self.width = width
    self.height = height
    self.size = size
    columns = (width + size - 1) / size
    rows = (height + size - 1) / size
  }

  var count: Int { columns * rows }

  func window(_ tile: Int) -> RasterWindow {
    let (x, y) = ((tile % columns) * size, (tile / columns) * size)
    return RasterWindow(x: x, y: y, width: min(size, width - x), height: min(size, height - y))
  }

  /// The tile holding the cell at (row, column) of the raster.
  func tile(row: Int, column: Int) -> Int { (row / size) * columns + column / size }

  /// Where the tile starts in tile-major storage, in cells: every tile is contiguous.
  func offset(_ tile: Int) -> Int {
    let window = window(tile)
    return window.y * width + window.x * window.height
  }

  /// The tiles sharing an edge or a corner with `tile`.
  func neighbours(of tile: Int) -> [Int] {
    let (row, column) = (tile / columns, tile % columns)
    var found: [Int] = []
    for r in max(row - 1, 0)...min(row + 1, rows - 1) {
      for c in max(column - 1, 0)...min(column + 1, columns - 1) where (r, c) != (row, column) {
        found.append(r * columns + c)
      }
    }
    return found
  }

  func frame(_ tile: Int) -> TileFrame {
    TileFrame(window: window(tile), rasterWidth: width, rasterHeight: height)
  }
}

/// One tile and its halo: local indices run row-major over (width + 2) × (height + 2).
struct TileFrame: Sendable {
  let window: RasterWindow
  let rasterWidth: Int
  let rasterHeight: Int
  var stride: Int { window.width + 2 }
  var count: Int { (window.width + 2) * (window.height + 2) }

  /// Offsets of the eight neighbours, in `FlowRouting.neighbours` order.
  var neighbourOffsets: [Int] { FlowRouting.neighbours.map { $0.0 * stride + $0.1 } }

  /// Frame index of the tile's cell at (row, column) of the tile.
  @inline(__always) func local(_ row: Int, _ column: Int) -> Int {
    (row + 1) * stride + column + 1
  }

  /// Raster index (row-major over the whole raster) of a frame index.
  @inline(__always) func global(_ local: Int) -> Int {
    (window.y + local / stride - 1) * rasterWidth + window.x + local % stride - 1
  }

  /// Whether a frame index is in the tile rather than its halo.
  @inline(__always) func isInside(_ local: Int) -> Bool {
    let (row, column) = (local / stride - 1, local % stride - 1)
    return row >= 0 && row < window.height && column >= 0 && column < window.width
  }

  /// Frame indices of the tile's border cells (its outermost rows and columns), each once.
  var border: [Int] {
    let (w, h) = (window.width, window.height)
    var cells: [Int] = []
    for row in 0..<h {
      if row == 0 || row == h - 1 {
        for column in 0..<w { cells.append(local(row, column)) }
      } else {
        cells.append(local(row, 0))
        if w > 1 { cells.append(local(row, w - 1)) }
      }
    }
    return cells
  }

  /// Frame indices of the halo cells that lie on the raster.
  var halo: [Int] {
    var cells: [Int] = []
    for local in 0..<count where !isInside(local) {
      let (row, column) = (window.y + local / stride - 1, window.x + local % stride - 1)
      if row >= 0 && column >= 0 && column < rasterWidth && row < rasterHeight {
        cells.append(local)
      }
    }
    return cells
  }

  /// The tile's values (row-major over the window) with a halo: `haloValue` gives each
  /// halo cell on the raster (by raster index), `outside` the rest.
  func framed<T>(_ tile: [T], outside: T, haloValue: (Int) -> T) -> [T] {
    var values = [T](repeating: outside, count: count)
    for row in 0..<window.height {
      for column in 0..<window.width {
        values[local(row, column)] = tile[row * window.width + column]
      }
    }
    for local in halo { values[local] = haloValue(global(local)) }
    return values
  }

  /// The tile's part of frame values, row-major over the window.
  func cropped<T>(_ values: [T]) -> [T] {
    var tile: [T] = []
    tile.reserveCapacity(window.width * window.height)
    for row in 0..<window.height {
      for column in 0..<window.width { tile.append(values[local(row, column)]) }
    }
    return tile
  }
}
