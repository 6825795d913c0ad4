import Configuration
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// Daily rain and soil moisture as per-site CSV series (gauge exports): the same rain as
/// rasters gives the same events, and a gap, a repeated day or a bad row is an error
/// naming where it is.
@Suite struct SiteSeriesTests {
  static let first = Day(year: 2019, month: 6, day: 1)!
  static let days = 40

  /// Two cells of 0.05° from (10, 45): site A's cell is column 0, B's column 1.
  static let grid = try! RasterGrid(
    width: 2, height: 1,
    geoTransform: GeoTransform(originX: 10, pixelWidth: 0.05, originY: 45, pixelHeight: -0.05),
    epsg: 4326)

  /// Wet spells of different lengths at each site; soil moisture rising through June.
  static func rain(_ site: Int, _ day: Int) -> Float {
    (day + 3 * site) % 6 < 2 + site ? Float(4 + day % 5 + 2 * site) : 0.2
  }

  static func moisture(_ site: Int, _ day: Int) -> Float { 0.1 + 0.005 * Float(day + site) }

  static let rules: EventRules = {
    var rules = EventRules()
    rules.windowDays = 10
    rules.antecedentDays = 3
    rules.lowestTotalShare = 0
    rules.negativesPerPositive = 0
    return rules
  }()

  static func write(_ text: String, _ name: String, in root: URL) throws -> String {
    let path = root.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// A long CSV of both sites' series, rows in reverse order.
  static func seriesCSV(_ value: (Int, Int) -> Float, header: String = "site,date,value")
    -> String
  {
    var lines: [String] = []
    for site in 0..<2 {
      for day in 0..<days { lines.append("\(["A", "B"][site]),\(first + day),\(value(site, day))") }
    }
    return ([header] + lines.reversed()).joined(separator: "\n") + "\n"
  }

  static func rasters(_ value: (Int, Int) -> Float, _ name: String, in root: URL) throws -> String {
    let directory = root.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try writeGeoTIFF(
      path: directory.appendingPathComponent("stack.tif").path, grid: grid,
      bands: (0..<days).map { day in
        RasterBand(description: (first + day).description, values: [value(0, day), value(1, day)])
      })
    return directory.path
  }

  /// Landslides at A (two), B (one, and one too early for its series) and C (off the
  /// rain grid, with no series).
  static let catalogue = """
    id,date,x,y,gauge,region
    a1,2019-07-01,10.02,44.97,A,North
    b1,2019-07-04,10.07,44.98,B,South
    a2,2019-07-06,10.03,44.99,A,North
    early,2019-06-05,10.08,44.96,B,South
    c1,2019-07-01,11.5,44.97,C,North

    """

  static func study(
    in root: URL, catalogue: String = Self.catalogue, rain: String, soilMoisture: String?,
    statics: String
  ) throws -> RainfallStudy {
    let catalogue = try write(catalogue, "catalogue.csv", in: root)
    let config = try RainfallConfig.parse(
      """
      inputs:
        files:
          catalogue:
            path: \(catalogue)
            columns: {id: id, date: date, x: x, y: y, site: gauge}
            date_format: "%Y-%m-%d"
          rain: \(rain)
      \(soilMoisture.map { "    soil_moisture: \($0)" } ?? "")
          statics: \(statics)
          regions: {column: region}
      """, file: root.appendingPathComponent("study.yaml").path)
    guard case .files(let files) = config.inputs else { throw RainfallError("test", "files") }
    return try RainfallStudy(files: files)
  }

  @Test func csvSeriesGiveTheEventsOfTheSameRainAsRasters() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let statics = root.appendingPathComponent("statics")
    try FileManager.default.createDirectory(at: statics, withIntermediateDirectories: true)
    try writeGeoTIFF(
      path: statics.appendingPathComponent("slope.tif").path, grid: Self.grid,
      bands: [RasterBand(description: "slope", values: [12, 31])])
    let rainRasters = try Self.rasters(Self.rain, "rain", in: root)
    let moistureRasters = try Self.rasters(Self.moisture, "moisture", in: root)
    let rainCSV = try Self.write(
      Self.seriesCSV(Self.rain, header: "station,day,rain_mm"), "rain.csv", in: root)
    let moistureCSV = try Self.write(Self.seriesCSV(Self.moisture), "moisture.csv", in: root)
    let gauges = "{csv: \(rainCSV), series_columns: {site: station, date: day, value: rain_mm}}"

    let reference = try Self.study(
      in: root, rain: rainRasters, soilMoisture: moistureRasters, statics: statics.path)
    let expected = try RainfallExtraction(study: reference, rules: Self.rules)
    #expect(expected.table.rows.count > 6)
    #expect(Set(expected.table.rows.map(\.landslide)) == ["a1", "a2", "b1"])
    #expect(expected.table.rows.allSatisfy { $0.event.antecedentSoilMoisture != nil })
    for soilMoisture in ["{csv: \(moistureCSV)}", moistureRasters] {
      let study = try Self.study(
        in: root, rain: gauges, soilMoisture: soilMoisture, statics: statics.path)
      let extraction = try RainfallExtraction(study: study, rules: Self.rules)
      #expect(extraction.table.rows == expected.table.rows)
      #expect(
        extraction.unplaced.map(\.description) == [
          "c1: site 'C' has no series in \(rainCSV)",
          "early: 2019-06-05: its window needs daily series from 2019-05-23; site 'B''s rain "
            + "series covers 2019-06-01–2019-07-10, the soil moisture 2019-06-01–2019-07-10",
        ])
      // Sites lie at the mean of their landslides, in EPSG:4326.
      let sites = extraction.table.siteLocations
      #expect(sites.count == 2)
      #expect(abs(sites[0].x - 10.025) < 1e-9 && abs(sites[0].y - 44.98) < 1e-9)
      #expect(abs(sites[1].x - 10.075) < 1e-9 && abs(sites[1].y - 44.97) < 1e-9)
      #expect(study.crsWKT == Self.grid.crsWKT)
    }
  }

  @Test func aGapOrARepeatedDayNamesTheSiteAndTheDays() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    func read(_ rows: String) throws -> SiteSeries {
      try SiteSeries(
        csv: try Self.write("site,date,value\n" + rows, "rain.csv", in: root), site: "site",
        date: "date", value: "value", dateFormat: try DateFormat("%Y-%m-%d"), variable: "rain")
    }
    let series = try read("B,2019-06-02,2\nA,2019-06-02,1.5\nA,2019-06-01,1\n")
    #expect(series.sites["A"]!.first == Self.first && series.sites["A"]!.values == [1, 1.5])
    #expect(series.days(of: "B") == (Self.first + 1)...(Self.first + 1))
    #expect(series.days(of: "C") == nil)

    let gap = #expect(throws: RainfallError.self) {
      try read("A,2019-06-01,1\nB,2019-06-01,1\nA,2019-06-05,1\nA,2019-06-02,1\n")
    }
    #expect(
      gap?.message
        == "site 'A': no rain for 2019-06-03–2019-06-04 (its series runs 2019-06-01–2019-06-05; "
        + "a site needs every day from its first to its last)")
    let oneDay = #expect(throws: RainfallError.self) {
      try read("A,2019-06-01,1\nA,2019-06-03,1\n")
    }
    #expect(oneDay?.message.hasPrefix("site 'A': no rain for 2019-06-02 (") == true)
    let twice = #expect(throws: RainfallError.self) {
      try read("A,2019-06-01,1\nB,2019-06-02,1\nA,2019-06-02,1\nB,2019-06-02,3\n")
    }
    #expect(
      twice?.message
        == "site 'B': 2019-06-02 comes twice (lines 3 and 5); each site has one rain value a day")
  }

  @Test func aBadRowNamesItsLine() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    func read(_ rows: String) throws -> SiteSeries {
      try SiteSeries(
        csv: try Self.write("site,date,value\n" + rows, "rain.csv", in: root), site: "site",
        date: "date", value: "value", dateFormat: try DateFormat("%Y-%m-%d"), variable: "rain")
    }
    let value = #expect(throws: RainfallError.self) {
      try read("A,2019-06-01,1\nA,2019-06-02,n/a\n")
    }
    #expect(value?.message == "line 3: value 'n/a' is not a number (the rain of A)")
    let empty = #expect(throws: RainfallError.self) { try read("A,2019-06-01,\n") }
    #expect(empty?.message == "line 2: value '' is not a number (the rain of A)")
    let date = #expect(throws: RainfallError.self) {
      try read("A,2019-06-01,1\n\nA,2019-31-12,2\n")
    }
    #expect(date?.message == "line 4: date '2019-31-12' is not a date in the format %Y-%m-%d")
    let fields = #expect(throws: RainfallError.self) { try read("A,2019-06-01\n") }
    #expect(fields?.message == "line 2: 2 fields; the header has 3")
    let column = #expect(throws: RainfallError.self) {
      try SiteSeries(
        csv: try Self.write("station,date,value\n", "rain.csv", in: root), site: "site",
        date: "date", value: "value", dateFormat: try DateFormat("%Y-%m-%d"), variable: "rain")
    }
    #expect(column?.message.hasPrefix("no column 'site' (series_columns.site)") == true)
  }

  @Test func staticsComeFromACSVWithOneRowPerSite() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let rain = try Self.write(Self.seriesCSV(Self.rain), "rain.csv", in: root)
    let statics = try Self.write(
      "slope,site,lithology\n12.5,A,3\n31,B,\n", "statics.csv", in: root)
    let study = try Self.study(
      in: root, rain: "{csv: \(rain)}", soilMoisture: nil,
      statics: "{csv: \(statics), site_column: site}")
    #expect(study.statics.map(\.name) == ["slope", "lithology"])
    let (windows, sites, skipped) = try study.windows(rules: Self.rules)
    #expect(windows.map(\.landslide) == ["a1", "a2"])
    #expect(windows.allSatisfy { $0.statics == [12.5, 3] && $0.site == 0 && $0.region == "North" })
    #expect(sites.count == 2)
    // a1's window: its 10 days and the 3 antecedent ones before, through a2's day.
    #expect(windows[0].series.first == Day(year: 2019, month: 6, day: 18)!)
    #expect(windows[0].series.rain == (17..<36).map { Self.rain(0, $0) })
    #expect(windows[0].series.soilMoisture == nil)
    #expect(
      skipped.map(\.description) == [
        "c1: site 'C' has no series in \(rain)",
        "early: 2019-06-05: its window needs daily series from 2019-05-26; site 'B''s rain "
          + "series covers 2019-06-01–2019-07-10",
        "b1: site 'B' has no lithology in \(statics)",
      ])

    let bad = try Self.write("site,slope\nA,steep\n", "bad.csv", in: root)
    let error = #expect(throws: RainfallError.self) {
      try Self.study(
        in: root, rain: "{csv: \(rain)}", soilMoisture: nil, statics: "{csv: \(bad)}")
    }
    #expect(error?.message == "line 2: slope 'steep' is not a number (site 'A')")
  }

  /// Each site's series is cut from its own landslides' days: B's ends before A's
  /// landslide, and its window stops at its own.
  @Test func eachSiteReadsTheDaysOfItsOwnLandslides() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let rows =
      (0..<Self.days).map { "A,\(Self.first + $0),\(Self.rain(0, $0))" }
      + (0..<25).map { "B,\(Self.first + $0),\(Self.rain(1, $0))" }
    let rain = try Self.write(
      (["site,date,value"] + rows).joined(separator: "\n"), "rain.csv", in: root)
    let statics = try Self.write("site,slope\nA,1\nB,2\n", "statics.csv", in: root)
    let study = try Self.study(
      in: root,
      catalogue: """
        id,date,x,y,gauge,region
        a1,2019-07-01,10.02,44.97,A,North
        b0,2019-06-20,10.07,44.98,B,South
        """, rain: "{csv: \(rain)}", soilMoisture: nil, statics: "{csv: \(statics)}")
    let (windows, _, skipped) = try study.windows(rules: Self.rules)
    #expect(skipped.isEmpty)
    #expect(windows.map(\.landslide) == ["a1", "b0"])
    #expect(windows[0].series.first == Day(year: 2019, month: 6, day: 18)!)
    #expect(windows[0].series.rain == (17..<31).map { Self.rain(0, $0) })
    #expect(windows[1].series.first == Day(year: 2019, month: 6, day: 7)!)
    #expect(windows[1].series.rain == (6..<20).map { Self.rain(1, $0) })
    #expect(windows.map(\.statics) == [[1], [2]])
  }
}
