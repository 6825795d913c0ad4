import Foundation
import GeoData

/// A study area of the classical models: factor rasters on one grid (a mismatch names the
/// file, as `RasterStack` does), which of them are categorical, and inventories (a 0/1
/// raster on the same grid, or points in the grid's CRS). Factors are read in strips of
/// rows, so no step holds more than one strip of every factor besides its outputs.
public struct ClassicalStudy {
  public struct Factor: Codable, Equatable, Sendable {
    public var name: String
    public var path: String
    /// The band of `path` (0-based): a multi-band stack holds one factor per band.
    public var band: Int
    public var categorical: Bool

    public init(name: String, path: String, band: Int = 0, categorical: Bool) {
      self.name = name
      self.path = path
      self.band = band
      self.categorical = categorical
    }
  }

  public enum Inventory: Codable, Equatable, Sendable {
    case raster(name: String, path: String)
    /// Landslide polygons rasterised onto the grid (`layer` nil: the file's first).
    case polygons(name: String, path: String, layer: String?)
    case points(name: String, path: String, x: String, y: String, label: String)

    public var name: String {
      switch self {
      case .raster(let name, _), .polygons(let name, _, _), .points(let name, _, _, _, _): name
      }
    }
  }

  /// What a pass over every factor finds: where all of them hold data, and the classes of
  /// each categorical factor over that area (its one-hot layout).
  public struct Survey: Sendable {
    public var valid: [Bool]
    public var validCount: Int
    public var columns: [TableColumn]
  }

  public let factors: [Factor]
  public let inventories: [Inventory]
  public let grid: RasterGrid
  private let stack: RasterStack
  /// Each factor's raster in `stack`.
  private let rasterOfFactor: [Int]
  /// Rows read at once.
  static let stripRows = 256

  public init(factors: [Factor], inventories: [Inventory]) throws(ClassicalError) {
    guard !factors.isEmpty else { throw ClassicalError("study", "no factor rasters given") }
    self.factors = factors
    self.inventories = inventories
    var paths: [String] = []
    for factor in factors where !paths.contains(factor.path) { paths.append(factor.path) }
    do {
      stack = try RasterStack(paths: paths, bandCounts: [:])
    } catch { throw ClassicalError(error.path, error.message) }
    grid = stack.grid
    rasterOfFactor = factors.map { paths.firstIndex(of: $0.path)! }
    for (factor, raster) in zip(factors, rasterOfFactor)
    where !(0..<stack.rasters[raster].bandCount).contains(factor.band) {
      throw ClassicalError(
        factor.path,
        "factor '\(factor.name)' is band \(factor.band + 1); the file has "
          + "\(stack.rasters[raster].bandCount)")
    }
    var seen = Set<String>()
    for factor in factors where !seen.insert(factor.name).inserted {
      throw ClassicalError(factor.path, "a second factor named '\(factor.name)'")
    }
  }

  /// The factors of GeoTIFF `paths`: a one-band file is the factor named by its base name;
  /// each band of a multi-band stack is one, named by its band description (or
  /// `base_N`). Names in `categorical` must be among them.
  public static func factors(paths: [String], categorical: [String]) throws(ClassicalError)
    -> [Factor]
  {
    var factors: [Factor] = []
    for path in paths {
      let raster: RasterDataset
      do { raster = try RasterDataset(path: path) } catch {
        throw ClassicalError(error.path, error.message)
      }
      let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
      for band in 0..<raster.bandCount {
        var name = base
        if raster.bandCount > 1 {
          let description = (try? raster.description(band: band)) ?? ""
          name = description.isEmpty ? "\(base)_\(band + 1)" : description
        }
        factors.append(
          Factor(name: name, path: path, band: band, categorical: categorical.contains(name)))
      }
    }
    let names = factors.map(\.name)
    if let unknown = categorical.first(where: { !names.contains($0) }) {
      throw ClassicalError(
        "study.files.categorical",
        "'\(unknown)' is not a factor; the factors are \(names.joined(separator: ", "))")
    }
    return factors
  }

  /// The centre of pixel `index` in map coordinates.
  public func centre(of index: Int) -> (x: Double, y: Double) { grid.centre(ofPixel: index) }

  /// Reads rows `rows` of every factor: per factor, row-major values with NaN off data.
  public func strip(_ rows: Range<Int>) throws(ClassicalError) -> [[Float]] {
    let window = RasterWindow(x: 0, y: rows.lowerBound, width: grid.width, height: rows.count)
    var values: [[Float]] = []
    for (factor, raster) in zip(factors, rasterOfFactor) {
      do {
        values.append(try stack.rasters[raster].read(band: factor.band, window: window).values)
      } catch { throw ClassicalError(error.path, error.message) }
    }
    return values
  }

  /// One pass over every factor.
  public func survey() throws(ClassicalError) -> Survey {
    var valid = [Bool](repeating: false, count: grid.width * grid.height)
    var classes = [Set<Int>](repeating: [], count: factors.count)
    var count = 0
    for start in stride(from: 0, to: grid.height, by: Self.stripRows) {
      let rows = start..<min(grid.height, start + Self.stripRows)
      let strip = try strip(rows)
      for offset in 0..<(rows.count * grid.width) {
        var holds = true
        for layer in strip where layer[offset].isNaN {
          holds = false
          break
        }
        guard holds else { continue }
        valid[start * grid.width + offset] = true
        count += 1
        for (index, factor) in factors.enumerated() where factor.categorical {
          let code = strip[index][offset]
          guard code == code.rounded(), abs(code) < 1e9 else {
            throw ClassicalError(
              factor.path,
              "pixel row \(start + offset / grid.width), column \(offset % grid.width) holds "
                + "\(code); a categorical factor holds whole class codes")
          }
          classes[index].insert(Int(code))
        }
      }
    }
    guard count > 0 else {
      throw ClassicalError(factors[0].path, "no pixel holds data in every factor raster")
    }
    let columns = factors.enumerated().map { index, factor in
      TableColumn(name: factor.name, categories: factor.categorical ? classes[index].sorted() : nil)
    }
    return Survey(valid: valid, validCount: count, columns: columns)
  }

  /// A raster or polygon inventory's labels on the grid: 1, 0, or NaN off the survey's
  /// valid area.
  public func labels(_ inventory: Inventory, survey: Survey) throws(ClassicalError) -> [Float] {
    let name = inventory.name
    let path: String
    let layer: String?
    switch inventory {
    case .raster(_, let file): (path, layer) = (file, nil)
    case .polygons(_, let file, let named): (path, layer) = (file, named)
    case .points(_, let file, _, _, _):
      throw ClassicalError(file, "a points inventory has no labels on the grid")
    }
    var labels: [Float]
    do {
      if case .polygons = inventory {
        labels = try PolygonRasterizer.rasterize(path: path, layer: layer, onto: grid)
      } else {
        labels = try RasterStack(paths: [factors[0].path, path]).rasters[1].read(band: 0).values
      }
    } catch { throw ClassicalError(error.path, error.message) }
    var positives = 0
    for index in labels.indices {
      guard survey.valid[index], !labels[index].isNaN else {
        labels[index] = .nan
        continue
      }
      guard labels[index] == 0 || labels[index] == 1 else {
        throw ClassicalError(
          path,
          "pixel row \(index / grid.width), column \(index % grid.width) holds \(labels[index]); "
            + "an inventory raster holds 1 (landslide), 0 (none) or nodata")
      }
      if labels[index] == 1 { positives += 1 }
    }
    guard positives > 0 else {
      throw ClassicalError(
        path, "inventory '\(name)' has no landslide pixels (no 1 on valid pixels)")
    }
    return labels
  }

  /// A points inventory: each point's pixel and 0/1 label. A point off the grid, on a
  /// pixel without data, or with a label that is not 0/1 (or TRUE/FALSE) is an error
  /// naming the file and line.
  public func points(
    path: String, x xColumn: String, y yColumn: String, label labelColumn: String, survey: Survey
  ) throws(ClassicalError) -> (pixels: [Int], labels: [Float]) {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw ClassicalError(path, "cannot read (\(error.localizedDescription))")
    }
    var lines = text.split(whereSeparator: \.isNewline).map(String.init)
    guard !lines.isEmpty else { throw ClassicalError(path, "empty file; expected a header line") }
    let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(
        in: CharacterSet(charactersIn: "\""))
    }
    var positions: [Int] = []
    for column in [xColumn, yColumn, labelColumn] {
      guard let position = header.firstIndex(of: column) else {
        throw ClassicalError(
          path, "no column '\(column)'; the header has \(header.joined(separator: ", "))")
      }
      positions.append(position)
    }
    let t = grid.geoTransform
    guard t.rowRotation == 0, t.columnRotation == 0 else {
      throw ClassicalError(factors[0].path, "rotated grids are not supported for points")
    }
    var pixels: [Int] = []
    var labels: [Float] = []
    for (number, line) in lines.enumerated() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      let place = "line \(number + 2)"
      guard fields.count == header.count else {
        throw ClassicalError(
          path, "\(place): \(fields.count) fields; the header has \(header.count)")
      }
      guard let x = Double(fields[positions[0]]), let y = Double(fields[positions[1]]) else {
        throw ClassicalError(path, "\(place): x and y must be numbers in the rasters' CRS")
      }
      let label: Float
      switch fields[positions[2]].uppercased().trimmingCharacters(
        in: CharacterSet(charactersIn: "\""))
      {
      case "1", "TRUE": label = 1
      case "0", "FALSE": label = 0
      default:
        throw ClassicalError(
          path, "\(place): \(labelColumn) is '\(fields[positions[2]])'; expected 0/1 or TRUE/FALSE"
        )
      }
      let column = Int(((x - t.originX) / t.pixelWidth).rounded(.down))
      let row = Int(((y - t.originY) / t.pixelHeight).rounded(.down))
      guard (0..<grid.width).contains(column), (0..<grid.height).contains(row) else {
        throw ClassicalError(
          path, "\(place): point (\(x), \(y)) lies outside the rasters (\(factors[0].path))")
      }
      let index = row * grid.width + column
      guard survey.valid[index] else {
        throw ClassicalError(
          path, "\(place): point (\(x), \(y)) lies on a pixel without data in some factor")
      }
      pixels.append(index)
      labels.append(label)
    }
    guard labels.contains(1) else {
      throw ClassicalError(path, "no landslide points (no \(labelColumn) of 1 or TRUE)")
    }
    guard labels.contains(0) else {
      throw ClassicalError(path, "no non-landslide points (no \(labelColumn) of 0 or FALSE)")
    }
    return (pixels, labels)
  }

  /// The table of the given pixels (any order; read strip by strip).
  public func table(pixels: [Int], labels: [Float], survey: Survey) throws(ClassicalError)
    -> PixelTable
  {
    let order = pixels.indices.sorted { pixels[$0] < pixels[$1] }
    var values = [Float](repeating: 0, count: pixels.count * factors.count)
    var next = 0
    for start in stride(from: 0, to: grid.height, by: Self.stripRows) where next < order.count {
      let rows = start..<min(grid.height, start + Self.stripRows)
      let end = rows.upperBound * grid.width
      guard pixels[order[next]] < end else { continue }
      let strip = try strip(rows)
      while next < order.count, pixels[order[next]] < end {
        let row = order[next]
        let offset = pixels[row] - start * grid.width
        for factor in 0..<factors.count {
          values[row * factors.count + factor] = strip[factor][offset]
        }
        next += 1
      }
    }
    return PixelTable(
      columns: survey.columns,
      features: FeatureMatrix(rows: pixels.count, columns: factors.count, values: values),
      labels: labels, pixels: pixels)
  }
}
