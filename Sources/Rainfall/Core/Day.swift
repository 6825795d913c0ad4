/// A calendar day (proleptic Gregorian, UTC) as its number of days since 1970-01-01:
/// rainfall series, catalogue dates and events all count in whole days, and differences
/// of days are durations.
public struct Day: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
  public var number: Int

  public init(_ number: Int) { self.number = number }

  /// Nil for a date that does not exist (month 13, 30 February).
  public init?(year: Int, month: Int, day: Int) {
    guard (1...12).contains(month), day >= 1, day <= Day.length(ofMonth: month, year: year)
    else { return nil }
    // Days from civil (H. Hinnant's algorithm): years start in March, so that the leap
    // day ends a year.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    number = era * 146_097 + dayOfEra - 719_468
  }

  /// "2019-06-01" (ISO 8601 calendar date), nil otherwise.
  public init?(iso text: some StringProtocol) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
    else { return nil }
    self.init(year: year, month: month, day: day)
  }

  /// Year, month (1–12) and day of the month.
  public var civil: (year: Int, month: Int, day: Int) {
    let z = number + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shifted = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shifted + 2) / 5 + 1
    let month = shifted < 10 ? shifted + 3 : shifted - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  public var month: Int { civil.month }

  /// "2019-06-01".
  public var description: String {
    let (year, month, day) = civil
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(year)-\(two(month))-\(two(day))"
  }

  public static func < (lhs: Day, rhs: Day) -> Bool { lhs.number < rhs.number }
  public static func + (day: Day, days: Int) -> Day { Day(day.number + days) }
  public static func - (day: Day, days: Int) -> Day { Day(day.number - days) }
  public static func - (lhs: Day, rhs: Day) -> Int { lhs.number - rhs.number }

  static func length(ofMonth month: Int, year: Int) -> Int {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }
}
