import Foundation

/// Raw factor values → model columns, fitted on the training table and stored with every
/// model: continuous factors min–max scaled to [0, 1] (the seed's x′ = (x − min)/(max −
/// min), a constant column → 0), categorical factors one-hot over the study's classes (for
/// LR, KNN and networks, which measure distances or weigh columns linearly) or kept as
/// codes (for trees, which only compare). A code the study did not hold is an error.
public struct FeatureEncoder: Codable, Equatable, Sendable {
  public var columns: [TableColumn]
  public var oneHot: Bool
  /// Per raw column, from the training table (unused for categorical columns).
  public var minimum: [Float]
  public var maximum: [Float]

  public static let metadataKey = "encoder"

  /// Fits the scaling on `table`'s rows.
  public init(fittedOn table: PixelTable, oneHot: Bool) {
    columns = table.columns
    self.oneHot = oneHot
    minimum = [Float](repeating: .infinity, count: table.columns.count)
    maximum = [Float](repeating: -.infinity, count: table.columns.count)
    for row in 0..<table.rows {
      for (column, value) in table.features.row(row).enumerated() {
        minimum[column] = min(minimum[column], value)
        maximum[column] = max(maximum[column], value)
      }
    }
  }

  /// The model columns' names: a factor's own name, or `name=code` per one-hot class.
  public var encodedNames: [String] {
    columns.flatMap { column -> [String] in
      guard oneHot, let categories = column.categories else { return [column.name] }
      return categories.map { "\(column.name)=\($0)" }
    }
  }

  /// Encodes raw rows; `source` names them in errors (a table file, a raster window).
  public func encode(_ raw: FeatureMatrix, source: String) throws(ClassicalError) -> FeatureMatrix {
    guard raw.columns == columns.count else {
      throw ClassicalError(
        source, "\(raw.columns) factor columns; the model was fitted on \(columns.count)")
    }
    let width = encodedNames.count
    var out = [Float](repeating: 0, count: raw.rows * width)
    // Per column: where its output starts and, for categorical ones, code → position.
    var starts: [Int] = []
    var lookup: [[Int: Int]] = []
    var next = 0
    for column in columns {
      starts.append(next)
      let categories = column.categories ?? []
      lookup.append(Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) }))
      next += oneHot && column.isCategorical ? categories.count : 1
    }
    for row in 0..<raw.rows {
      let base = row * width
      for column in 0..<columns.count {
        let value = raw[row, column]
        if columns[column].isCategorical {
          guard value.isFinite, value == value.rounded(), let position = lookup[column][Int(value)]
          else {
            throw ClassicalError(
              source,
              "row \(row): \(columns[column].name) holds class \(value), which the study the "
                + "model was fitted on does not have (classes "
                + "\(columns[column].categories!.map(String.init).joined(separator: ", ")))")
          }
          if oneHot {
            out[base + starts[column] + position] = 1
          } else {
            out[base + starts[column]] = value
          }
        } else {
          let range = maximum[column] - minimum[column]
          out[base + starts[column]] = range > 0 ? (value - minimum[column]) / range : 0
        }
      }
    }
    return FeatureMatrix(rows: raw.rows, columns: width, values: out)
  }
}
