import Foundation
import Rainfall
import TestSupport
import Testing

extension LandslideCatalogueTests {
  /// The configs' date patterns, each field width, and days that do not exist.
  @Suite struct DateFormats {
    @Test func readsEachLayoutOfTheConfigs() throws {
      let june = Day(year: 2019, month: 6, day: 1)
      #expect(try DateFormat("%Y-%m-%d").day("2019-06-01") == june)
      #expect(try DateFormat("%d/%m/%Y").day("01/06/2019") == june)
      #expect(try DateFormat("%d/%m/%Y").day("1/6/2019") == june)
      #expect(try DateFormat("%Y%m%d").day("20190601") == june)
      #expect(try DateFormat("%Y-%m-%dT%H:%M:%S").day("2019-06-01T23:59:59") == june)
      #expect(try DateFormat("%d%%%m%%%Y").day("01%06%2019") == june)
    }

    @Test func takesOneOrTwoDigitsBeforeALiteralOrTheEnd() throws {
      let nasa = try DateFormat("%m/%d/%Y %H:%M")
      #expect(nasa.day("8/1/2008 0:00") == Day(year: 2008, month: 8, day: 1))
      #expect(nasa.day("12/31/2008 23:59") == Day(year: 2008, month: 12, day: 31))
      #expect(nasa.day("08/01/2008 00:00") == Day(year: 2008, month: 8, day: 1))
      #expect(nasa.day("8/1/2008 0:0") == Day(year: 2008, month: 8, day: 1))
      #expect(nasa.day("8/1/2008 0:000") == nil)
      #expect(nasa.day("108/1/2008 0:00") == nil)
      #expect(nasa.day("8/1/08 0:00") == nil)
      // Between two fields the width must be exact, or "2019611" would be ambiguous.
      #expect(try DateFormat("%Y%m%d").day("2019611") == nil)
    }

    @Test func rejectsDaysAndTimesThatDoNotExist() throws {
      let format = try DateFormat("%Y-%m-%d %H:%M:%S")
      #expect(format.day("2020-02-29 00:00:00") == Day(year: 2020, month: 2, day: 29))
      #expect(format.day("2000-02-29 00:00:00") == Day(year: 2000, month: 2, day: 29))
      #expect(format.day("2019-02-29 00:00:00") == nil)
      #expect(format.day("1900-02-29 00:00:00") == nil)
      #expect(format.day("2019-02-30 00:00:00") == nil)
      #expect(format.day("2019-13-01 00:00:00") == nil)
      #expect(format.day("2019-00-01 00:00:00") == nil)
      #expect(format.day("2019-06-00 00:00:00") == nil)
      #expect(format.day("2019-06-01 24:00:00") == nil)
      #expect(format.day("2019-06-01 12:60:00") == nil)
      #expect(format.day("2019-06-01 12:00:60") == nil)
    }

    @Test func wantsTheWholeTextInThePattern() throws {
      let format = try DateFormat("%Y-%m-%d")
      #expect(format.day("2019-06-01 ") == nil)
      #expect(format.day("2019/06/01") == nil)
      #expect(format.day("2019-06-") == nil)
      #expect(format.day("") == nil)
    }

    @Test func badPatternsAreErrors() {
      func message(_ pattern: String) -> String? {
        #expect(throws: RainfallError.self) { try DateFormat(pattern) }?.message
      }
      #expect(message("%Y-%m-%q") == "'%Y-%m-%q' has %q; expected %Y %m %d %H %M %S or %%")
      #expect(message("%Y-%m-%d %") == "'%Y-%m-%d %' ends in a lone %")
      #expect(message("%Y-%m-%d %d") == "'%Y-%m-%d %d' has %d twice")
      #expect(message("%Y-%m") == "'%Y-%m' needs %Y, %m and %d")
    }
  }
}

/// A day of the tests' catalogues.
private func day(_ iso: String) -> Day { Day(iso: iso)! }

@Suite struct LandslideCatalogueTests {
  let columns = CatalogueColumns(
    id: "id", date: "date", x: "lon", y: "lat", trigger: "trigger", country: "country")

  func write(_ text: String, _ name: String = #function) throws -> String {
    let path = try TestPaths.temporaryDirectory(name).appendingPathComponent("catalogue.csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func read(
    _ text: String, columns: CatalogueColumns? = nil, format: String = "%Y-%m-%d",
    filter: CatalogueFilter = CatalogueFilter(), _ name: String = #function
  ) throws -> LandslideCatalogue {
    try LandslideCatalogue.read(
      csv: write(text, name), columns: columns ?? self.columns, dateFormat: DateFormat(format),
      filter: filter)
  }

  func error(_ text: String, columns: CatalogueColumns, _ name: String = #function) throws
    -> RainfallError?
  {
    let path = try write(text, name)
    return #expect(throws: RainfallError.self) {
      try LandslideCatalogue.read(
        csv: path, columns: columns, dateFormat: DateFormat("%Y-%m-%d"))
    }
  }

  @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
    let text =
      "\u{FEFF}id,\"place\",date,lon,lat,trigger,country\r\n"
      + "a,\"Sigou Village, Loufan County\",2008-08-01,107.45,32.5625,rain,China\r\n"
      + "b,\"the \"\"big\"\" one\",2009-01-02,-122.663,45.42,rain,United States\r\n"
      + "c,\"two\nlines\",2010-03-04, 7.5 ,46,rain,\"Italy\"\r\n"
      + "d,,2011-05-06,8,47,rain,Italy"
    let catalogue = try read(
      text, columns: CatalogueColumns(id: "id", date: "date", x: "lon", y: "lat", extra: ["place"]))
    #expect(
      catalogue.entries == [
        CatalogueEntry(
          id: "a", day: day("2008-08-01"), x: 107.45, y: 32.5625,
          extra: ["place": "Sigou Village, Loufan County"]),
        CatalogueEntry(
          id: "b", day: day("2009-01-02"), x: -122.663, y: 45.42,
          extra: ["place": "the \"big\" one"]),
        CatalogueEntry(
          id: "c", day: day("2010-03-04"), x: 7.5, y: 46,
          extra: ["place": "two\nlines"]),
        CatalogueEntry(
          id: "d", day: day("2011-05-06"), x: 8, y: 47, extra: ["place": ""]),
      ])
    #expect(catalogue.skipped.isEmpty)
    #expect(catalogue.filteredOut == 0)
  }

  @Test func rowsAreNumberedWithoutAnIdColumnAndRegionsRead() throws {
    let text = """
      date,lon,lat,province

      2019-06-01,10,45,Liguria
      2019-06-02,11,46,

      """
    let catalogue = try read(
      text, columns: CatalogueColumns(date: "date", x: "lon", y: "lat", region: "province"))
    #expect(
      catalogue.entries == [
        CatalogueEntry(
          id: "1", day: day("2019-06-01"), x: 10, y: 45, region: "Liguria"),
        CatalogueEntry(id: "2", day: day("2019-06-02"), x: 11, y: 46),
      ])
    #expect(catalogue.rowCount == 2)
  }

  @Test func badRowsAreSkippedAndNamedByLine() throws {
    let text = """
      id,date,lon,lat,trigger,country
      ok,2019-06-01,10,45,rain,Italy
      late,2019-02-30,10,45,rain,Italy
      "quoted
      id",13/45/2008,10,45,rain,Italy
      nodate,,10,45,rain,Italy
      ,2019-06-01,10,45,rain,Italy
      text,2019-06-01,ten,45,rain,Italy
      north,2019-06-01,10,95.5,rain,Italy
      east,2019-06-01,180.5,45,rain,Italy
      nan,2019-06-01,nan,45,rain,Italy
      empty,2019-06-01,10,,rain,Italy
      short,2019-06-01,10,45,rain
      snow,2019-06-01,ten,45,snow,Italy
      ok2,2019-06-02,-180,-90,rain,Italy
      """
    let catalogue = try read(text, filter: CatalogueFilter(triggers: ["rain"]))
    #expect(catalogue.entries.map(\.id) == ["ok", "ok2"])
    #expect(
      catalogue.skipped.map(\.description) == [
        "line 3: date '2019-02-30' is not a date in the format %Y-%m-%d",
        "line 4: date '13/45/2008' is not a date in the format %Y-%m-%d",
        "line 6: date is empty",
        "line 7: id is empty",
        "line 8: lon 'ten' is not a number",
        "line 9: lat '95.5' is outside -90…90",
        "line 10: lon '180.5' is outside -180…180",
        "line 11: lon 'nan' is not a number",
        "line 12: lat is empty",
        "line 13: 5 fields; the header has 6",
      ])
    // The snow row is the filter's, whatever its coordinates.
    #expect(catalogue.filteredOut == 1)
    #expect(catalogue.rowCount == 13)
  }

  @Test func projectedCoordinatesHaveNoRange() throws {
    let text = "id,date,lon,lat\na,2019-06-01,532000.5,4890000\n"
    let columns = CatalogueColumns(id: "id", date: "date", x: "lon", y: "lat", geographic: false)
    let catalogue = try read(text, columns: columns)
    #expect(catalogue.entries.map(\.x) == [532000.5])
    #expect(catalogue.entries.map(\.y) == [4_890_000])
  }

  @Test func filtersByTriggerCountryBoxAndDates() throws {
    let text = """
      id,date,lon,lat,trigger,country
      a,2019-06-01,10,45,Rain,Italy
      b,2019-06-02,10,45,downpour,ITALY
      c,2019-06-03,10,45,earthquake,Italy
      d,2019-06-04,7,46,rain,Switzerland
      e,2019-06-05,12,48,rain,Italy
      f,2019-06-06,,,rain,France
      g,2019-05-31,10,45,rain,Italy
      h,2019-06-10,10,45,rain,Italy
      i,2019-06-09,10,45,rain,
      """
    func ids(_ filter: CatalogueFilter, _ name: String = #function) throws -> [String] {
      try read(text, filter: filter, name).entries.map(\.id)
    }
    #expect(try ids(CatalogueFilter()) == ["a", "b", "c", "d", "e", "g", "h", "i"])
    #expect(
      try ids(CatalogueFilter(triggers: ["rain", "DOWNPOUR"])) == [
        "a", "b", "d", "e", "g", "h", "i",
      ])
    #expect(try ids(CatalogueFilter(countries: ["italy"])) == ["a", "b", "c", "e", "g", "h"])
    #expect(
      try ids(CatalogueFilter(boundingBox: .init(minX: 8, minY: 44, maxX: 12, maxY: 47)))
        == ["a", "b", "c", "g", "h", "i"])
    let june = CatalogueFilter(
      first: day("2019-06-01"), last: day("2019-06-09"))
    #expect(try ids(june) == ["a", "b", "c", "d", "e", "i"])
    let all = CatalogueFilter(
      triggers: ["rain", "downpour"], countries: ["Italy"],
      boundingBox: .init(minX: 10, minY: 45, maxX: 10, maxY: 45),
      first: day("2019-06-02"))
    let catalogue = try read(text, filter: all)
    #expect(catalogue.entries.map(\.id) == ["b", "h"])
    // f has no coordinates but is France's: filtered, not skipped.
    #expect(catalogue.skipped.isEmpty)
    #expect(catalogue.filteredOut == 7)
  }

  @Test func aMissingColumnNamesItsKeyAndTheHeader() throws {
    let text = "id,when,lon,lat\na,2019-06-01,10,45\n"
    let missing = try error(text, columns: CatalogueColumns(date: "date", x: "lon", y: "lat"))
    #expect(
      missing?.message == "no column 'date' (columns.date); the header has id, when, lon, lat")
    let extra = try error(
      text, columns: CatalogueColumns(date: "when", x: "lon", y: "lat", extra: ["size"]))
    #expect(extra?.message == "no column 'size' (columns.extra); the header has id, when, lon, lat")
    let path = try write(text)
    let filter = #expect(throws: RainfallError.self) {
      try LandslideCatalogue.read(
        csv: path, columns: CatalogueColumns(date: "when", x: "lon", y: "lat"),
        dateFormat: DateFormat("%Y-%m-%d"), filter: CatalogueFilter(triggers: ["rain"]))
    }
    #expect(filter?.message == "a trigger filter needs columns.trigger")
  }

  @Test func unreadableAndBrokenFilesAreErrors() throws {
    let columns = CatalogueColumns(date: "date", x: "lon", y: "lat")
    let missing = #expect(throws: RainfallError.self) {
      try LandslideCatalogue.read(
        csv: "/nonexistent/catalogue.csv", columns: columns, dateFormat: DateFormat("%Y-%m-%d"))
    }
    #expect(missing?.subject == "/nonexistent/catalogue.csv")
    #expect(missing?.message.hasPrefix("cannot read") == true)
    #expect(try error("", columns: columns)?.message == "empty file; expected a header line")
    let unclosed = try error(
      "date,lon,lat\n2019-06-01,10,45\n\"2019-06-02,10,45\n", columns: columns)
    #expect(unclosed?.message == "line 3: a quoted field is never closed")
  }
}

extension LandslideCatalogueTests {
  /// The NASA Global Landslide Catalog as shipped (11,032 rows, CRLF, no embedded line
  /// breaks, no bad dates or coordinates). The counts are Python's:
  ///
  ///     import csv
  ///     rows = list(csv.DictReader(open("nasa_glc.csv", newline="", encoding="utf-8")))
  ///     rain = {"rain", "downpour", "continuous_rain"}
  ///     italy = [r for r in rows if r["landslide_trigger"] in rain
  ///              and r["country_name"] == "Italy"]
  ///     box = [r for r in rows if r["landslide_trigger"] in rain
  ///            and 6 <= float(r["longitude"]) <= 14 and 44 <= float(r["latitude"]) <= 47.5]
  ///     # len(rows) 11032, len(italy) 51 (downpour 44, rain 5, continuous_rain 2),
  ///     # first 976 2009-01-26 (14.252, 40.8403) Campania, last 2674 2010-10-31 Liguria,
  ///     # 8 in 2014; len(box) 52 (Italy 24, Switzerland 17, Austria 4, France 4, none 3)
  @Suite(
    .enabled(if: TestPaths.hasSharedData, "shared data not found at \(TestPaths.sharedData.path)"))
  struct NASAGlobalLandslideCatalog {
    let path = TestPaths.sharedData.appendingPathComponent("catalogues/nasa_glc.csv").path
    let rain: Set<String> = ["rain", "downpour", "continuous_rain"]

    @Test func everyRowReads() throws {
      let catalogue = try LandslideCatalogue.read(
        csv: path, columns: .nasaGLC, dateFormat: DateFormat("%m/%d/%Y %H:%M"))
      #expect(catalogue.entries.count == 11_032)
      #expect(catalogue.skipped.isEmpty)
      #expect(catalogue.filteredOut == 0)
      #expect(
        catalogue.entries.first
          == CatalogueEntry(id: "684", day: day("2008-08-01"), x: 107.45, y: 32.5625))
      #expect(Set(catalogue.entries.map(\.id)).count == 11_032)
      #expect(catalogue.entries.map(\.day).min() == day("1988-11-07"))
      #expect(catalogue.entries.map(\.day).max() == day("2017-09-28"))
    }

    @Test func rainLandslidesOfItaly() throws {
      var columns = CatalogueColumns.nasaGLC
      columns.region = "admin_division_name"
      columns.extra = ["landslide_trigger"]
      let filter = CatalogueFilter(triggers: rain, countries: ["Italy"])
      let catalogue = try LandslideCatalogue.read(
        csv: path, columns: columns, dateFormat: .nasaGLC, filter: filter)
      #expect(catalogue.entries.count == 51)
      #expect(catalogue.skipped.isEmpty)
      #expect(catalogue.rowCount == 11_032)
      let triggers = Dictionary(grouping: catalogue.entries) { $0.extra["landslide_trigger"]! }
      #expect(triggers.mapValues(\.count) == ["downpour": 44, "rain": 5, "continuous_rain": 2])
      #expect(
        catalogue.entries.first
          == CatalogueEntry(
            id: "976", day: day("2009-01-26"), x: 14.252, y: 40.8403,
            region: "Campania", extra: ["landslide_trigger": "downpour"]))
      #expect(catalogue.entries.last?.id == "2674")
      #expect(catalogue.entries.last?.region == "Liguria")

      let year = CatalogueFilter(
        triggers: rain, countries: ["ITALY"], first: day("2014-01-01"),
        last: day("2014-12-31"))
      let in2014 = try LandslideCatalogue.read(
        csv: path, columns: .nasaGLC, dateFormat: .nasaGLC, filter: year)
      #expect(
        Set(in2014.entries.map(\.id)) == [
          "6381", "5796", "6590", "6380", "6249", "6383", "5942", "5830",
        ])
    }

    @Test func rainLandslidesOfTheAlpsByBox() throws {
      let filter = CatalogueFilter(
        triggers: rain, boundingBox: .init(minX: 6, minY: 44, maxX: 14, maxY: 47.5))
      let catalogue = try LandslideCatalogue.read(
        csv: path, columns: .nasaGLC, dateFormat: .nasaGLC, filter: filter)
      #expect(catalogue.entries.count == 52)
      #expect(catalogue.filteredOut == 11_032 - 52)
    }
  }
}
