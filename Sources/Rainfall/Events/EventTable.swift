import Configuration
import Foundation
import TensorEngine

/// A site's position: its rain cell's centre.
public struct SiteLocation: Equatable, Sendable, Codable {
  public var x: Double
  public var y: Double

  public init(x: Double, y: Double) {
    self.x = x
    self.y = y
  }
}

/// One event of the table: the landslide whose window it came from, its site and region,
/// its rain features, its statics and its label (1: the landslide's trigger).
public struct LabelledEvent: Equatable, Sendable {
  public var landslide: String
  /// Index of the landslide's site in the study's site list.
  public var site: Int
  public var region: String
  public var event: RainfallEvent
  public var label: Bool
  /// The site's static factors, in the table's `staticNames` order.
  public var statics: [Float]
  /// A synthetic country's true probability that the event triggers a landslide there.
  public var truth: Double?
}

/// The events of every landslide's window after the seed's rules, and what the rules
/// dropped (the counts the `events` command prints).
public struct EventTable: Sendable {
  public var staticNames: [String]
  /// Static factors holding class codes.
  public var categorical: Set<String>
  public var rows: [LabelledEvent]
  /// Where each site lies (rows' `site` index it), in the CRS of `crsWKT`: what the
  /// threshold maps krige over. Empty for a table not made from a study.
  public var siteLocations: [SiteLocation] = []
  public var crsWKT = ""
  public var report = Report()

  public struct Report: Equatable, Sendable, Codable {
    /// Landslides whose window held no event ending before them within the gap.
    public var withoutTrigger: [String] = []
    /// Events dropped as the lowest share of totals, and the threshold (mm).
    public var lowTotalDropped = 0
    public var lowTotalThreshold = 0.0
    /// The same event of the same site seen from two landslides' windows: kept once
    /// (as a trigger when it was one).
    public var duplicatesDropped = 0
    /// Negatives beyond `negatives_per_positive` in their region.
    public var negativesDropped = 0

    enum CodingKeys: String, CodingKey {
      case withoutTrigger = "without_trigger"
      case lowTotalDropped = "low_total_dropped"
      case lowTotalThreshold = "low_total_threshold_mm"
      case duplicatesDropped = "duplicates_dropped"
      case negativesDropped = "negatives_dropped"
    }
  }

  /// One site's landslide and the rain series read there.
  public struct Window {
    public var landslide: String
    public var day: Day
    public var site: Int
    public var region: String
    public var statics: [Float]
    public var series: DailySeries

    public init(
      landslide: String, day: Day, site: Int, region: String, statics: [Float],
      series: DailySeries
    ) {
      self.landslide = landslide
      self.day = day
      self.site = site
      self.region = region
      self.statics = statics
      self.series = series
    }
  }

  /// Cuts each landslide's window into events, labels its trigger, then applies the
  /// seed's exclusions over the whole set: triggers more than `maxTriggerGapDays` before
  /// their landslide, and the lowest `lowestTotalShare` of totals; then draws at most
  /// `negativesPerPositive` negatives per positive in each region, as the seed's data set
  /// is. A window whose series does not cover it is an error naming the landslide and the
  /// missing days.
  public init(
    windows: [Window], staticNames: [String], categorical: Set<String>, rules: EventRules
  ) throws(RainfallError) {
    self.staticNames = staticNames
    self.categorical = categorical
    var rows: [LabelledEvent] = []
    var seen: [SiteEvent: Int] = [:]
    for window in windows {
      let first = window.day - rules.windowDays
      guard window.series.contains(first), window.series.contains(window.day) else {
        throw RainfallError(
          window.landslide,
          "its \(rules.windowDays)-day window \(first)–\(window.day) needs rain the series at "
            + "site \(window.site) lacks (it covers \(window.series.first)–"
            + "\(window.series.end - 1))")
      }
      let events = rules.events(in: window.series, from: first, through: window.day)
      let trigger = rules.trigger(of: window.day, among: events)
      if trigger == nil { report.withoutTrigger.append(window.landslide) }
      for (index, event) in events.enumerated() {
        let row = LabelledEvent(
          landslide: window.landslide, site: window.site, region: window.region, event: event,
          label: index == trigger, statics: window.statics)
        let key = SiteEvent(site: window.site, start: event.start, end: event.end)
        if let earlier = seen[key] {
          report.duplicatesDropped += 1
          if row.label { rows[earlier].label = true }
          continue
        }
        seen[key] = rows.count
        rows.append(row)
      }
    }
    let totals = rows.map(\.event.total).sorted()
    if !totals.isEmpty {
      let threshold = Self.quantile(totals, rules.lowestTotalShare)
      let kept = rows.filter { $0.event.total >= threshold }
      report.lowTotalDropped = rows.count - kept.count
      report.lowTotalThreshold = threshold
      rows = kept
    }
    if rules.negativesPerPositive > 0 {
      let kept = Self.sampleNegatives(
        rows, perPositive: rules.negativesPerPositive, seed: UInt64(rules.negativeSampleSeed))
      report.negativesDropped = rows.count - kept.count
      rows = kept
    }
    self.rows = rows
  }

  /// At most `perPositive` negatives per positive in each region, a seeded random draw
  /// (the region's index mixed into the seed), the rows' order kept.
  static func sampleNegatives(_ rows: [LabelledEvent], perPositive: Int, seed: UInt64)
    -> [LabelledEvent]
  {
    var regions: [String] = []
    var negatives: [String: [Int]] = [:]
    var positives: [String: Int] = [:]
    for (index, row) in rows.enumerated() {
      if negatives[row.region] == nil, positives[row.region] == nil { regions.append(row.region) }
      if row.label {
        positives[row.region, default: 0] += 1
      } else {
        negatives[row.region, default: []].append(index)
      }
    }
    var dropped = Set<Int>()
    for (number, region) in regions.enumerated() {
      var candidates = negatives[region] ?? []
      let keep = perPositive * (positives[region] ?? 0)
      guard candidates.count > keep else { continue }
      var random = RandomGenerator(seed: seed &+ UInt64(number) &* 0x9E37_79B9)
      candidates.shuffle(using: &random)
      dropped.formUnion(candidates[keep...])
    }
    return rows.indices.filter { !dropped.contains($0) }.map { rows[$0] }
  }

  private struct SiteEvent: Hashable {
    let site: Int
    let start: Day
    let end: Day
  }

  /// The `share` quantile of sorted values, interpolated linearly (numpy's default).
  static func quantile(_ sorted: [Double], _ share: Double) -> Double {
    let position = share * Double(sorted.count - 1)
    let low = Int(position.rounded(.down))
    let high = min(low + 1, sorted.count - 1)
    return sorted[low] + (position - Double(low)) * (sorted[high] - sorted[low])
  }

  public var positives: Int { rows.reduce(0) { $0 + ($1.label ? 1 : 0) } }

  /// Positives and negatives per region, in the order regions first appear: the seed's
  /// Table 4.
  public var countsByRegion: [(region: String, positives: Int, negatives: Int)] {
    var order: [String] = []
    var counts: [String: (Int, Int)] = [:]
    for row in rows {
      if counts[row.region] == nil { order.append(row.region) }
      counts[row.region, default: (0, 0)].0 += row.label ? 1 : 0
      counts[row.region, default: (0, 0)].1 += row.label ? 0 : 1
    }
    return order.map { ($0, counts[$0]!.0, counts[$0]!.1) }
  }

  /// The rain features of every event, in this order, before the statics.
  public static let rainFeatures = [
    "total_mm", "duration_days", "duration_hours", "intensity_mm_per_day", "soil_moisture_7d",
  ]

  /// `events.csv`: one row per event, its landslide, site (index and x, y), region, dates,
  /// features,
  /// statics, label and (synthetic countries) true probability; empty where unknown.
  public func csv() -> String {
    var text =
      (["landslide", "site", "x", "y", "region", "start", "end"] + Self.rainFeatures + staticNames
      + ["label", "truth"]).joined(separator: ",") + "\n"
    for row in rows {
      let e = row.event
      let location =
        siteLocations.indices.contains(row.site)
        ? (x: "\(siteLocations[row.site].x)", y: "\(siteLocations[row.site].y)") : nil
      var fields = [
        csvField(row.landslide), "\(row.site)", location?.x ?? "", location?.y ?? "",
        csvField(row.region), "\(e.start)", "\(e.end)",
        String(format: "%.3f", e.total), "\(e.durationDays)", "\(e.durationHours)",
        String(format: "%.4f", e.intensity),
        e.antecedentSoilMoisture.map { String(format: "%.5f", $0) } ?? "",
      ]
      fields += row.statics.map { "\($0)" }
      fields.append(row.label ? "1" : "0")
      fields.append(row.truth.map { String(format: "%.6f", $0) } ?? "")
      text += fields.joined(separator: ",") + "\n"
    }
    return text
  }
}
