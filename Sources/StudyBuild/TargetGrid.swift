import Configuration
import Foundation
import GeoData

/// Map-coordinate rectangle: x from `minX` to `maxX`, y from `minY` to `maxY`.
public struct MapBox: Equatable, Sendable, CustomStringConvertible {
  public var minX, minY, maxX, maxY: Double

  public var isEmpty: Bool { minX >= maxX || minY >= maxY }

  func intersection(_ other: MapBox) -> MapBox {
    MapBox(
      minX: max(minX, other.minX), minY: max(minY, other.minY), maxX: min(maxX, other.maxX),
      maxY: min(maxY, other.maxY))
  }

  public var description: String {
    String(format: "x %.0f–%.0f, y %.0f–%.0f", minX, maxX, minY, maxY)
  }
}

/// The study's two grids: pixels (`pixelsPerUnit` across a unit) for the predictors, and
/// the mapping units themselves for the inventory and the maps.
public struct TargetGrid: Sendable {
  public let pixels: RasterGrid
  public let units: RasterGrid
  public let epsg: Int
  public let unitMetres: Double
  public let pixelsPerUnit: Int

  /// The grid `config` asks for: its CRS (or the UTM zone of the DEM's centre) and extent
  /// (or where the DEM, both shake-map rasters and the rain rasters all have pixels, shrunk
  /// to whole units). `inputs` are (path, grid) of each raster input.
  public static func resolve(
    _ config: StudyGridConfig, dem: (path: String, grid: RasterGrid),
    inputs: [(path: String, grid: RasterGrid)]
  ) throws(RasterError) -> TargetGrid {
    let epsg: Int
    if let given = config.epsg { epsg = given } else { epsg = try utmZone(of: dem) }
    let wkt = try RasterGrid.wkt(epsg: epsg)
    let unit = config.unitMetres
    let all = [dem] + inputs
    var footprints: [(path: String, box: MapBox)] = []
    for input in all {
      footprints.append((input.path, try footprint(of: input.grid, in: wkt, source: input.path)))
    }
    let box: MapBox
    if let origin = config.origin, let size = config.sizeUnits {
      box = MapBox(
        minX: origin[0], minY: origin[1] - Double(size[1]) * unit,
        maxX: origin[0] + Double(size[0]) * unit, maxY: origin[1])
      for footprint in footprints where footprint.box.intersection(box).isEmpty {
        throw RasterError(
          path: footprint.path,
          message: "does not overlap the configured grid (\(box) in EPSG:\(epsg)); it covers "
            + "\(footprint.box): check grid.origin, grid.size_units and the file's CRS")
      }
    } else {
      let common = footprints.map(\.box).reduce(footprints[0].box) { $0.intersection($1) }
      box = MapBox(
        minX: (common.minX / unit).rounded(.up) * unit,
        minY: (common.minY / unit).rounded(.up) * unit,
        maxX: (common.maxX / unit).rounded(.down) * unit,
        maxY: (common.maxY / unit).rounded(.down) * unit)
      guard !box.isEmpty else {
        throw RasterError(
          path: dem.path,
          message: "the inputs do not overlap by a whole \(Int(unit)) m unit in EPSG:\(epsg): "
            + footprints.map { "\($0.path) covers \($0.box)" }.joined(separator: "; "))
      }
    }
    let (width, height) = (
      Int(((box.maxX - box.minX) / unit).rounded()), Int(((box.maxY - box.minY) / unit).rounded())
    )
    let pixel = unit / Double(config.pixelsPerUnit)
    return TargetGrid(
      pixels: RasterGrid(
        width: width * config.pixelsPerUnit, height: height * config.pixelsPerUnit,
        geoTransform: GeoTransform(
          originX: box.minX, pixelWidth: pixel, originY: box.maxY, pixelHeight: -pixel),
        crsWKT: wkt),
      units: RasterGrid(
        width: width, height: height,
        geoTransform: GeoTransform(
          originX: box.minX, pixelWidth: unit, originY: box.maxY, pixelHeight: -unit),
        crsWKT: wkt),
      epsg: epsg, unitMetres: unit, pixelsPerUnit: config.pixelsPerUnit)
  }

  /// WGS 84 / UTM: the zone of the DEM's centre, north or south.
  static func utmZone(of dem: (path: String, grid: RasterGrid)) throws(RasterError) -> Int {
    let t = dem.grid.geoTransform
    let centre = (
      x: t.originX + Double(dem.grid.width) / 2 * t.pixelWidth,
      y: t.originY + Double(dem.grid.height) / 2 * t.pixelHeight
    )
    let lonLat = try PointTransform.transform(
      [centre], fromWKT: dem.grid.crsWKT, toEPSG: 4326, source: dem.path)[0]
    let zone = min(60, max(1, Int(((lonLat.x + 180) / 6).rounded(.down)) + 1))
    return (lonLat.y >= 0 ? 32600 : 32700) + zone
  }

  /// Where a raster surely has pixels, in the CRS `wkt`: its edges, sampled densely and
  /// transformed, give the rectangle inside all four (the inward-most coordinate per edge).
  public static func footprint(of grid: RasterGrid, in wkt: String, source: String)
    throws(RasterError) -> MapBox
  {
    let (left, right, top, bottom) = try edges(of: grid, in: wkt, source: source)
    // Rows run south for a north-up raster (negative pixel height): "top" is then north.
    let t = grid.geoTransform
    let (north, south) = t.pixelHeight < 0 ? (top, bottom) : (bottom, top)
    let (west, east) = t.pixelWidth > 0 ? (left, right) : (right, left)
    return MapBox(
      minX: west.map(\.x).max()!, minY: south.map(\.y).max()!, maxX: east.map(\.x).min()!,
      maxY: north.map(\.y).min()!)
  }

  /// Points along a grid's outline, in the CRS `wkt`.
  static func footprintPoints(of grid: RasterGrid, in wkt: String, source: String)
    throws(RasterError) -> [(x: Double, y: Double)]
  {
    let (left, right, top, bottom) = try edges(of: grid, in: wkt, source: source)
    return left + right + top + bottom
  }

  /// A grid's four edges (left, right, top and bottom in pixel terms), 33 points each, in
  /// the CRS `wkt`.
  private static func edges(of grid: RasterGrid, in wkt: String, source: String)
    throws(RasterError) -> (
      [(x: Double, y: Double)], [(x: Double, y: Double)], [(x: Double, y: Double)],
      [(x: Double, y: Double)]
    )
  {
    guard !grid.crsWKT.isEmpty else {
      throw RasterError(
        path: source,
        message: "the raster has no CRS; assign one (gdal_edit.py -a_srs EPSG:…) before the build")
    }
    let t = grid.geoTransform
    let (w, h) = (Double(grid.width), Double(grid.height))
    let samples = 32
    func edge(_ point: (Double) -> (Double, Double)) throws(RasterError) -> [(x: Double, y: Double)]
    {
      let points = (0...samples).map {
        let (column, row) = point(Double($0) / Double(samples))
        return (x: t.originX + column * t.pixelWidth, y: t.originY + row * t.pixelHeight)
      }
      return try PointTransform.transform(points, fromWKT: grid.crsWKT, toWKT: wkt, source: source)
    }
    return (
      try edge { (0, $0 * h) }, try edge { (w, $0 * h) }, try edge { ($0 * w, 0) },
      try edge { ($0 * w, h) }
    )
  }
}
