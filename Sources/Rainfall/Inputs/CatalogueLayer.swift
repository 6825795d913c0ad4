import Foundation
import GeoData

extension LandslideCatalogue {
  /// Reads the points of a vector layer (GeoPackage, shapefile, GeoJSON: any OGR source),
  /// as inventories are often kept in a GIS. x and y come from each feature's point
  /// (`columns.x` and `.y` are not read), the other roles from its attributes by the same
  /// names as a CSV's columns; a date attribute may be an OGR date or date-time field, or
  /// text in `dateFormat`. Without an id attribute, entries take their feature ids.
  /// Features without a point (none, an empty one, another geometry) or with a bad
  /// attribute are skipped and listed by feature id, like bad CSV rows. The catalogue's
  /// CRS is the layer's, nil when it declares none.
  /// - Parameter name: the layer; nil takes the file's only (or first) one.
  public static func read(
    layer path: String, name: String? = nil, columns: CatalogueColumns,
    dateFormat: DateFormat, filter: CatalogueFilter = CatalogueFilter()
  ) throws(RainfallError) -> LandslideCatalogue {
    let layer: VectorLayer
    do { layer = try VectorLayer(path: path, layer: name) } catch {
      throw RainfallError(path, error.message)
    }
    if filter.triggers != nil, columns.trigger == nil {
      throw RainfallError(path, "a trigger filter needs columns.trigger")
    }
    if filter.countries != nil, columns.country == nil {
      throw RainfallError(path, "a country filter needs columns.country")
    }
    let roles: [(key: String, name: String?)] = [
      ("columns.id", columns.id), ("columns.date", columns.date),
      ("columns.trigger", columns.trigger), ("columns.country", columns.country),
      ("columns.region", columns.region),
    ]
    var wanted: [String] = []
    for (key, attribute) in roles + columns.extra.map({ ("columns.extra", $0) }) {
      guard let attribute else { continue }
      guard layer.fieldNames.contains(attribute) else {
        throw RainfallError(
          path,
          "layer \(layer.name) has no attribute '\(attribute)' (\(key)); it has "
            + layer.fieldNames.joined(separator: ", "))
      }
      if !wanted.contains(attribute) { wanted.append(attribute) }
    }
    let features: [VectorLayer.Feature]
    do { features = try layer.features(fields: wanted) } catch {
      throw RainfallError(path, error.message)
    }
    func position(_ attribute: String?) -> Int? { attribute.flatMap(wanted.firstIndex) }
    let (idAt, dateAt) = (position(columns.id), position(columns.date)!)
    let (triggerAt, countryAt) = (position(columns.trigger), position(columns.country))
    let regionAt = position(columns.region)

    var catalogue = LandslideCatalogue(
      entries: [], skipped: [], filteredOut: 0, crs: layer.crsWKT.isEmpty ? nil : layer.crsWKT)
    for feature in features {
      func text(_ position: Int?) -> String? { position.map { Self.text(feature.values[$0]) } }
      func skip(_ reason: String) {
        catalogue.skipped.append(SkippedRow(line: feature.id, reason: reason, isFeature: true))
      }
      guard filter.keeps(trigger: text(triggerAt), country: text(countryAt)) else {
        catalogue.filteredOut += 1
        continue
      }
      let id = text(idAt) ?? String(feature.id)
      guard !id.isEmpty else {
        skip("\(columns.id!) is empty")
        continue
      }
      let day: Day?
      switch feature.values[dateAt] {
      case .null: day = nil
      case .date(let year, let month, let date): day = Day(year: year, month: month, day: date)
      case .text(let value): day = dateFormat.day(Self.trimmed(value))
      }
      guard let day else {
        let value = Self.text(feature.values[dateAt])
        skip(
          value.isEmpty
            ? "\(columns.date) is empty"
            : "\(columns.date) '\(value)' is not a date in the format \(dateFormat)")
        continue
      }
      guard case .point(let x, let y) = feature.geometry, x.isFinite, y.isFinite else {
        switch feature.geometry {
        case .none: skip("no point: the geometry is missing or empty")
        case .point: skip("the point's coordinates are not finite")
        case .polygon: skip("a polygon, not a point")
        case .other(let type): skip("a \(type.lowercased()), not a point")
        }
        continue
      }
      guard filter.keeps(x: x, y: y, day: day) else {
        catalogue.filteredOut += 1
        continue
      }
      let region = text(regionAt)
      catalogue.entries.append(
        CatalogueEntry(
          id: id, day: day, x: x, y: y, region: region?.isEmpty == false ? region : nil,
          extra: Dictionary(
            columns.extra.map { ($0, text(position($0))!) },
            uniquingKeysWith: { first, _ in first })))
    }
    return catalogue
  }

  /// An attribute as a CSV cell would read: trimmed text, an ISO date, "" for NULL.
  private static func text(_ value: VectorLayer.Value) -> String {
    switch value {
    case .null: ""
    case .text(let text): trimmed(text)
    case .date(let year, let month, let day):
      Day(year: year, month: month, day: day)?.description
        ?? "\(year)-\(month)-\(day)"
    }
  }

  private static func trimmed(_ text: String) -> String {
    text.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
  }
}
