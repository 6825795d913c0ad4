import Configuration

/// One rainfall event: wet days from `start` to `end` (both wet), with the dry spells
/// shorter than the rules' between them.
public struct RainfallEvent: Equatable, Sendable {
  public var start: Day
  public var end: Day
  /// Total rain E (mm) from start to end.
  public var total: Double
  /// Wet days within the event.
  public var wetDays: Int
  /// Mean soil moisture (m³/m³) of the `antecedentDays` before `start`; nil without a
  /// soil-moisture series or when those days precede it.
  public var antecedentSoilMoisture: Double?

  /// Duration D in days, first and last day included.
  public var durationDays: Int { end - start + 1 }
  public var durationHours: Int { 24 * durationDays }
  /// Mean intensity E / D (mm/day).
  public var intensity: Double { total / Double(durationDays) }
}

extension EventRules {
  /// Dry days needed to end an event when the dry spell begins on `day`.
  public func dryDaysEnding(at day: Day) -> Int {
    summerMonths.contains(day.month) ? summerDryDays : otherDryDays
  }

  /// The events of `series` from `first` through `last` (clipped to the series): rain
  /// before `first` is not seen, so an event running into `first` starts there, and one
  /// still going on `last` ends at its last wet day up to `last`.
  public func events(in series: DailySeries, from first: Day, through last: Day)
    -> [RainfallEvent]
  {
    let from = max(first, series.first)
    let through = min(last, series.end - 1)
    guard from <= through else { return [] }
    var events: [RainfallEvent] = []
    var current: RainfallEvent?
    var dryRun = 0
    var dryStart = from
    for number in from.number...through.number {
      let day = Day(number)
      if series.rain(on: day) >= wetDayMillimetres {
        current = current ?? RainfallEvent(start: day, end: day, total: 0, wetDays: 0)
        current?.end = day
        current?.wetDays += 1
        dryRun = 0
        continue
      }
      if dryRun == 0 { dryStart = day }
      dryRun += 1
      if let event = current, dryRun >= dryDaysEnding(at: dryStart) {
        events.append(finished(event, series))
        current = nil
      }
    }
    if let event = current { events.append(finished(event, series)) }
    return events
  }

  /// The event with its total (every day's rain from start to end, the small amounts of
  /// dry days between wet ones included) and its antecedent soil moisture.
  private func finished(_ event: RainfallEvent, _ series: DailySeries) -> RainfallEvent {
    var event = event
    var total = 0.0
    for number in event.start.number...event.end.number {
      total += Double(series.rain(on: Day(number)))
    }
    event.total = total
    if let moisture = series.soilMoisture {
      let first = event.start - antecedentDays
      if first >= series.first {
        var sum = 0.0
        for number in first.number..<event.start.number {
          sum += Double(moisture[Day(number) - series.first])
        }
        event.antecedentSoilMoisture = sum / Double(antecedentDays)
      }
    }
    return event
  }

  /// The triggering event of a landslide on `day` among `events` (cut from a window
  /// ending on `day`): the one that ended closest before or on it; nil when none did or
  /// it ended more than `maxTriggerGapDays` before.
  public func trigger(of day: Day, among events: [RainfallEvent]) -> Int? {
    guard let index = events.indices.last(where: { events[$0].end <= day }) else { return nil }
    return day - events[index].end <= maxTriggerGapDays ? index : nil
  }
}
