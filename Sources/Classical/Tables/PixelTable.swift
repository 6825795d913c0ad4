import Foundation
import TensorEngine

/// One factor column of a table: its name, and for a categorical factor the class codes
/// the study holds (ascending), which fix its one-hot layout.
public struct TableColumn: Codable, Equatable, Sendable {
  public var name: String
  /// nil for a continuous factor.
  public var categories: [Int]?

  public init(name: String, categories: [Int]? = nil) {
    self.name = name
    self.categories = categories
  }

  public var isCategorical: Bool { categories != nil }
}

/// Rows sampled from a study: each pixel's raw factor values (class codes for categorical
/// factors), its 0/1 label and where it lies on the grid. Written as safetensors (tensors
/// `features` [rows, columns], `labels`, `pixel_row`, `pixel_column`; the columns as JSON
/// in the metadata) and, for people, as CSV.
public struct PixelTable: Equatable, Sendable {
  public var columns: [TableColumn]
  public var features: FeatureMatrix
  public var labels: [Float]
  /// Row-major pixel index on the study's grid (row · width + column).
  public var pixels: [Int]

  public init(columns: [TableColumn], features: FeatureMatrix, labels: [Float], pixels: [Int]) {
    precondition(features.columns == columns.count && features.rows == labels.count)
    precondition(pixels.count == labels.count)
    self.columns = columns
    self.features = features
    self.labels = labels
    self.pixels = pixels
  }

  public var rows: Int { labels.count }
  public var positives: Int { labels.reduce(0) { $0 + ($1 == 1 ? 1 : 0) } }

  public func selecting(rows indices: [Int]) -> PixelTable {
    PixelTable(
      columns: columns, features: features.selecting(rows: indices),
      labels: indices.map { labels[$0] }, pixels: indices.map { pixels[$0] })
  }

  // MARK: Files

  static let columnsKey = "columns"

  public func write(to path: String, gridWidth: Int) throws(ClassicalError) {
    let model = StoredModel(
      kind: "pixel_table", settings: ["grid_width": gridWidth],
      arrays: [
        .init(name: "features", shape: [rows, columns.count], values: features.values),
        .init(name: "labels", shape: [rows], values: labels),
        .init(name: "pixel_row", shape: [rows], values: pixels.map { Float($0 / gridWidth) }),
        .init(name: "pixel_column", shape: [rows], values: pixels.map { Float($0 % gridWidth) }),
      ])
    try model.write(to: path, metadata: [Self.columnsKey: Self.json(columns)])
  }

  public static func read(_ path: String) throws(ClassicalError) -> PixelTable {
    let (model, metadata) = try StoredModel.read(path)
    guard model.kind == "pixel_table",
      let json = metadata[columnsKey],
      let columns = try? JSONDecoder().decode([TableColumn].self, from: Data(json.utf8))
    else { throw ClassicalError(path, "not a pixel table (no readable '\(columnsKey)')") }
    let width = try model.decodeSettings([String: Int].self)["grid_width"] ?? 1
    let labels = try model.array("labels")
    let features = try model.array("features", count: labels.count * columns.count)
    let rowsOnGrid = try model.indices("pixel_row", count: labels.count)
    let columnsOnGrid = try model.indices("pixel_column", count: labels.count)
    return PixelTable(
      columns: columns,
      features: FeatureMatrix(rows: labels.count, columns: columns.count, values: features),
      labels: labels, pixels: zip(rowsOnGrid, columnsOnGrid).map { $0 * width + $1 })
  }

  /// The table as CSV: the factors, `label`, then the pixel's `row` and `column` and its
  /// map coordinates `x`, `y` (the pixel centre) when a grid is given.
  public func writeCSV(to path: String, gridWidth: Int, pixelCentre: ((Int) -> (Double, Double))?)
    throws(ClassicalError)
  {
    var text =
      (columns.map(\.name) + ["label", "row", "column"] + (pixelCentre == nil ? [] : ["x", "y"]))
      .joined(separator: ",") + "\n"
    text.reserveCapacity(rows * (columns.count + 5) * 10)
    for row in 0..<rows {
      var fields = features.row(row).map { "\($0)" }
      fields += ["\(Int(labels[row]))", "\(pixels[row] / gridWidth)", "\(pixels[row] % gridWidth)"]
      if let (x, y) = pixelCentre?(pixels[row]) { fields += ["\(x)", "\(y)"] }
      text += fields.joined(separator: ",") + "\n"
    }
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch {
      throw ClassicalError(path, error.message)
    }
  }

  static func json<Value: Encodable>(_ value: Value) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
  }
}
