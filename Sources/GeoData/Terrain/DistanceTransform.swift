/// Exact Euclidean distance to the nearest marked cell, in metres, by the two-pass
/// lower-envelope algorithm of Felzenszwalb & Huttenlocher (2012) generalised to uneven
/// sample positions: first down each column (row positions from the cumulative cell
/// heights), then along each row with that row's cell width. On geographic grids the
/// second pass uses the target row's width for every row, a small approximation.
public enum DistanceTransform {
  /// Distances for a row-major grid; +∞ everywhere when nothing is marked.
  public static func distances(
    marked: [Bool], width: Int, height: Int, cellWidth: [Double], cellHeight: [Double]
  )
    -> [Double]
  {
    let rowPosition = rowPositions(cellHeight: cellHeight)
    var squared = [Double](repeating: .infinity, count: width * height)
    var column = [Double](repeating: 0, count: height)
    for c in 0..<width {
      for row in 0..<height { column[row] = marked[row * width + c] ? 0 : .infinity }
      let result = lowerEnvelope(column, positions: rowPosition)
      for row in 0..<height { squared[row * width + c] = result[row] }
    }
    for row in 0..<height {
      let positions = (0..<width).map { Double($0) * cellWidth[row] }
      let line = Array(squared[(row * width)..<((row + 1) * width)])
      let result = lowerEnvelope(line, positions: positions)
      for c in 0..<width { squared[row * width + c] = result[c] }
    }
    for index in squared.indices { squared[index] = squared[index].squareRoot() }
    return squared
  }

  /// Northing of each row's centre from the first's, in metres.
  static func rowPositions(cellHeight: [Double]) -> [Double] {
    var position = [Double](repeating: 0, count: cellHeight.count)
    for row in 1..<max(cellHeight.count, 1) {
      position[row] = position[row - 1] + (cellHeight[row - 1] + cellHeight[row]) / 2
    }
    return position
  }

  /// Squared distances from each cell of `marked` (tile-major in `layout`) to the nearest
  /// marked cell, into `squared`, then their roots handed to `body` tile by tile: the pass
  /// down the columns holds one column of tiles at a time, the pass along the rows one row
  /// of tiles, so memory grows with the raster's side, not its area. The values are those
  /// of `distances` exactly.
  static func distances(
    marked: ScratchLayer<Bool>, squared: ScratchLayer<Double>, cellWidth: [Double],
    cellHeight: [Double], _ body: (Int, [Double]) throws(RasterError) -> Void
  ) throws(RasterError) {
    let layout = marked.layout
    let rowPosition = rowPositions(cellHeight: cellHeight)
    let height = layout.height
    for tileColumn in 0..<layout.columns {
      let tiles = (0..<layout.rows).map { $0 * layout.columns + tileColumn }
      let stripWidth = layout.window(tiles[0]).width
      var strip = [Double](repeating: .infinity, count: stripWidth * height)
      for tile in tiles {
        let window = layout.window(tile)
        let values = try marked.read(tile)
        for row in 0..<window.height {
          for column in 0..<stripWidth where values[row * stripWidth + column] {
            strip[(window.y + row) * stripWidth + column] = 0
          }
        }
      }
      var line = [Double](repeating: 0, count: height)
      for column in 0..<stripWidth {
        for row in 0..<height { line[row] = strip[row * stripWidth + column] }
        let result = lowerEnvelope(line, positions: rowPosition)
        for row in 0..<height { strip[row * stripWidth + column] = result[row] }
      }
      for tile in tiles {
        let window = layout.window(tile)
        try squared.write(
          tile, Array(strip[(window.y * stripWidth)..<((window.y + window.height) * stripWidth)]))
      }
    }
    let width = layout.width
    for tileRow in 0..<layout.rows {
      let tiles = (0..<layout.columns).map { tileRow * layout.columns + $0 }
      let stripHeight = layout.window(tiles[0]).height
      var strip = [Double](repeating: 0, count: width * stripHeight)
      for tile in tiles {
        let window = layout.window(tile)
        let values = try squared.read(tile)
        for row in 0..<stripHeight {
          for column in 0..<window.width {
            strip[row * width + window.x + column] = values[row * window.width + column]
          }
        }
      }
      for row in 0..<stripHeight {
        let globalRow = tileRow * layout.size + row
        let positions = (0..<width).map { Double($0) * cellWidth[globalRow] }
        let result = lowerEnvelope(
          Array(strip[(row * width)..<((row + 1) * width)]), positions: positions)
        for column in 0..<width { strip[row * width + column] = result[column].squareRoot() }
      }
      for tile in tiles {
        let window = layout.window(tile)
        var values = [Double](repeating: 0, count: window.width * window.height)
        for row in 0..<window.height {
          for column in 0..<window.width {
            values[row * window.width + column] = strip[row * width + window.x + column]
          }
        }
        try body(tile, values)
      }
    }
  }

  /// d(p) = min_q (x_p − x_q)² + f(q) for increasing positions x.
  static func lowerEnvelope(_ f: [Double], positions x: [Double]) -> [Double] {
    let n = f.count
    var vertices = [Int](repeating: 0, count: n)
    var boundaries = [Double](repeating: 0, count: n + 1)
    var k = -1
    for q in 0..<n where f[q].isFinite {
      var s = -Double.infinity
      while k >= 0 {
        let v = vertices[k]
        s = ((f[q] + x[q] * x[q]) - (f[v] + x[v] * x[v])) / (2 * x[q] - 2 * x[v])
        if s <= boundaries[k] { k -= 1 } else { break }
      }
      k += 1
      vertices[k] = q
      boundaries[k] = k == 0 ? -.infinity : s
      boundaries[k + 1] = .infinity
    }
    guard k >= 0 else { return [Double](repeating: .infinity, count: n) }
    var result = [Double](repeating: 0, count: n)
    var j = 0
    for p in 0..<n {
      while boundaries[j + 1] < x[p] { j += 1 }
      let v = vertices[j]
      result[p] = (x[p] - x[v]) * (x[p] - x[v]) + f[v]
    }
    return result
  }
}
