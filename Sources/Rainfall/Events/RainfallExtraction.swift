import Configuration
import Foundation
import TensorEngine

/// `rainfall events`: a study's landslides placed on their sites, their windows cut into
/// labelled events, and what was left out on the way, each named.
public struct RainfallExtraction {
  public let rules: EventRules
  public let table: EventTable
  /// Catalogue rows that could not be read, and landslides that could not be placed.
  public let unreadRows: [LandslideCatalogue.SkippedRow]
  public let filteredOut: Int
  public let unplaced: [RainfallStudy.Skipped]
  public let cataloguePath: String

  public init(study: RainfallStudy, rules: EventRules) throws(RainfallError) {
    self.rules = rules
    cataloguePath = study.cataloguePath
    unreadRows = study.catalogue.skipped
    filteredOut = study.catalogue.filteredOut
    let (windows, sites, unplaced) = try study.windows(rules: rules)
    self.unplaced = unplaced
    guard !windows.isEmpty else {
      throw RainfallError(
        study.cataloguePath,
        "no landslide could be placed (\(study.catalogue.entries.count) read, "
          + "\(unplaced.count) unplaced"
          + (unplaced.first.map { "; e.g. \($0)" } ?? "") + ")")
    }
    var table = try EventTable(
      windows: windows, staticNames: study.statics.map(\.name), categorical: study.categorical,
      rules: rules)
    table.siteLocations = sites
    table.crsWKT = study.crsWKT
    if let latent = study.latent, let slope = table.staticNames.firstIndex(of: "slope"),
      let lithology = table.staticNames.firstIndex(of: "lithology")
    {
      for index in table.rows.indices {
        let row = table.rows[index]
        table.rows[index].truth = latent.probability(
          row.event, slope: row.statics[slope], lithology: row.statics[lithology])
      }
    }
    self.table = table
  }

  /// The seed's Table 4 (positive and negative events per region) and what was dropped.
  public var summary: String {
    var lines = ["region,positives,negatives"]
    for (region, positives, negatives) in table.countsByRegion {
      lines.append("\(region),\(positives),\(negatives)")
    }
    let negatives = table.rows.count - table.positives
    lines.append("all,\(table.positives),\(negatives)")
    let report = table.report
    lines.append(
      "\(table.rows.count) events, 1 : \(String(format: "%.1f", Double(negatives) / Double(max(1, table.positives)))); "
        + "dropped: \(report.lowTotalDropped) below \(String(format: "%.2f", report.lowTotalThreshold)) mm "
        + "(lowest \(Int(rules.lowestTotalShare * 100)) %), \(report.withoutTrigger.count) landslides "
        + "without a trigger within \(rules.maxTriggerGapDays) days, \(report.duplicatesDropped) "
        + "events seen from two windows"
        + (rules.negativesPerPositive > 0
          ? ", \(report.negativesDropped) negatives beyond \(rules.negativesPerPositive) per "
            + "positive in their region" : "")
        + "; \(unplaced.count) landslides unplaced, "
        + "\(unreadRows.count) catalogue rows unreadable, \(filteredOut) filtered out")
    for skip in unplaced.prefix(5) { lines.append("  unplaced \(skip)") }
    for row in unreadRows.prefix(5) { lines.append("  unreadable \(cataloguePath) \(row)") }
    return lines.joined(separator: "\n")
  }

  /// `events.csv`, `events.json` and `events.safetensors` (what `rainfall train` reads),
  /// each written atomically.
  public func write(to directory: String) throws(RainfallError) {
    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    do {
      try AtomicFile.write(Data(table.csv().utf8), to: path("events.csv"))
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try AtomicFile.write(try encoder.encode(Record(self)), to: path("events.json"))
    } catch { throw RainfallError(directory, "cannot write the events (\(error))") }
    try EventSet(table).write(to: path(EventSet.fileName))
  }

  /// `events.json`: the rules, the counts and every skip with its reason.
  struct Record: Encodable {
    struct Count: Encodable {
      let region: String
      let positives: Int
      let negatives: Int
    }
    let rules: EventRules
    let events: Int
    let positives: Int
    let regions: [Count]
    let report: EventTable.Report
    let unplaced: [String]
    let unreadableRows: [String]
    let filteredOut: Int
    let statics: [String]
    let categorical: [String]

    init(_ extraction: RainfallExtraction) {
      rules = extraction.rules
      events = extraction.table.rows.count
      positives = extraction.table.positives
      regions = extraction.table.countsByRegion.map {
        Count(region: $0.region, positives: $0.positives, negatives: $0.negatives)
      }
      report = extraction.table.report
      unplaced = extraction.unplaced.map(\.description)
      unreadableRows = extraction.unreadRows.map(\.description)
      filteredOut = extraction.filteredOut
      statics = extraction.table.staticNames
      categorical = extraction.table.categorical.sorted()
    }

    enum CodingKeys: String, CodingKey {
      case rules, events, positives, regions, report, unplaced, statics, categorical
      case unreadableRows = "unreadable_rows"
      case filteredOut = "filtered_out"
    }
  }
}
