import Classical
import Foundation
import GeoData
import TensorEngine
import TestSupport
import Testing

@testable import Rainfall

/// The threshold search with probability functions whose crossings are known exactly, the
/// per-site thresholds and summary, a run through a small XGBoost model, and bad input.
@Suite struct ThresholdSearchTests {
  static let wgs84 = try! RasterGrid(
    width: 1, height: 1,
    geoTransform: GeoTransform(originX: 0, pixelWidth: 1, originY: 0, pixelHeight: -1), epsg: 4326
  ).crsWKT

  /// One event per entry: (total mm, duration days, label, site); a static column `slope`
  /// holds the row number, so that a probability function can tell the rows apart. Site s
  /// lies at (8 + 0.37 s mod 2.9, 44 + 0.23 s mod 1.9), EPSG:4326.
  static func events(_ rows: [(total: Float, days: Float, label: Float, site: Int)]) -> EventSet {
    var values: [Float] = []
    for (index, row) in rows.enumerated() {
      values += [row.total, 24 * row.days, row.total / row.days, Float(index)]
    }
    let siteCount = (rows.map(\.site).max() ?? 0) + 1
    return EventSet(
      table: PixelTable(
        columns: ["total_mm", "duration_hours", "intensity_mm_per_day", "slope"].map {
          TableColumn(name: $0)
        },
        features: FeatureMatrix(rows: rows.count, columns: 4, values: values),
        labels: rows.map(\.label), pixels: Array(rows.indices)),
      regions: rows.map { $0.site % 2 }, regionNames: ["North", "South"], sites: rows.map(\.site),
      siteLocations: (0..<siteCount).map {
        SiteLocation(
          x: 8 + (0.37 * Double($0)).truncatingRemainder(dividingBy: 2.9),
          y: 44 + (0.23 * Double($0)).truncatingRemainder(dividingBy: 1.9))
      }, crsWKT: wgs84)
  }

  /// P = total / 100 + 0.0005: P ≥ 0.5, 0.7, 0.9 first at 50.0, 70.0 and 90.0 mm (the
  /// 0.0005 keeps Float rounding off the boundary).
  static func linear(_ raw: FeatureMatrix) -> [Float] {
    (0..<raw.rows).map { raw[$0, 0] / 100 + 0.0005 }
  }

  @Test func findsTheFirstTotalReachingEachLevel() throws {
    let events = Self.events([
      (80, 2, 1, 0),  // ceiling 120 mm: reaches all three
      (40, 1, 1, 1),  // ceiling 60 mm: reaches 0.5 only
      (62, 5, 1, 2),  // ceiling 93 mm: all three
      (80, 6, 1, 3),  // six days: not searched
      (80, 2, 0, 4),  // a negative: not searched
    ])
    var intensitiesHold = true
    let crossings = try ThresholdSearch().run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
      for row in 0..<raw.rows {
        let expected = raw[row, 0] / (raw[row, 1] / 24)
        intensitiesHold = intensitiesHold && abs(raw[row, 2] - expected) <= 1e-5 * expected
      }
      return Self.linear(raw)
    }
    #expect(intensitiesHold)
    #expect(crossings.map(\.row) == [0, 1, 2])
    #expect(crossings[0].totals == [50, 70, 90])
    #expect(crossings[1].totals == [50, nil, nil])
    #expect(crossings[2].totals == [50, 70, 90])
    #expect(crossings[1].observedTotal == 40)
  }

  /// Steps 0, 0.1, …, 1.5 × total, the static columns untouched; chunks of events are one
  /// prediction each, and the chunking does not change the result.
  @Test func stepsEveryTenthOfAMillimetreInFewPredictions() throws {
    let events = Self.events((0..<6).map { (Float(20 + 10 * $0), 3, 1, $0) })
    var rowsSeen: [[Float]] = []
    var calls = 0
    let search = ThresholdSearch(batchRows: 2000)
    let crossings = try search.run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
      calls += 1
      rowsSeen += (0..<raw.rows).map { [raw[$0, 0], raw[$0, 3]] }
      return Self.linear(raw)
    }
    // Event e (total 20 + 10e) takes 1.5 × total / 0.1 + 1 steps: 301, 451, …, 1051.
    let steps = (0..<6).map { 15 * (20 + 10 * $0) + 1 }
    #expect(ThresholdSearch.stepCount(to: 1.5 * 20, step: 0.1) == 301)
    #expect(rowsSeen.count == steps.reduce(0, +))
    // Chunks of at most 2000 rows: events 0–2 (1353 rows), 3–4 (1652), 5.
    #expect(calls == 3)
    var offset = 0
    for (event, count) in steps.enumerated() {
      for k in [0, 1, count - 1] {
        #expect(abs(rowsSeen[offset + k][0] - Float(Double(k) * 0.1)) < 1e-4)
        #expect(rowsSeen[offset + k][1] == Float(event))
      }
      offset += count
    }
    let unbatched = try ThresholdSearch(batchRows: 1).run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in Self.linear(raw)
    }
    #expect(unbatched == crossings)
  }

  /// Whatever the probability does (here it rises and falls with the total), an event's
  /// thresholds never decrease from 0.5 to 0.9, and an event that reaches a level has
  /// reached every lower one.
  @Test func thresholdsNeverDecreaseFromLowToHighLevels() throws {
    let events = Self.events((0..<40).map { (Float(15 + 3 * $0), Float(1 + $0 % 5), 1, $0) })
    let crossings = try ThresholdSearch().run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
      (0..<raw.rows).map { row in
        let (total, event) = (raw[row, 0], raw[row, 3])
        return 0.5 + 0.48 * sin(total / (3 + event)) * (total / (total + 20))
      }
    }
    #expect(crossings.count == 40)
    var reachedSome = 0
    for crossing in crossings {
      let reached = crossing.totals.prefix { $0 != nil }.compactMap { $0 }
      #expect(crossing.totals.dropFirst(reached.count).allSatisfy { $0 == nil })
      #expect(zip(reached, reached.dropFirst()).allSatisfy { $0 <= $1 })
      reachedSome += reached.count > 1 ? 1 : 0
    }
    #expect(reachedSome > 10)
  }

  /// Per site, the mean over the events that reach each level; events and sites that never
  /// reach one are counted and listed.
  @Test func siteThresholdsAndTheSummaryCountWhatNeverReachesALevel() throws {
    let events = Self.events([
      (80, 2, 1, 0),  // 50, 70, 90
      (40, 1, 1, 0),  // 50, –, –
      (30, 3, 1, 1),  // –, –, –  (ceiling 45 mm)
      (100, 4, 1, 1),  // 50, 70, 90
    ])
    let search = ThresholdSearch()
    var crossings = try search.run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in Self.linear(raw)
    }
    // Site 0's second event crosses 0.5 and 0.7 at 60 and 65 mm instead.
    crossings[1].totals = [60, 65, nil]
    let locations = events.siteLocations.map { GeographicPoint(longitude: $0.x, latitude: $0.y) }
    let sites = SiteThreshold.sites(
      of: crossings, events: events, locations: locations, levels: 3)
    #expect(sites.map(\.site) == [0, 1])
    #expect(sites[0].events == 2 && sites[0].reaching == [2, 2, 1])
    #expect(sites[0].thresholds == [55, 67.5, 90])
    #expect(sites[1].reaching == [1, 1, 1])
    #expect(sites[1].thresholds == [50, 70, 90])
    #expect(sites[0].region == "North" && sites[1].region == "South")
    let summary = ThresholdSummary(search: search, crossings: crossings, sites: sites)
    #expect(summary.eventsSearched == 4 && summary.sites == 2)
    #expect(summary.levels.map(\.eventsReaching) == [3, 3, 2])
    #expect(summary.levels.map(\.eventsNeverReaching) == [[2], [2], [1, 2]])
    #expect(summary.levels.map(\.sitesNeverReaching) == [[], [], []])
    #expect(summary.sitesWithFallingMeans.isEmpty)
    let csv = SiteThreshold.csv(sites, levels: search.levels).split(separator: "\n")
    #expect(csv[0] == "site,x,y,region,events,t50,t70,t90")
    #expect(csv[1] == "0,8.000000,44.000000,North,2,55.000,67.500,90.000")
  }

  /// A site whose events reach 0.5 late but one of them reaches 0.7 early has a 0.7 mean
  /// below its 0.5 mean; the summary names it. A site none of whose events reaches a level
  /// is listed for it.
  @Test func summaryNamesFallingMeansAndSitesThatNeverReachALevel() {
    let events = Self.events([(80, 2, 1, 0), (80, 2, 1, 0), (30, 2, 1, 1)])
    let crossings = [
      ThresholdSearch.Crossing(row: 0, observedTotal: 80, totals: [20, 30, nil]),
      ThresholdSearch.Crossing(row: 1, observedTotal: 80, totals: [100, nil, nil]),
      ThresholdSearch.Crossing(row: 2, observedTotal: 30, totals: [40, nil, nil]),
    ]
    let locations = events.siteLocations.map { GeographicPoint(longitude: $0.x, latitude: $0.y) }
    let sites = SiteThreshold.sites(
      of: crossings, events: events, locations: locations, levels: 3)
    #expect(sites[0].thresholds == [60, 30, nil])
    let summary = ThresholdSummary(search: ThresholdSearch(), crossings: crossings, sites: sites)
    #expect(summary.sitesWithFallingMeans == [0])
    #expect(summary.levels.map(\.sitesNeverReaching) == [[], [1], [0, 1]])
    #expect(summary.levels[2].sitesReaching == 0)
  }

  /// A run directory with an XGBoost model that learnt P rising with the total (labels:
  /// total > 45 mm, noisy). Returns the directory and the model with its encoder.
  static func trainedRun() throws -> (URL, BoostedTrees, FeatureEncoder, EventSet) {
    var generator = RandomGenerator(seed: 7)
    var rows: [(total: Float, days: Float, label: Float, site: Int)] = []
    for index in 0..<600 {
      let total = Float(5 + generator.nextUniform() * 115)
      let days = Float(1 + index % 7)
      let label: Float = total + 15 * generator.nextNormal() > 45 ? 1 : 0
      rows.append((total, days, label, index % 40))
    }
    let events = Self.events(rows)
    let encoder = FeatureEncoder(fittedOn: events.table, oneHot: false)
    var settings = BoostedTrees.Settings()
    settings.trees = 20
    settings.maxDepth = 3
    settings.threads = 1
    let model = BoostedTrees(settings: settings)
    try model.fit(
      encoder.encode(events.table.features, source: "train"), events.table.labels)
    let run = try TestPaths.temporaryDirectory()
    let models = run.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    let json = String(decoding: try JSONEncoder().encode(encoder), as: UTF8.self)
    try model.stored().write(
      to: models.appendingPathComponent("xgboost.safetensors").path,
      metadata: [FeatureEncoder.metadataKey: json])
    return (run, model, encoder, events)
  }

  /// Through the run's model, each event's thresholds are those of a one-step-at-a-time
  /// scan with single-row predictions; the files are written and the maps read back.
  @Test func runSearchesTheRunsModelAndWritesTheMaps() throws {
    let (run, model, encoder, events) = try Self.trainedRun()
    defer { try? FileManager.default.removeItem(at: run) }
    let out = run.appendingPathComponent("maps").path
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let result = try ThresholdMaps.run(
      runDirectory: run.path, events: events, eventsSource: "events.safetensors", out: out,
      search: ThresholdSearch(levels: [0.5, 0.7]))
    let search = ThresholdSearch(levels: [0.5, 0.7])
    let rows = try search.eligibleRows(of: events, source: "events")
    #expect(result.summary.eventsSearched == rows.count)
    let crossings = try search.run(events: events, source: "events") {
      (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
      try! model.predictProbability(encoder.encode(raw, source: "steps"))
    }
    for crossing in crossings.prefix(6) {
      let row = events.table.features.row(crossing.row)
      let days = row[row.startIndex + 1] / 24
      var expected: [Double?] = [nil, nil]
      for k in 0..<ThresholdSearch.stepCount(to: 1.5 * crossing.observedTotal, step: 0.1) {
        var one = Array(row)
        one[0] = Float(Double(k) * 0.1)
        one[2] = Float(Double(k) * 0.1 / Double(days))
        let p = try model.predictProbability(
          encoder.encode(FeatureMatrix(rows: 1, columns: 4, values: one), source: "step"))[0]
        for (level, threshold) in [0.5, 0.7].enumerated()
        where expected[level] == nil && Double(p) >= threshold {
          expected[level] = Double(k) * 0.1
        }
      }
      #expect(crossing.totals == expected, "row \(crossing.row)")
    }
    #expect(result.maps.map(\.file) == ["threshold_p50.tif", "threshold_p70.tif"])
    #expect(result.skipped.isEmpty)
    for file in result.files {
      #expect(
        FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(file)))
    }
    let csv = try String(contentsOfFile: out + "/thresholds.csv", encoding: .utf8)
    #expect(csv.hasPrefix("site,x,y,region,events,t50,t70\n"))
    #expect(csv.split(separator: "\n").count == 1 + result.summary.sites)
  }

  @Test func aRunWithoutTheModelIsAnErrorNamingItsFile() throws {
    let run = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: run) }
    let error = #expect(throws: RainfallError.self) {
      try ThresholdMaps.run(
        runDirectory: run.path, events: Self.events([(50, 2, 1, 0)]), eventsSource: "events",
        out: run.path)
    }
    #expect(error?.subject == run.appendingPathComponent("models/xgboost.safetensors").path)
  }

  @Test func anEventSetWithoutShortPositivesIsAnErrorNamingIt() throws {
    let (run, _, _, _) = try Self.trainedRun()
    defer { try? FileManager.default.removeItem(at: run) }
    let events = Self.events([(50, 6, 1, 0), (50, 2, 0, 1), (50, 0.5, 1, 2)])
    let error = #expect(throws: RainfallError.self) {
      try ThresholdMaps.run(
        runDirectory: run.path, events: events, eventsSource: "ev/events.safetensors",
        out: run.path)
    }
    #expect(error?.subject == "ev/events.safetensors")
    #expect(error?.message.contains("no positive events of 1–5 days") == true)
  }

  @Test func levelsMustRise() {
    #expect(throws: RainfallError.self) {
      try ThresholdSearch(levels: [0.7, 0.5]).run(
        events: Self.events([(50, 2, 1, 0)]), source: "events"
      ) { (raw: FeatureMatrix) throws(RainfallError) -> [Float] in Self.linear(raw) }
    }
  }
}
