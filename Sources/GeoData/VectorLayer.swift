import CGDAL

/// A vector layer opened read-only through OGR (GeoPackage, shapefile, GeoJSON: anything
/// OGR reads): its CRS and attribute names on opening, its features in one pass with the
/// attributes a caller asks for, so that catalogues and region polygons need no GDAL calls
/// of their own.
public final class VectorLayer {
  /// One attribute of a feature.
  public enum Value: Equatable, Sendable {
    /// Unset or NULL.
    case null
    /// Strings, and numbers as OGR writes them.
    case text(String)
    /// A date or date-time field, its time of day dropped.
    case date(year: Int, month: Int, day: Int)
  }

  /// A ring of a polygon, its vertices as two arrays (closed or not: the last edge runs
  /// back to the first vertex either way).
  public struct Ring: Sendable {
    public var x: [Double]
    public var y: [Double]

    public init(x: [Double], y: [Double]) {
      self.x = x
      self.y = y
    }
  }

  public enum Geometry: Sendable {
    /// No geometry, or an empty one.
    case none
    case point(x: Double, y: Double)
    /// Every ring of a polygon or multipolygon, outer rings and holes alike (curves made
    /// linear): a point lies inside when it lies inside an odd number of them.
    case polygon(rings: [Ring])
    /// Anything else, by OGR's name ("LINESTRING").
    case other(String)
  }

  public struct Feature: Sendable {
    /// OGR's feature id (FID): 0-based in shapefiles, 1-based in GeoPackages.
    public var id: Int
    public var geometry: Geometry
    /// The attributes asked for, in the order asked.
    public var values: [Value]
  }

  public let path: String
  public let name: String
  /// The layer's CRS as WKT; empty when it declares none.
  public let crsWKT: String
  /// The attribute fields, in the layer's order.
  public let fieldNames: [String]
  private let dataset: GDALDatasetH
  private let layer: OGRLayerH

  /// - Parameter name: the layer's name; nil takes the file's only (or first) layer.
  public init(path: String, layer name: String? = nil) throws(RasterError) {
    (dataset, layer) = try Self.open(path: path, layer: name)
    self.path = path
    self.name = String(cString: OGR_L_GetName(layer))
    if let reference = OGR_L_GetSpatialRef(layer) {
      var wkt: UnsafeMutablePointer<CChar>? = nil
      OSRExportToWkt(reference, &wkt)
      defer { VSIFree(wkt) }
      crsWKT = wkt.map { String(cString: $0) } ?? ""
    } else {
      crsWKT = ""
    }
    let definition = OGR_L_GetLayerDefn(layer)
    fieldNames = (0..<OGR_FD_GetFieldCount(definition)).map {
      String(cString: OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(definition, $0)))
    }
  }

  deinit { GDALClose(dataset) }

  /// Opens `path` as a vector source and finds the layer; errors name the file and, for
  /// an unknown layer, the layers it has.
  static func open(path: String, layer name: String?) throws(RasterError)
    -> (dataset: GDALDatasetH, layer: OGRLayerH)
  {
    _ = gdalSetUp
    CPLErrorReset()
    guard let dataset = GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, nil, nil)
    else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot open as a vector file"))
    }
    let layer: OGRLayerH?
    if let name {
      layer = GDALDatasetGetLayerByName(dataset, name)
      if layer == nil {
        let names = (0..<GDALDatasetGetLayerCount(dataset)).compactMap {
          OGR_L_GetName(GDALDatasetGetLayer(dataset, $0)).map { String(cString: $0) }
        }
        GDALClose(dataset)
        throw RasterError(
          path: path, message: "no layer '\(name)'; the file has \(names.joined(separator: ", "))")
      }
    } else {
      layer = GDALDatasetGetLayerCount(dataset) > 0 ? GDALDatasetGetLayer(dataset, 0) : nil
      if layer == nil {
        GDALClose(dataset)
        throw RasterError(path: path, message: "no vector layer in the file")
      }
    }
    return (dataset, layer!)
  }

  /// Every feature, in the layer's order, with the attributes `fields` names.
  public func features(fields: [String]) throws(RasterError) -> [Feature] {
    var indices: [Int32] = []
    for field in fields {
      guard let index = fieldNames.firstIndex(of: field) else {
        throw RasterError(
          path: path,
          message: "layer \(name) has no attribute '\(field)'; it has "
            + fieldNames.joined(separator: ", "))
      }
      indices.append(Int32(index))
    }
    let definition = OGR_L_GetLayerDefn(layer)
    let isDate = indices.map { index in
      let type = OGR_Fld_GetType(OGR_FD_GetFieldDefn(definition, index))
      return type == OFTDate || type == OFTDateTime
    }
    var features: [Feature] = []
    features.reserveCapacity(max(0, Int(OGR_L_GetFeatureCount(layer, 0))))
    OGR_L_ResetReading(layer)
    CPLErrorReset()
    while let feature = OGR_L_GetNextFeature(layer) {
      defer { OGR_F_Destroy(feature) }
      let values = zip(indices, isDate).map { index, isDate in
        Self.value(of: feature, field: index, isDate: isDate)
      }
      features.append(
        Feature(
          id: Int(OGR_F_GetFID(feature)),
          geometry: Self.geometry(OGR_F_GetGeometryRef(feature)), values: values))
    }
    if CPLGetLastErrorType() == CE_Failure {
      throw RasterError(path: path, message: GDAL.lastError(or: "reading the features failed"))
    }
    return features
  }

  private static func value(of feature: OGRFeatureH, field: Int32, isDate: Bool) -> Value {
    guard OGR_F_IsFieldSetAndNotNull(feature, field) != 0 else { return .null }
    if isDate {
      var (year, month, day, hour, minute, zone): (Int32, Int32, Int32, Int32, Int32, Int32) =
        (0, 0, 0, 0, 0, 0)
      var second: Float = 0
      if OGR_F_GetFieldAsDateTimeEx(
        feature, field, &year, &month, &day, &hour, &minute, &second, &zone) != 0
      {
        return .date(year: Int(year), month: Int(month), day: Int(day))
      }
    }
    return .text(String(cString: OGR_F_GetFieldAsString(feature, field)))
  }

  private static func geometry(_ geometry: OGRGeometryH?) -> Geometry {
    guard let geometry, OGR_G_IsEmpty(geometry) == 0 else { return .none }
    let type = OGR_GT_Flatten(OGR_G_GetGeometryType(geometry))
    if type == wkbPoint { return .point(x: OGR_G_GetX(geometry, 0), y: OGR_G_GetY(geometry, 0)) }
    guard
      OGR_GT_IsSubClassOf(type, wkbCurvePolygon) != 0
        || OGR_GT_IsSubClassOf(type, wkbMultiSurface) != 0
    else { return .other(String(cString: OGR_G_GetGeometryName(geometry))) }
    let linear =
      OGR_GT_IsNonLinear(type) != 0 ? OGR_G_GetLinearGeometry(geometry, 0, nil) : nil
    defer { if let linear { OGR_G_DestroyGeometry(linear) } }
    let polygons = linear ?? geometry
    let parts =
      OGR_GT_IsSubClassOf(OGR_GT_Flatten(OGR_G_GetGeometryType(polygons)), wkbMultiSurface) != 0
      ? (0..<OGR_G_GetGeometryCount(polygons)).compactMap { OGR_G_GetGeometryRef(polygons, $0) }
      : [polygons]
    var rings: [Ring] = []
    for part in parts {
      for index in 0..<OGR_G_GetGeometryCount(part) {
        guard let ring = OGR_G_GetGeometryRef(part, index) else { continue }
        let count = Int(OGR_G_GetPointCount(ring))
        var x = [Double](repeating: 0, count: count)
        var y = [Double](repeating: 0, count: count)
        let stride = Int32(MemoryLayout<Double>.stride)
        _ = OGR_G_GetPoints(ring, &x, stride, &y, stride, nil, 0)
        if count >= 3 { rings.append(Ring(x: x, y: y)) }
      }
    }
    return .polygon(rings: rings)
  }
}
