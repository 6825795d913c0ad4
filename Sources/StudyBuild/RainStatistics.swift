import Configuration
import Foundation
import GeoData
import Rainfall

/// Per period, the maximum daily rain and the 2.5–97.5 % spread of daily rain (mm), the
/// two time-varying predictors of SPEC.md §1. They are computed on the rain product's own
/// pixels, over the window that covers the study, and the two statistics are then warped
/// (bilinear) onto the study's pixels: interpolating each day first would invent
/// sub-pixel rain and cost a warp per day.
struct RainStatistics {
  let rasters: DailyRasters
  let window: RasterWindow
  let windowGrid: RasterGrid

  /// The daily rasters of `input`'s directory.
  static func open(_ input: RainInput) throws(RasterError) -> DailyRasters {
    do { return try DailyRasters(directory: input.directory, variable: "rain") } catch {
      throw RasterError(error)
    }
  }

  init(_ rasters: DailyRasters, covering target: RasterGrid) throws(RasterError) {
    self.rasters = rasters
    let grid = rasters.grid
    let inRain = try TargetGrid.footprintPoints(of: target, in: grid.crsWKT, source: "the grid")
    let t = grid.geoTransform
    let columns = inRain.map { ($0.x - t.originX) / t.pixelWidth }
    let rows = inRain.map { ($0.y - t.originY) / t.pixelHeight }
    // Two pixels of margin for the bilinear warp.
    let x0 = max(0, Int(columns.min()!.rounded(.down)) - 2)
    let y0 = max(0, Int(rows.min()!.rounded(.down)) - 2)
    let x1 = min(grid.width, Int(columns.max()!.rounded(.up)) + 2)
    let y1 = min(grid.height, Int(rows.max()!.rounded(.up)) + 2)
    guard x1 > x0, y1 > y0 else {
      throw RasterError(
        path: rasters.directory, message: "the rain rasters do not cover the study area")
    }
    window = RasterWindow(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    windowGrid = RasterGrid(
      width: window.width, height: window.height,
      geoTransform: GeoTransform(
        originX: t.originX + Double(x0) * t.pixelWidth, pixelWidth: t.pixelWidth,
        originY: t.originY + Double(y0) * t.pixelHeight, pixelHeight: t.pixelHeight),
      crsWKT: grid.crsWKT)
  }

  /// The days of `period` the statistics use: all of them (a missing one is an error naming
  /// the gap), or with `skip` those there are (none is an error).
  func days(of period: StudyPeriod, missing: RainInput.MissingDays) throws(RasterError) -> [Day] {
    let (start, end) = (Day(iso: period.start)!, Day(iso: period.end)!)
    let available = rasters.availableDays(from: start, through: end)
    switch missing {
    case .error:
      do { try rasters.requireEveryDay(from: start, through: end) } catch {
        throw RasterError(
          path: error.subject,
          message: "period '\(period.name)': \(error.message); or set rain.missing_days: skip")
      }
    case .skip:
      guard !available.isEmpty else {
        throw RasterError(
          path: rasters.directory,
          message: "period '\(period.name)' (\(period.start) to \(period.end)) has no rain "
            + "raster; these cover \(rasters.first)–\(rasters.last)")
      }
    }
    return available
  }

  /// The files that hold `days`, for the build record.
  func files(for days: [Day]) -> [String] { rasters.files(for: days) }

  /// Maximum and 2.5–97.5 % spread over `days` of each pixel of the window, NaN where every
  /// day has no data.
  func statistics(days: [Day]) throws(RasterError) -> (maximum: [Float], spread: [Float]) {
    let cells = Array(0..<(window.width * window.height))
    let series: [[Float]]
    do { series = try rasters.sample(cells: cells, days: days, window: window) } catch {
      throw RasterError(error)
    }
    var maximum = [Float](repeating: .nan, count: cells.count)
    var spread = maximum
    for (cell, values) in series.enumerated() {
      let valid = values.filter { !$0.isNaN }.sorted()
      guard let last = valid.last else { continue }
      maximum[cell] = last
      spread[cell] = Self.percentile(valid, 0.975) - Self.percentile(valid, 0.025)
    }
    return (maximum, spread)
  }

  /// The `q` quantile of sorted values, interpolated linearly between order statistics
  /// (numpy's default).
  static func percentile(_ sorted: [Float], _ q: Double) -> Float {
    let position = q * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    let fraction = Float(position - Double(lower))
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
  }
}

extension RasterError {
  /// A rain-reader error, as the study build reports every error: its file and message.
  init(_ error: RainfallError) { self.init(path: error.subject, message: error.message) }
}

/// Monsoon seasons that ended after `eventDate` and by the end of each period: the 13th
/// predictor (0 for the co-seismic period, then 1, 1, 2, … for pre/post-monsoon periods).
func monsoonCounts(_ periods: [StudyPeriod], eventDate: String, season: MonsoonSeason) -> [Int] {
  let event = Day(iso: eventDate)!
  return periods.map { period in
    let end = Day(iso: period.end)!
    let (firstYear, lastYear) = (event.civil.year, end.civil.year)
    return (firstYear...lastYear).filter { year in
      guard let seasonEnd = Day(iso: "\(year)-\(season.end)") else { return false }
      return seasonEnd > event && seasonEnd <= end
    }.count
  }
}
