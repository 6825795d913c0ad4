import Classical
import Foundation

/// The events as the models read them (`events.safetensors`): a table of the rain
/// features and statics (class codes for categorical statics, their classes in the
/// columns), the labels, each event's macro-region, which the protocol splits by, and
/// its site, which the threshold maps place.
public struct EventSet: Sendable {
  public var table: PixelTable
  /// Index into `regionNames`, per row.
  public var regions: [Int]
  public var regionNames: [String]
  /// Index into `siteLocations`, per row.
  public var sites: [Int]
  public var siteLocations: [SiteLocation]
  /// The CRS of `siteLocations` (the rain grid's).
  public var crsWKT: String

  /// The rain features the models use (duration in hours, as the E–D curve reads it).
  public static let rainColumns = [
    "total_mm", "duration_hours", "intensity_mm_per_day", "soil_moisture_7d",
  ]

  /// The table's models' view: soil moisture only when every event has it.
  public init(_ events: EventTable) {
    let withMoisture = events.rows.allSatisfy { $0.event.antecedentSoilMoisture != nil }
    let rain = withMoisture ? Self.rainColumns : Array(Self.rainColumns.prefix(3))
    var columns = rain.map { TableColumn(name: $0) }
    for (index, name) in events.staticNames.enumerated() {
      let codes =
        events.categorical.contains(name)
        ? Array(Set(events.rows.map { Int($0.statics[index]) })).sorted() : nil
      columns.append(TableColumn(name: name, categories: codes))
    }
    var values: [Float] = []
    values.reserveCapacity(events.rows.count * columns.count)
    for row in events.rows {
      let e = row.event
      values += [Float(e.total), Float(e.durationHours), Float(e.intensity)]
      if withMoisture { values.append(Float(e.antecedentSoilMoisture!)) }
      values += row.statics
    }
    regionNames = events.countsByRegion.map(\.region)
    let code = Dictionary(uniqueKeysWithValues: regionNames.enumerated().map { ($1, $0) })
    regions = events.rows.map { code[$0.region]! }
    sites = events.rows.map(\.site)
    siteLocations = events.siteLocations
    crsWKT = events.crsWKT
    table = PixelTable(
      columns: columns,
      features: FeatureMatrix(rows: events.rows.count, columns: columns.count, values: values),
      labels: events.rows.map { $0.label ? 1 : 0 }, pixels: Array(events.rows.indices))
  }

  public init(
    table: PixelTable, regions: [Int], regionNames: [String], sites: [Int],
    siteLocations: [SiteLocation], crsWKT: String
  ) {
    self.table = table
    self.regions = regions
    self.regionNames = regionNames
    self.sites = sites
    self.siteLocations = siteLocations
    self.crsWKT = crsWKT
  }

  public static let fileName = "events.safetensors"

  struct Settings: Codable {
    var columns: [TableColumn]
    var regions: [String]
    var siteLocations: [SiteLocation]
    var crsWKT: String

    enum CodingKeys: String, CodingKey {
      case columns, regions
      case siteLocations = "site_locations"
      case crsWKT = "crs_wkt"
    }
  }

  public func write(to path: String) throws(RainfallError) {
    let rows = table.rows
    let stored = StoredModel(
      kind: "event_set",
      settings: Settings(
        columns: table.columns, regions: regionNames, siteLocations: siteLocations,
        crsWKT: crsWKT),
      arrays: [
        .init(name: "features", shape: [rows, table.columns.count], values: table.features.values),
        .init(name: "labels", shape: [rows], values: table.labels),
        .init(name: "regions", shape: [rows], values: regions.map(Float.init)),
        .init(name: "sites", shape: [rows], values: sites.map(Float.init)),
      ])
    do { try stored.write(to: path) } catch { throw RainfallError(path, error.message) }
  }

  public static func read(_ path: String) throws(RainfallError) -> EventSet {
    do throws(ClassicalError) {
      let (stored, _) = try StoredModel.read(path)
      guard stored.kind == "event_set" else {
        throw ClassicalError(
          path, "not an event set (\(stored.kind)); `rainfall events` writes one")
      }
      let settings = try stored.decodeSettings(Settings.self)
      let labels = try stored.array("labels")
      let features = try stored.array("features", count: labels.count * settings.columns.count)
      let regions = try stored.indices("regions", count: labels.count)
      guard regions.allSatisfy({ $0 >= 0 && $0 < settings.regions.count }) else {
        throw ClassicalError(path, "region codes outside 0..<\(settings.regions.count)")
      }
      let sites = try stored.indices("sites", count: labels.count)
      guard sites.allSatisfy({ $0 >= 0 && $0 < settings.siteLocations.count }) else {
        throw ClassicalError(path, "site indices outside 0..<\(settings.siteLocations.count)")
      }
      return EventSet(
        table: PixelTable(
          columns: settings.columns,
          features: FeatureMatrix(
            rows: labels.count, columns: settings.columns.count, values: features),
          labels: labels, pixels: Array(labels.indices)),
        regions: regions, regionNames: settings.regions, sites: sites,
        siteLocations: settings.siteLocations, crsWKT: settings.crsWKT)
    } catch { throw RainfallError(error.subject, error.message) }
  }

  /// The rows of `indices`, in that order.
  public func selecting(_ indices: [Int]) -> EventSet {
    EventSet(
      table: table.selecting(rows: indices), regions: indices.map { regions[$0] },
      regionNames: regionNames, sites: indices.map { sites[$0] }, siteLocations: siteLocations,
      crsWKT: crsWKT)
  }
}
