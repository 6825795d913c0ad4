import GeoData

/// Macro-regions drawn as polygons (a vector layer, each polygon named by an attribute), as
/// administrative regions come: a site's region is the name of the first polygon holding
/// its rain cell's centre. Polygons in another CRS than the rain grid's are carried onto it
/// vertex by vertex.
public struct RegionPolygons: Sendable {
  public let path: String
  public let field: String
  /// Each polygon's name, in the layer's order.
  public let names: [String]
  private let polygons: [Polygon]

  private struct Polygon: Sendable {
    var rings: [VectorLayer.Ring]
    var minX, minY, maxX, maxY: Double
  }

  /// - Parameter layer: nil takes the file's only (or first) layer.
  public init(path: String, layer name: String? = nil, field: String, grid: RasterGrid)
    throws(RainfallError)
  {
    let layer: VectorLayer
    do { layer = try VectorLayer(path: path, layer: name) } catch {
      throw RainfallError(path, error.message)
    }
    guard layer.fieldNames.contains(field) else {
      throw RainfallError(
        path,
        "layer \(layer.name) has no attribute '\(field)' (regions.field); it has "
          + layer.fieldNames.joined(separator: ", "))
    }
    let features: [VectorLayer.Feature]
    do { features = try layer.features(fields: [field]) } catch {
      throw RainfallError(path, error.message)
    }
    var names: [String] = []
    var rings: [[VectorLayer.Ring]] = []
    for feature in features {
      guard case .polygon(let polygon) = feature.geometry, !polygon.isEmpty else {
        let what =
          switch feature.geometry {
          case .none, .polygon: "no polygon"
          case .point: "a point"
          case .other(let type): "a \(type.lowercased())"
          }
        throw RainfallError(path, "feature \(feature.id) is \(what); regions must be polygons")
      }
      guard case .text(let name) = feature.values[0], !name.isEmpty else {
        throw RainfallError(
          path, "feature \(feature.id): \(field) is empty; each region needs a name")
      }
      names.append(name)
      rings.append(polygon)
    }
    guard !names.isEmpty else { throw RainfallError(path, "layer \(layer.name) holds no polygons") }
    if !layer.crsWKT.isEmpty {
      rings = try Self.carry(rings, from: layer.crsWKT, onto: grid, source: path)
    }
    self.path = path
    self.field = field
    self.names = names
    polygons = rings.map { rings in
      let x = rings.flatMap(\.x)
      let y = rings.flatMap(\.y)
      return Polygon(
        rings: rings, minX: x.min()!, minY: y.min()!, maxX: x.max()!, maxY: y.max()!)
    }
  }

  /// Every polygon's vertices in the grid's CRS.
  private static func carry(
    _ polygons: [[VectorLayer.Ring]], from crs: String, onto grid: RasterGrid, source: String
  ) throws(RainfallError) -> [[VectorLayer.Ring]] {
    let points = polygons.flatMap { $0.flatMap { zip($0.x, $0.y).map { (x: $0, y: $1) } } }
    let carried = try grid.carry(points, from: crs, source: source, key: "the layer's CRS")
    var next = 0
    return polygons.map { rings in
      rings.map { ring in
        let range = next..<next + ring.x.count
        next = range.upperBound
        return VectorLayer.Ring(x: range.map { carried[$0].x }, y: range.map { carried[$0].y })
      }
    }
  }

  /// The name of the first polygon holding (x, y) (in the grid's CRS); nil outside all.
  public func region(x: Double, y: Double) -> String? {
    for (index, polygon) in polygons.enumerated()
    where x >= polygon.minX && x <= polygon.maxX && y >= polygon.minY && y <= polygon.maxY {
      if Self.contains(polygon.rings, x: x, y: y) { return names[index] }
    }
    return nil
  }

  /// Even-odd ray casting over all the rings: a hole is a ring inside another.
  static func contains(_ rings: [VectorLayer.Ring], x: Double, y: Double) -> Bool {
    var inside = false
    for ring in rings {
      ring.x.withUnsafeBufferPointer { xs in
        ring.y.withUnsafeBufferPointer { ys in
          var previous = xs.count - 1
          for current in 0..<xs.count {
            let (x0, y0, x1, y1) = (xs[previous], ys[previous], xs[current], ys[current])
            if (y0 > y) != (y1 > y), x < x0 + (y - y0) * (x1 - x0) / (y1 - y0) {
              inside.toggle()
            }
            previous = current
          }
        }
      }
    }
    return inside
  }
}
