import Foundation
import GeoData

/// The days of a NetCDF stack's bands, from its time dimension as CHIRPS and SoMo.ml are
/// distributed: GDAL's netCDF driver gives each band its time coordinate (band metadata
/// NETCDF_DIM_time) and the time variable's CF attributes (`time#units` "days since
/// 1980-1-1 0:0:0", `time#calendar`). Only the Gregorian calendars are dated: in a
/// 365-day or 360-day calendar the days are not the rain gauges' days.
enum NetCDFTime {
  /// Each band's day; nil when the file has no dimension with CF time units.
  static func days(of dataset: RasterDataset, path: String) throws(RainfallError) -> [Day]? {
    func item(_ key: String, band: Int? = nil) throws(RainfallError) -> String? {
      do { return try dataset.metadata(key, band: band) } catch {
        throw RainfallError(path, error.message)
      }
    }
    guard let extra = try item("NETCDF_DIM_EXTRA") else { return nil }
    let dimensions = extra.trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
      .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    var time: (dimension: String, units: String)?
    for name in dimensions {
      if let units = try item("\(name)#units"), units.contains(" since ") {
        time = (name, units)
        break
      }
    }
    guard let (dimension, units) = time else { return nil }
    guard let unit = CFTimeUnits(units) else {
      throw RainfallError(
        path,
        "\(dimension)#units '\(units)' is not '<days|hours|minutes|seconds> since "
          + "YYYY-MM-DD[ hh:mm:ss]'")
    }
    let calendar = try item("\(dimension)#calendar")?.lowercased() ?? "standard"
    guard ["standard", "gregorian", "proleptic_gregorian"].contains(calendar) else {
      throw RainfallError(
        path,
        "\(dimension)#calendar is '\(calendar)'; only the Gregorian calendar's days are "
          + "rain gauges' days")
    }
    var days: [Day] = []
    for band in 0..<dataset.bandCount {
      let text = try item("NETCDF_DIM_\(dimension)", band: band)
      guard let text, let value = Double(text), value.isFinite else {
        throw RainfallError(
          path, "band \(band + 1): no \(dimension) coordinate (NETCDF_DIM_\(dimension))")
      }
      days.append(unit.day(value))
    }
    return days
  }
}

/// CF time units, "<unit> since <reference>": a count of days, hours, minutes or seconds
/// after a reference date and time of day (a time zone is ignored: daily products are UTC).
struct CFTimeUnits: Equatable {
  var seconds: Double
  var reference: Day
  var referenceSeconds: Double

  init?(_ text: String) {
    let parts = text.trimmingCharacters(in: .whitespaces).components(separatedBy: " since ")
    guard parts.count == 2 else { return nil }
    let perUnit: [String: Double] = [
      "days": 86_400, "day": 86_400, "d": 86_400, "hours": 3600, "hour": 3600, "hr": 3600,
      "h": 3600, "minutes": 60, "minute": 60, "min": 60, "seconds": 1, "second": 1, "sec": 1,
      "s": 1,
    ]
    guard let seconds = perUnit[parts[0].lowercased().trimmingCharacters(in: .whitespaces)]
    else { return nil }
    let fields = parts[1].trimmingCharacters(in: .whitespaces)
      .split(whereSeparator: { $0 == " " || $0 == "T" })
    guard let date = fields.first else { return nil }
    let ymd = date.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
    guard ymd.count == 3, let year = ymd[0], let month = ymd[1], let day = ymd[2],
      let reference = Day(year: year, month: month, day: day)
    else { return nil }
    var referenceSeconds = 0.0
    if fields.count > 1, fields[1].contains(":") {
      let time = fields[1].prefix { $0.isNumber || $0 == ":" || $0 == "." }
      let hms = time.split(separator: ":").map { Double($0) }
      guard hms.count >= 2, hms.count <= 3, !hms.contains(nil) else { return nil }
      referenceSeconds = hms[0]! * 3600 + hms[1]! * 60 + (hms.count == 3 ? hms[2]! : 0)
    }
    self.seconds = seconds
    self.reference = reference
    self.referenceSeconds = referenceSeconds
  }

  /// The day holding the instant `value` units after the reference (a stamp at noon, as
  /// some products write, is its day).
  func day(_ value: Double) -> Day {
    let days = ((referenceSeconds + value * seconds) / 86_400 + 1e-9).rounded(.down)
    return reference + Int(days)
  }
}
