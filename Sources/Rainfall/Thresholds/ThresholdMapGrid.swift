import Foundation
import GeoData

/// The cells the threshold maps are kriged on: a north-up EPSG:4326 grid, either the
/// seed's 0.05° lattice over the sites or a mask raster's own grid.
public struct ThresholdMapGrid: Sendable {
  public var grid: RasterGrid
  /// Per cell (row-major), whether it is kriged; the others are nodata.
  public var kriged: [Bool]

  /// The seed's cell size, degrees.
  public static let cellSize = 0.05

  /// The 0.05° cells covering `sites`: their extent snapped outward to multiples of 0.05°,
  /// plus one cell on every side, every cell kriged.
  public static func covering(_ sites: [GeographicPoint]) throws(RainfallError)
    -> ThresholdMapGrid
  {
    precondition(!sites.isEmpty, "no sites to cover")
    // Lattice indices; the 1e-9 keeps a site on a lattice line (7.7 / 0.05 =
    // 153.99999999999997) from widening the grid by a cell.
    func lattice(_ degrees: Double) -> Double { degrees / cellSize }
    let west = Int((lattice(sites.map(\.longitude).min()!) + 1e-9).rounded(.down)) - 1
    let east = Int((lattice(sites.map(\.longitude).max()!) - 1e-9).rounded(.up)) + 1
    let south = Int((lattice(sites.map(\.latitude).min()!) + 1e-9).rounded(.down)) - 1
    let north = Int((lattice(sites.map(\.latitude).max()!) - 1e-9).rounded(.up)) + 1
    let (width, height) = (east - west, north - south)
    let transform = GeoTransform(
      originX: Double(west) * cellSize, pixelWidth: cellSize, originY: Double(north) * cellSize,
      pixelHeight: -cellSize)
    do {
      let grid = try RasterGrid(width: width, height: height, geoTransform: transform, epsg: 4326)
      return ThresholdMapGrid(grid: grid, kriged: Array(repeating: true, count: width * height))
    } catch { throw RainfallError(error.path, error.message) }
  }

  /// The grid of the mask raster at `path` (EPSG:4326, north-up); its cells with data
  /// other than 0 are kriged.
  public static func mask(_ path: String) throws(RainfallError) -> ThresholdMapGrid {
    do throws(RasterError) {
      let mask = try RasterDataset(path: path)
      let grid = mask.grid
      guard grid.epsg == 4326 else {
        let crs =
          grid.crsWKT.isEmpty
          ? "no CRS" : grid.epsg.map { "EPSG:\($0)" } ?? "a CRS GDAL cannot name"
        throw RasterError(
          path: path,
          message: "the mask is in \(crs); the threshold maps are EPSG:4326 "
            + "(reproject it: gdalwarp -t_srs EPSG:4326)")
      }
      let t = grid.geoTransform
      guard t.rowRotation == 0, t.columnRotation == 0, t.pixelWidth > 0, t.pixelHeight < 0 else {
        throw RasterError(path: path, message: "the mask's grid is rotated or not north-up")
      }
      let band = try mask.read(band: 0)
      let kriged = zip(band.values, band.valid).map { $1 && $0 != 0 }
      return ThresholdMapGrid(grid: grid, kriged: kriged)
    } catch { throw RainfallError(error.path, error.message) }
  }

  /// The centres of the kriged cells, row-major.
  public var krigedCentres: [GeographicPoint] {
    kriged.indices.filter { kriged[$0] }.map {
      let (x, y) = grid.centre(ofPixel: $0)
      return GeographicPoint(longitude: x, latitude: y)
    }
  }
}
