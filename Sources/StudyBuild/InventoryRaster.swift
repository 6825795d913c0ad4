import Configuration
import Foundation
import GeoData
import Rainfall

/// Landslide polygons burnt onto the study's pixels and summed per mapping unit: for each
/// period the cumulative landslide area (% of the unit) of every polygon of that period or
/// an earlier one. A pixel counts when its centre lies inside a polygon (even–odd over all
/// rings, so holes stay out), once however many polygons cover it, so that overlapping or
/// re-mapped landslides are not counted twice. The pixels are visited one row of units at
/// a time, so memory does not grow with the area.
enum InventoryRaster {
  struct Polygon {
    var rings: [VectorLayer.Ring]
    var period: UInt8
    var box: MapBox
  }

  /// Each period's band, unit-row-major, from the polygons of `input` (in any CRS).
  static func rasterize(
    path: String, layer: String?, field: InventoryInput.Field, periods: [StudyPeriod],
    onto grid: TargetGrid
  ) throws(RasterError) -> [[Float]] {
    let polygons = try read(
      path: path, layer: layer, field: field, periods: periods, crs: grid.pixels.crsWKT)
    let units = grid.units
    let t = grid.pixels.geoTransform
    let gridBox = MapBox(
      minX: t.originX, minY: t.originY + Double(grid.pixels.height) * t.pixelHeight,
      maxX: t.originX + Double(grid.pixels.width) * t.pixelWidth, maxY: t.originY)
    guard polygons.contains(where: { !$0.box.intersection(gridBox).isEmpty }) else {
      throw RasterError(
        path: path,
        message: "no polygon lies in the study area (\(gridBox) in EPSG:\(grid.epsg)); check "
          + "the layer's CRS and the grid's extent")
    }
    let side = grid.pixelsPerUnit
    let width = grid.pixels.width
    var bands = [[Float]](
      repeating: [Float](repeating: 0, count: units.width * units.height), count: periods.count)
    let none = UInt8.max
    var strip = [UInt8](repeating: none, count: side * width)
    var crossings: [Double] = []
    var counts = [Int](repeating: 0, count: periods.count)
    let pixelShare = 100 / Float(side * side)
    for unitRow in 0..<units.height {
      strip.withUnsafeMutableBufferPointer { $0.update(repeating: none) }
      let top = t.originY + Double(unitRow * side) * t.pixelHeight
      let bottom = top + Double(side) * t.pixelHeight
      for polygon in polygons where polygon.box.maxY > bottom && polygon.box.minY < top {
        for row in 0..<side {
          let y = top + (Double(row) + 0.5) * t.pixelHeight
          guard y >= polygon.box.minY, y <= polygon.box.maxY else { continue }
          crossings.removeAll(keepingCapacity: true)
          for ring in polygon.rings {
            let count = ring.x.count
            for index in 0..<count {
              let next = (index + 1) % count
              let (y0, y1) = (ring.y[index], ring.y[next])
              // Half-open in y, so that a vertex on the scan line counts once.
              guard (y0 <= y) != (y1 <= y) else { continue }
              let (x0, x1) = (ring.x[index], ring.x[next])
              crossings.append(x0 + (y - y0) / (y1 - y0) * (x1 - x0))
            }
          }
          crossings.sort()
          var pair = 0
          while pair + 1 < crossings.count {
            // Pixels whose centre x lies in [left, right).
            let first = max(
              0, Int(((crossings[pair] - t.originX) / t.pixelWidth - 0.5).rounded(.up)))
            let last = min(
              width - 1,
              Int(((crossings[pair + 1] - t.originX) / t.pixelWidth - 0.5).rounded(.up)) - 1)
            if first <= last {
              for column in first...last {
                let index = row * width + column
                strip[index] = min(strip[index], polygon.period)
              }
            }
            pair += 2
          }
        }
      }
      for unitColumn in 0..<units.width {
        counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        for row in 0..<side {
          for column in (unitColumn * side)..<((unitColumn + 1) * side) {
            let period = strip[row * width + column]
            if period != none { counts[Int(period)] += 1 }
          }
        }
        var cumulative = 0
        for period in 0..<periods.count {
          cumulative += counts[period]
          bands[period][unitRow * units.width + unitColumn] = Float(cumulative) * pixelShare
        }
      }
    }
    return bands
  }

  /// The layer's polygons in the grid's CRS, each with the index of its period.
  static func read(
    path: String, layer name: String?, field: InventoryInput.Field, periods: [StudyPeriod],
    crs: String
  ) throws(RasterError) -> [Polygon] {
    let layer = try VectorLayer(path: path, layer: name)
    guard !layer.crsWKT.isEmpty else {
      throw RasterError(
        path: path,
        message: "layer \(layer.name) declares no CRS; assign the one its coordinates are in "
          + "(ogr2ogr -a_srs EPSG:… out.gpkg \((path as NSString).lastPathComponent))")
    }
    let attribute: String
    var format: DateFormat?
    switch field {
    case .period(let name): attribute = name
    case .date(let name, let pattern):
      attribute = name
      do { format = try DateFormat(pattern) } catch {
        throw RasterError(path: path, message: "date_format: \(error.message)")
      }
    }
    let ranges = periods.map { (Day(iso: $0.start)!, Day(iso: $0.end)!) }
    var polygons: [Polygon] = []
    for feature in try layer.features(fields: [attribute]) {
      guard case .polygon(let rings) = feature.geometry else {
        if case .none = feature.geometry { continue }
        throw RasterError(
          path: path,
          message: "feature \(feature.id) is not a polygon (\(feature.geometry)); the "
            + "inventory holds landslide polygons")
      }
      let value = feature.values[0]
      let period: Int
      if let format {
        let day: Day?
        switch value {
        case .date(let year, let month, let dayOfMonth):
          day = Day(year: year, month: month, day: dayOfMonth)
        case .text(let text): day = format.day(text)
        case .null: day = nil
        }
        guard let day else {
          throw RasterError(
            path: path,
            message: "feature \(feature.id): \(attribute) '\(value)' is not a date in the "
              + "format \(format.pattern)")
        }
        guard let index = ranges.firstIndex(where: { $0.0 <= day && day <= $0.1 }) else {
          throw RasterError(
            path: path,
            message: "feature \(feature.id): \(attribute) \(day) falls in no period ("
              + periods.map { "\($0.name) \($0.start)–\($0.end)" }.joined(separator: ", ") + ")")
        }
        period = index
      } else {
        let text: String
        switch value {
        case .text(let value): text = value
        case .date(let year, let month, let day): text = "\(year)-\(month)-\(day)"
        case .null: text = ""
        }
        if let index = periods.firstIndex(where: { $0.name == text }) {
          period = index
        } else if let number = Int(text), (1...periods.count).contains(number) {
          period = number - 1
        } else {
          throw RasterError(
            path: path,
            message: "feature \(feature.id): \(attribute) '\(text)' names no period; expected "
              + "one of " + periods.map(\.name).joined(separator: ", ")
              + " or a number 1–\(periods.count)")
        }
      }
      var projected: [VectorLayer.Ring] = []
      var box = MapBox(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
      for ring in rings where ring.x.count >= 3 {
        let points = try PointTransform.transform(
          zip(ring.x, ring.y).map { (x: $0, y: $1) }, fromWKT: layer.crsWKT, toWKT: crs,
          source: path)
        let moved = VectorLayer.Ring(x: points.map(\.x), y: points.map(\.y))
        box = MapBox(
          minX: min(box.minX, moved.x.min()!), minY: min(box.minY, moved.y.min()!),
          maxX: max(box.maxX, moved.x.max()!), maxY: max(box.maxY, moved.y.max()!))
        projected.append(moved)
      }
      guard !projected.isEmpty else { continue }
      polygons.append(Polygon(rings: projected, period: UInt8(period), box: box))
    }
    guard !polygons.isEmpty else {
      throw RasterError(path: path, message: "layer \(layer.name) holds no polygons")
    }
    return polygons
  }
}

extension InventoryRaster {
  /// A raster inventory (one band per period, % of each unit) averaged onto the unit grid.
  static func warped(_ path: String, periods: Int, onto units: RasterGrid, scratch: String)
    throws(RasterError) -> [[Float]]
  {
    let source = try RasterDataset(path: path)
    guard source.bandCount == periods else {
      throw RasterError(
        path: path,
        message: "\(source.bandCount) bands; expected one per period (\(periods)), the "
          + "cumulative landslide area (% of each unit)")
    }
    try RasterWarp.warp(path, onto: units, resampling: .average, to: scratch)
    let warped = try RasterDataset(path: scratch)
    var bands: [[Float]] = []
    for band in 0..<periods {
      let values = try warped.read(band: band).values
      if let bad = values.first(where: { !$0.isNaN && ($0 < 0 || $0 > 100) }) {
        throw RasterError(
          path: path,
          message:
            "band \(band + 1) holds \(bad); expected landslide area in % of each unit (0–100)")
      }
      bands.append(values)
    }
    return bands
  }
}
