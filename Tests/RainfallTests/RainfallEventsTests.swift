import Configuration
import Foundation
import Testing

@testable import Rainfall

/// Calendar days against Python's `datetime.date` (`(date(y, m, d) - date(1970, 1, 1)).days`).
@Suite struct DayTests {
  @Test func daysCountFromTheEpoch() {
    let known = [
      ((1970, 1, 1), 0), ((2000, 3, 1), 11017), ((2020, 2, 29), 18321), ((1969, 12, 31), -1),
      ((1900, 3, 1), -25508), ((2100, 2, 28), 47540),
    ]
    for ((year, month, day), number) in known {
      let date = Day(year: year, month: month, day: day)
      #expect(date?.number == number, "\(year)-\(month)-\(day)")
      #expect(date.map { $0.civil == (year, month, day) } ?? false)
    }
    #expect(Day(year: 2019, month: 2, day: 29) == nil)
    #expect(Day(year: 1900, month: 2, day: 29) == nil)
    #expect(Day(year: 2000, month: 2, day: 29) != nil)
    #expect(Day(iso: "2019-06-01")?.description == "2019-06-01")
    #expect(Day(iso: "2019-6-1") == nil)
    // Every day of four centuries goes there and back.
    for number in stride(from: -80_000, to: 80_000, by: 7) {
      let (year, month, day) = Day(number).civil
      #expect(Day(year: year, month: month, day: day)?.number == number)
    }
  }
}

/// The seed's event rules on hand-made series: where dry spells end events on either side
/// of 1 June and 1 October, what an event holds, and which event triggers a landslide.
@Suite struct EventRulesTests {
  /// A series from `first` with `wet` days of 10 mm (and 0.5 mm drizzle on `drizzle`
  /// days, which stay dry), everything else 0.
  static func series(
    from first: Day, days: Int, wet: [Day], drizzle: [Day] = [], moisture: [Float]? = nil
  ) -> DailySeries {
    var rain = [Float](repeating: 0, count: days)
    for day in wet { rain[day - first] = 10 }
    for day in drizzle { rain[day - first] = 0.5 }
    return DailySeries(first: first, rain: rain, soilMoisture: moisture)
  }

  static func day(_ month: Int, _ day: Int, _ year: Int = 2019) -> Day {
    Day(year: year, month: month, day: day)!
  }

  /// Wet days around a dry spell of `dry` days starting on `start`: one event or two.
  func events(dry: Int, startingOn start: Day) -> [RainfallEvent] {
    let first = start - 10
    let wet = [start - 2, start - 1, start + dry, start + dry + 1]
    let rules = EventRules()
    return rules.events(
      in: Self.series(from: first, days: 30, wet: wet), from: first, through: first + 29)
  }

  @Test func dryDaysEndEventsBySeason() {
    // 48 h ends an event in June–September, 96 h in the other months: the spell's first
    // dry day decides.
    #expect(events(dry: 2, startingOn: Self.day(6, 1)).count == 2)
    #expect(events(dry: 2, startingOn: Self.day(5, 31)).count == 1)
    #expect(events(dry: 3, startingOn: Self.day(5, 31)).count == 1)
    #expect(events(dry: 4, startingOn: Self.day(5, 30)).count == 2)
    #expect(events(dry: 2, startingOn: Self.day(9, 30)).count == 2)
    #expect(events(dry: 2, startingOn: Self.day(10, 1)).count == 1)
    #expect(events(dry: 3, startingOn: Self.day(10, 1)).count == 1)
    #expect(events(dry: 4, startingOn: Self.day(10, 1)).count == 2)
    #expect(events(dry: 1, startingOn: Self.day(7, 15)).count == 1)
  }

  @Test func anEventHoldsItsRainDurationAndAntecedentMoisture() {
    let first = Self.day(1, 1)
    let wet = [Self.day(1, 20), Self.day(1, 22), Self.day(1, 23)]
    var moisture = [Float](repeating: 0.2, count: 60)
    for offset in 12..<19 { moisture[offset] = Float(offset) / 100 }  // 13–19 January
    var series = Self.series(
      from: first, days: 60, wet: wet, drizzle: [Self.day(1, 21), Self.day(1, 25)],
      moisture: moisture)
    series.rain[Self.day(1, 23) - first] = 4
    let events = EventRules().events(in: series, from: first, through: first + 59)
    #expect(events.count == 1)
    let event = events[0]
    #expect(event.start == Self.day(1, 20) && event.end == Self.day(1, 23))
    // The drizzle inside counts, the drizzle after the last wet day does not.
    #expect(event.total == 24.5)
    #expect(event.wetDays == 3)
    #expect(event.durationDays == 4 && event.durationHours == 96)
    #expect(event.intensity == 24.5 / 4)
    let expected = (12..<19).map { Double(Float($0) / 100) }.reduce(0, +) / 7
    #expect(abs((event.antecedentSoilMoisture ?? 0) - expected) < 1e-12)
  }

  @Test func windowsCutEventsAtTheirEdges() {
    let first = Self.day(3, 1)
    let series = Self.series(
      from: first, days: 40,
      wet: [Self.day(3, 5), Self.day(3, 6), Self.day(3, 20), Self.day(3, 21)])
    let rules = EventRules()
    let clipped = rules.events(in: series, from: Self.day(3, 6), through: Self.day(3, 20))
    #expect(clipped.map(\.start) == [Self.day(3, 6), Self.day(3, 20)])
    #expect(clipped.map(\.end) == [Self.day(3, 6), Self.day(3, 20)])
    // No antecedent moisture without a soil-moisture series.
    #expect(clipped.allSatisfy { $0.antecedentSoilMoisture == nil })
  }

  @Test func theTriggerIsTheClosestEventWithinTheGap() {
    let first = Self.day(1, 1)
    let series = Self.series(
      from: first, days: 80, wet: [Self.day(1, 10), Self.day(1, 11), Self.day(2, 1)])
    let rules = EventRules()
    // A landslide on a dry day, 5 days after the second event.
    var events = rules.events(in: series, from: first, through: Self.day(2, 6))
    #expect(events.count == 2)
    #expect(rules.trigger(of: Self.day(2, 6), among: events) == 1)
    // 10 days after is the last day a trigger counts; 11 is too late.
    events = rules.events(in: series, from: first, through: Self.day(2, 11))
    #expect(rules.trigger(of: Self.day(2, 11), among: events) == 1)
    events = rules.events(in: series, from: first, through: Self.day(2, 12))
    #expect(rules.trigger(of: Self.day(2, 12), among: events) == nil)
    // A landslide on a wet day: the event it ends.
    events = rules.events(in: series, from: first, through: Self.day(1, 11))
    #expect(rules.trigger(of: Self.day(1, 11), among: events) == 0)
    #expect(events[0].end == Self.day(1, 11))
    #expect(rules.trigger(of: Self.day(1, 5), among: []) == nil)
  }

  @Test func theTableDropsTheLowestTotalsAndRepeatedEvents() throws {
    let first = Self.day(1, 1, 2018)
    // Ten events of 1…10 wet days (10 mm each), 6 dry days apart.
    var wet: [Day] = []
    var day = first + 400
    for length in 1...10 {
      for offset in 0..<length { wet.append(day + offset) }
      day = day + length + 6
    }
    let series = Self.series(from: first, days: 600, wet: wet)
    let landslide = wet.last!
    func window(_ id: String, site: Int) -> EventTable.Window {
      .init(landslide: id, day: landslide, site: site, region: "A", statics: [1], series: series)
    }
    var rules = EventRules()
    rules.lowestTotalShare = 0.25
    let table = try EventTable(
      windows: [window("a", site: 0), window("b", site: 0), window("c", site: 1)],
      staticNames: ["slope"], categorical: [], rules: rules)
    // Site 0's second window repeats the first's ten events.
    #expect(table.report.duplicatesDropped == 10)
    // numpy.quantile([10, 20, …, 100] twice, 0.25) = 30: both sites' 10 and 20 go.
    #expect(table.report.lowTotalThreshold == 30)
    #expect(table.report.lowTotalDropped == 4)
    #expect(table.rows.count == 16 && table.positives == 2)
    #expect(table.rows.filter(\.label).map(\.event.total) == [100, 100])
    #expect(table.countsByRegion.map(\.positives) == [2])
    // A window the series does not cover names its landslide and the days.
    rules.windowDays = 600
    #expect(throws: RainfallError.self) {
      try EventTable(
        windows: [window("late", site: 0)], staticNames: [], categorical: [], rules: rules)
    }
    do {
      _ = try EventTable(
        windows: [window("late", site: 0)], staticNames: [], categorical: [], rules: rules)
    } catch {
      #expect(error.subject == "late" && error.message.contains("needs rain the series"))
    }
  }

  /// At most k negatives per positive in each region, the same draw from the same seed,
  /// positives and the rows' order kept; a region with fewer keeps all its negatives.
  @Test func negativesAreDrawnPerRegionToTheRatio() {
    func row(_ region: String, _ label: Bool, _ index: Int) -> LabelledEvent {
      LabelledEvent(
        landslide: "\(region)\(index)", site: index, region: region,
        event: RainfallEvent(
          start: Day(index), end: Day(index), total: Double(index), wetDays: 1,
          antecedentSoilMoisture: nil), label: label, statics: [])
    }
    var rows: [LabelledEvent] = []
    for index in 0..<40 { rows.append(row("A", index % 20 == 0, index)) }
    for index in 0..<6 { rows.append(row("B", index == 3, index)) }
    let kept = EventTable.sampleNegatives(rows, perPositive: 10, seed: 1)
    let a = kept.filter { $0.region == "A" }
    #expect(a.filter(\.label).count == 2 && a.count == 22)
    #expect(kept.filter { $0.region == "B" }.count == 6)
    let order = kept.map { rows.firstIndex(of: $0)! }
    #expect(order == order.sorted())
    #expect(EventTable.sampleNegatives(rows, perPositive: 10, seed: 1) == kept)
    #expect(EventTable.sampleNegatives(rows, perPositive: 10, seed: 2) != kept)
  }

  @Test func quantilesInterpolateAsNumPyDoes() {
    // numpy.quantile([1, 2, 3, 4, 10], [0.1, 0.9, 0, 1]) = [1.4, 7.6, 1, 10].
    let values = [1.0, 2, 3, 4, 10]
    #expect(abs(EventTable.quantile(values, 0.1) - 1.4) < 1e-12)
    #expect(abs(EventTable.quantile(values, 0.9) - 7.6) < 1e-12)
    #expect(EventTable.quantile(values, 0) == 1 && EventTable.quantile(values, 1) == 10)
  }

  @Test func thePowerLawScoresExceedance() {
    let curve = PowerLawThreshold()
    // Python: 7.7 * 24 ** 0.39 and 7.7 * 72 ** 0.39.
    #expect(abs(curve.threshold(hours: 24) - 26.593353674214423) < 1e-12)
    #expect(abs(curve.threshold(hours: 72) - 40.81787569651838) < 1e-12)
    let event = RainfallEvent(
      start: Self.day(1, 1), end: Self.day(1, 3), total: 81.63575139303676, wetDays: 3)
    #expect(abs(curve.score(event) - 2) < 1e-12)
  }
}
