import CGDAL

/// Vector polygons (GeoPackage, shapefile, GeoJSON: anything OGR reads) burnt onto a
/// raster grid: 1 in every pixel whose centre lies inside a polygon, 0 elsewhere. A layer
/// in another CRS is reprojected onto the grid's by GDAL on the way.
public enum PolygonRasterizer {
  /// - Parameters:
  ///   - layer: the layer's name; nil takes the file's only (or first) layer.
  ///   - window: the part of `grid` to burn (row-major values over it); nil for all of it.
  public static func rasterize(
    path: String, layer name: String? = nil, onto grid: RasterGrid, window: RasterWindow? = nil
  ) throws(RasterError) -> [Float] {
    let grid = window.map { grid.cropped(to: $0) } ?? grid
    _ = gdalSetUp
    CPLErrorReset()
    guard let source = GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, nil, nil)
    else {
      throw RasterError(path: path, message: GDAL.lastError(or: "cannot open as a vector file"))
    }
    defer { GDALClose(source) }
    let layer: OGRLayerH?
    if let name {
      layer = GDALDatasetGetLayerByName(source, name)
      guard layer != nil else {
        let names = (0..<GDALDatasetGetLayerCount(source)).compactMap {
          OGR_L_GetName(GDALDatasetGetLayer(source, $0)).map { String(cString: $0) }
        }
        throw RasterError(
          path: path, message: "no layer '\(name)'; the file has \(names.joined(separator: ", "))")
      }
    } else {
      guard GDALDatasetGetLayerCount(source) > 0 else {
        throw RasterError(path: path, message: "no vector layer in the file")
      }
      layer = GDALDatasetGetLayer(source, 0)
    }
    guard OGR_L_GetFeatureCount(layer, 1) > 0 else {
      throw RasterError(path: path, message: "the layer holds no polygons")
    }
    guard let driver = GDALGetDriverByName("MEM"),
      let target = GDALCreate(
        driver, "", Int32(grid.width), Int32(grid.height), 1, GDT_Float32, nil)
    else { throw RasterError(path: path, message: GDAL.lastError(or: "cannot create a raster")) }
    defer { GDALClose(target) }
    var coefficients = grid.geoTransform.coefficients
    GDALSetGeoTransform(target, &coefficients)
    GDALSetProjection(target, grid.crsWKT)
    var bands: [Int32] = [1]
    var burn: [Double] = [1]
    var layers: [OGRLayerH?] = [layer]
    let status = GDAL.withOptions([:]) { options in
      GDALRasterizeLayers(target, 1, &bands, 1, &layers, nil, nil, &burn, options, nil, nil)
    }
    guard status == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "rasterising the polygons failed"))
    }
    var values = [Float](repeating: 0, count: grid.width * grid.height)
    let read = values.withUnsafeMutableBytes {
      GDALRasterIO(
        GDALGetRasterBand(target, 1), GF_Read, 0, 0, Int32(grid.width), Int32(grid.height),
        $0.baseAddress, Int32(grid.width), Int32(grid.height), GDT_Float32, 0, 0)
    }
    guard read == CE_None else {
      throw RasterError(path: path, message: GDAL.lastError(or: "reading the rasterised polygons"))
    }
    return values
  }
}
