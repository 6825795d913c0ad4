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
    var rowPosition = [Double](repeating: 0, count: height)
    for row in 1..<max(height, 1) {
      rowPosition[row] = rowPosition[row - 1] + (cellHeight[row - 1] + cellHeight[row]) / 2
    }
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
