#if canImport(Glibc)
  import Glibc
#endif

/// A DEM in memory with the ground size of its cells. On a projected grid every cell is
/// |pixel width| × |pixel height| metres; on a geographic grid a degree of longitude
/// shrinks with the cosine of the latitude, so the cell width is computed per row (WGS 84
/// ellipsoid), as is the height.
public struct ElevationModel: Sendable {
  public let grid: RasterGrid
  /// Row-major elevations in metres; NaN where the DEM has no data.
  public var elevation: [Float]
  /// Ground width and height of the cells of each row, in metres.
  public let cellWidth: [Double]
  public let cellHeight: [Double]

  public var width: Int { grid.width }
  public var height: Int { grid.height }

  public init(grid: RasterGrid, elevation: [Float]) {
    let (cellWidth, cellHeight) = ElevationModel.cellSizes(of: grid)
    self.init(grid: grid, elevation: elevation, cellWidth: cellWidth, cellHeight: cellHeight)
  }

  /// A window of a larger DEM keeps the cell sizes of its rows in the whole grid, so that a
  /// tile's layers equal the whole raster's bit for bit.
  init(grid: RasterGrid, elevation: [Float], cellWidth: [Double], cellHeight: [Double]) {
    precondition(elevation.count == grid.width * grid.height)
    precondition(cellWidth.count == grid.height && cellHeight.count == grid.height)
    self.grid = grid
    self.elevation = elevation
    self.cellWidth = cellWidth
    self.cellHeight = cellHeight
  }

  /// Ground width and height (m) of the cells of each row of `grid`.
  static func cellSizes(of grid: RasterGrid) -> (width: [Double], height: [Double]) {
    let transform = grid.geoTransform
    guard grid.isGeographic else {
      return (
        Array(repeating: abs(transform.pixelWidth), count: grid.height),
        Array(repeating: abs(transform.pixelHeight), count: grid.height)
      )
    }
    var widths: [Double] = []
    var heights: [Double] = []
    for row in 0..<grid.height {
      let latitude = transform.originY + (Double(row) + 0.5) * transform.pixelHeight
      let (perDegreeLatitude, perDegreeLongitude) = ElevationModel.metresPerDegree(
        latitude: latitude)
      widths.append(abs(transform.pixelWidth) * perDegreeLongitude)
      heights.append(abs(transform.pixelHeight) * perDegreeLatitude)
    }
    return (widths, heights)
  }

  /// Reads band 0 of a DEM.
  public init(contentsOf path: String) throws(RasterError) {
    let raster = try RasterDataset(path: path)
    self.init(grid: raster.grid, elevation: try raster.read(band: 0).values)
  }

  /// Metres per degree of latitude and of longitude at `latitude` (degrees) on the WGS 84
  /// ellipsoid (the series of the US National Geospatial-Intelligence Agency).
  static func metresPerDegree(latitude: Double) -> (latitude: Double, longitude: Double) {
    let phi = latitude * .pi / 180
    let perLatitude =
      111_132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi) - 0.0023 * cos(6 * phi)
    let perLongitude = 111_412.84 * cos(phi) - 93.5 * cos(3 * phi) + 0.118 * cos(5 * phi)
    return (perLatitude, perLongitude)
  }

  /// Elevation at (row, column), clamped to the grid; a missing value is replaced by
  /// `fallback` so that windows at edges and beside nodata stay usable.
  @inline(__always)
  func value(_ row: Int, _ column: Int, fallback: Float) -> Float {
    let value = elevation[min(max(row, 0), height - 1) * width + min(max(column, 0), width - 1)]
    return value.isNaN ? fallback : value
  }
}

/// Where tiled terrain reads its DEM from, a window at a time: a file (through GDAL) or a
/// DEM already in memory.
public protocol ElevationSource {
  var grid: RasterGrid { get }
  /// Row-major elevations of `window`, NaN where there is no data.
  func elevations(in window: RasterWindow) throws(RasterError) -> [Float]
}

extension RasterDataset: ElevationSource {
  /// Band 0.
  public func elevations(in window: RasterWindow) throws(RasterError) -> [Float] {
    try read(band: 0, window: window).values
  }
}

extension ElevationModel: ElevationSource {
  public func elevations(in window: RasterWindow) throws(RasterError) -> [Float] {
    var values = [Float](repeating: 0, count: window.width * window.height)
    for row in 0..<window.height {
      let from = (window.y + row) * width + window.x
      for column in 0..<window.width {
        values[row * window.width + column] = elevation[from + column]
      }
    }
    return values
  }
}
