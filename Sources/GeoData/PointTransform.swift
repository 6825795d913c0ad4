import CGDAL

/// Points carried from one CRS to another by GDAL's OSR (PROJ underneath). Both sides use
/// the traditional GIS axis order, x = easting or longitude and y = northing or latitude,
/// whatever order the CRS's authority gives (EPSG:4326 officially puts latitude first), so
/// that callers never swap axes by CRS.
public enum PointTransform {
  /// `points` (in the CRS of `sourceWKT`) in the CRS of EPSG code `epsg`. `source` names
  /// where the points came from in errors (a file). Points in the target CRS already come
  /// back unchanged.
  public static func transform(
    _ points: [(x: Double, y: Double)], fromWKT sourceWKT: String, toEPSG epsg: Int,
    source: String
  ) throws(RasterError) -> [(x: Double, y: Double)] {
    try transform(
      points, fromWKT: sourceWKT, toWKT: RasterGrid.wkt(epsg: epsg), target: "EPSG:\(epsg)",
      source: source)
  }

  /// `points` (in the CRS of `sourceWKT`) in the CRS of `targetWKT`, which errors call
  /// `target`.
  public static func transform(
    _ points: [(x: Double, y: Double)], fromWKT sourceWKT: String, toWKT targetWKT: String,
    target: String = "the grid's CRS", source: String
  ) throws(RasterError) -> [(x: Double, y: Double)] {
    _ = gdalSetUp
    guard !sourceWKT.isEmpty else {
      throw RasterError(path: source, message: "the points have no CRS to transform from")
    }
    let from = OSRNewSpatialReference(nil)
    let to = OSRNewSpatialReference(nil)
    defer {
      OSRDestroySpatialReference(from)
      OSRDestroySpatialReference(to)
    }
    guard OSRSetFromUserInput(from, sourceWKT) == OGRERR_NONE else {
      throw RasterError(path: source, message: "GDAL cannot read the CRS \(sourceWKT)")
    }
    guard OSRSetFromUserInput(to, targetWKT) == OGRERR_NONE else {
      throw RasterError(path: target, message: "GDAL cannot read the CRS \(targetWKT)")
    }
    OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER)
    OSRSetAxisMappingStrategy(to, OAMS_TRADITIONAL_GIS_ORDER)
    if OSRIsSame(from, to) != 0 { return points }
    CPLErrorReset()
    guard let transformation = OCTNewCoordinateTransformation(from, to) else {
      throw RasterError(
        path: source, message: GDAL.lastError(or: "no coordinate transformation to \(target)"))
    }
    defer { OCTDestroyCoordinateTransformation(transformation) }
    var x = points.map(\.x)
    var y = points.map(\.y)
    var succeeded = [Int32](repeating: 0, count: points.count)
    CPLErrorReset()
    let transformed = OCTTransformEx(transformation, Int32(points.count), &x, &y, nil, &succeeded)
    if let failed = succeeded.firstIndex(of: 0) {
      throw RasterError(
        path: source,
        message: "point \(failed) (\(points[failed].x), \(points[failed].y)) cannot be "
          + "transformed to \(target)")
    }
    guard transformed != 0 else {
      throw RasterError(path: source, message: GDAL.lastError(or: "transformation failed"))
    }
    return zip(x, y).map { ($0, $1) }
  }
}
