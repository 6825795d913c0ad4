/// Rows × columns of Float32, row-major: the table a classical model fits and predicts
/// (one row per pixel or point, one column per encoded feature).
public struct FeatureMatrix: Equatable, Sendable {
  public let rows: Int
  public let columns: Int
  /// Row-major, `rows × columns`.
  public var values: [Float]

  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(
      rows >= 0 && columns >= 0 && values.count == rows * columns,
      "\(values.count) values for \(rows) × \(columns)")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  public subscript(row: Int, column: Int) -> Float {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// One row's values.
  public func row(_ row: Int) -> ArraySlice<Float> {
    values[(row * columns)..<((row + 1) * columns)]
  }

  /// The given rows, in the given order (repeats allowed: a bootstrap sample).
  public func selecting<Rows: Collection<Int>>(rows indices: Rows) -> FeatureMatrix {
    var selected = [Float](repeating: 0, count: indices.count * columns)
    selected.withUnsafeMutableBufferPointer { out in
      values.withUnsafeBufferPointer { source in
        for (position, row) in indices.enumerated() {
          for column in 0..<columns {
            out[position * columns + column] = source[row * columns + column]
          }
        }
      }
    }
    return FeatureMatrix(rows: indices.count, columns: columns, values: selected)
  }

  /// The columns of `self` followed by those of `other`, row by row.
  public func appendingColumns(_ other: FeatureMatrix) -> FeatureMatrix {
    precondition(other.rows == rows, "\(other.rows) rows beside \(rows)")
    var joined = [Float]()
    joined.reserveCapacity(rows * (columns + other.columns))
    for row in 0..<rows {
      joined += self.row(row)
      joined += other.row(row)
    }
    return FeatureMatrix(rows: rows, columns: columns + other.columns, values: joined)
  }
}
