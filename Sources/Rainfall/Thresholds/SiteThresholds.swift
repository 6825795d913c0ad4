import Foundation
import TensorEngine

/// One site's thresholds: per level, the mean of the thresholds of its searched events
/// that reach the level. Events that never reach it are left out rather than counted at
/// their ceiling (1.5 × their total, an artefact of the search): the site's value is what
/// rain it takes where the model does say P ≥ level, and `reaching` says over how many
/// events. A consequence: when fewer events reach a higher level, the mean over those
/// can fall below the lower level's mean (each event's own thresholds never decrease);
/// `ThresholdSummary` counts such sites.
public struct SiteThreshold: Equatable, Sendable {
  /// Index into the event set's `siteLocations`.
  public var site: Int
  /// Longitude and latitude (EPSG:4326).
  public var location: GeographicPoint
  public var region: String
  /// Events searched at the site.
  public var events: Int
  /// Per level, the site's events that reach it.
  public var reaching: [Int]
  /// Per level, the mean threshold (mm) over `reaching`; nil when none reaches it.
  public var thresholds: [Double?]

  /// The sites of `crossings` in ascending site order; `locations` per site of the event
  /// set, in EPSG:4326.
  public static func sites(
    of crossings: [ThresholdSearch.Crossing], events: EventSet, locations: [GeographicPoint],
    levels: Int
  ) -> [SiteThreshold] {
    var bySite: [Int: SiteThreshold] = [:]
    var sums: [Int: [Double]] = [:]
    for crossing in crossings {
      let site = events.sites[crossing.row]
      var entry =
        bySite[site]
        ?? SiteThreshold(
          site: site, location: locations[site],
          region: events.regionNames[events.regions[crossing.row]], events: 0,
          reaching: Array(repeating: 0, count: levels),
          thresholds: Array(repeating: nil, count: levels))
      var sum = sums[site] ?? Array(repeating: 0, count: levels)
      entry.events += 1
      for (level, total) in crossing.totals.enumerated() {
        guard let total else { continue }
        entry.reaching[level] += 1
        sum[level] += total
      }
      bySite[site] = entry
      sums[site] = sum
    }
    return bySite.keys.sorted().map { site in
      var entry = bySite[site]!
      entry.thresholds = (0..<levels).map { level in
        entry.reaching[level] > 0 ? sums[site]![level] / Double(entry.reaching[level]) : nil
      }
      return entry
    }
  }

  /// `thresholds.csv`: site, x, y (longitude, latitude), region, events, then one column
  /// per level (`t50`, `t70`, … : mm, empty where no event reaches the level).
  public static func csv(_ sites: [SiteThreshold], levels: [Double]) -> String {
    var text =
      (["site", "x", "y", "region", "events"] + levels.map { "t" + ThresholdLevel.percent($0) })
      .joined(separator: ",") + "\n"
    for site in sites {
      let fields =
        [
          "\(site.site)", String(format: "%.6f", site.location.longitude),
          String(format: "%.6f", site.location.latitude), csvField(site.region), "\(site.events)",
        ] + site.thresholds.map { $0.map { String(format: "%.3f", $0) } ?? "" }
      text += fields.joined(separator: ",") + "\n"
    }
    return text
  }
}

/// How levels name files and columns: 0.5 → "50", 0.75 → "75", 0.925 → "92.5".
enum ThresholdLevel {
  static func percent(_ level: Double) -> String {
    String(format: "%g", (level * 1000).rounded() / 10)
  }
}
