import Foundation
import GeoData

/// Daily rasters of one variable (rain in mm, soil moisture in m³/m³) on one grid, found in
/// a directory the way the products are distributed: one GeoTIFF per day whose file name
/// holds its date (CHIRPS' `chirps-v2.0.2019.06.01.tif`, or `20190601`, `2019-06-01`),
/// NetCDF stacks whose time dimension dates the bands (CHIRPS' yearly `days_p05` files,
/// SoMo.ml), or multi-band GeoTIFFs (any GDAL stack) whose band descriptions are ISO dates,
/// one band per day.
public struct DailyRasters {
  public let directory: String
  /// "rain", "soil moisture": how errors name the variable.
  public let variable: String
  public let grid: RasterGrid
  /// Where each day is: a file and its band (0-based).
  let days: [Day: (path: String, band: Int)]
  public let first: Day
  public let last: Day

  public init(directory: String, variable: String) throws(RainfallError) {
    self.directory = directory
    self.variable = variable
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    } catch {
      throw RainfallError(
        directory, "cannot list the \(variable) rasters (\(error.localizedDescription))")
    }
    var days: [Day: (path: String, band: Int)] = [:]
    var grid: RasterGrid?
    var gridSource = ""
    for name in names
    where [".tif", ".tiff", ".nc"].contains(where: { name.lowercased().hasSuffix($0) }) {
      let path = (directory as NSString).appendingPathComponent(name)
      let dataset: RasterDataset
      do { dataset = try RasterDataset(path: path) } catch {
        throw RainfallError(path, error.message)
      }
      if let grid, dataset.grid != grid {
        throw RainfallError(
          path,
          "not on the grid of \(gridSource) (\(dataset.grid.width) × \(dataset.grid.height) "
            + "pixels vs \(grid.width) × \(grid.height), or another origin, size or CRS); "
            + "the \(variable) rasters must share one grid")
      }
      if grid == nil { (grid, gridSource) = (dataset.grid, path) }
      guard dataset.bandCount > 0 else {
        throw RainfallError(
          path,
          "no bands; a NetCDF file of several variables opens as subdatasets: take one out, "
            + "e.g. gdal_translate NETCDF:\"\(name)\":VARIABLE \(variable).nc")
      }
      var found: [(Day, Int)] = []
      if dataset.bandCount == 1, let day = Self.day(inFileName: name) {
        found = [(day, 0)]
      } else if let times = try NetCDFTime.days(of: dataset, path: path) {
        found = times.enumerated().map { ($1, $0) }
      } else {
        for band in 0..<dataset.bandCount {
          let description: String
          do { description = try dataset.description(band: band) } catch {
            throw RainfallError(path, error.message)
          }
          guard let day = Day(iso: description.prefix(10)) else {
            throw RainfallError(
              path,
              "band \(band + 1): description '\(description)' is not a date (YYYY-MM-DD); a "
                + "multi-band \(variable) stack names each band's day or has a NetCDF time "
                + "dimension, a one-band file has its date in its name")
          }
          found.append((day, band))
        }
      }
      for (day, band) in found {
        if let other = days[day] {
          throw RainfallError(path, "\(day) is also in \(other.path); each day must come once")
        }
        days[day] = (path, band)
      }
    }
    guard let grid, let first = days.keys.min(), let last = days.keys.max() else {
      throw RainfallError(directory, "no \(variable) rasters (.tif, .nc) with dated days")
    }
    self.grid = grid
    self.days = days
    self.first = first
    self.last = last
  }

  /// The date in a file name: YYYY.MM.DD, YYYY-MM-DD, YYYY_MM_DD or YYYYMMDD, the last
  /// match in the name.
  static func day(inFileName name: String) -> Day? {
    let bytes = Array(name.utf8)
    func digits(_ start: Int, _ count: Int) -> Int? {
      guard start + count <= bytes.count else { return nil }
      var value = 0
      for byte in bytes[start..<start + count] {
        guard (48...57).contains(byte) else { return nil }
        value = value * 10 + Int(byte - 48)
      }
      return value
    }
    var found: Day?
    for start in bytes.indices {
      guard start == 0 || !(48...57).contains(bytes[start - 1]), let year = digits(start, 4),
        (1900...2200).contains(year)
      else { continue }
      let separated = start + 4 < bytes.count && [46, 45, 95].contains(bytes[start + 4])
      let (monthAt, dayAt, end) =
        separated ? (start + 5, start + 8, start + 10) : (start + 4, start + 6, start + 8)
      guard let month = digits(monthAt, 2), let day = digits(dayAt, 2),
        !separated || bytes[start + 7] == bytes[start + 4],
        end == bytes.count || !(48...57).contains(bytes[end]),
        let date = Day(year: year, month: month, day: day)
      else { continue }
      found = date
    }
    return found
  }

  /// Each site's value on every day from `from` through `through`, site-major; a day with
  /// no raster is an error naming it and the variable. `cells` are grid indices
  /// (row · width + column). Each file is opened once and each band read once.
  public func sample(cells: [Int], from: Day, through: Day) throws(RainfallError) -> [[Float]] {
    try requireEveryDay(from: from, through: through)
    return try sample(cells: cells, days: (0...(through - from)).map { from + $0 })
  }

  /// Throws, naming the first gap, unless every day from `from` through `through` has a
  /// raster.
  public func requireEveryDay(from: Day, through: Day) throws(RainfallError) {
    for offset in 0...(through - from) where days[from + offset] == nil {
      let day = from + offset
      var gapEnd = day
      while gapEnd < through, days[gapEnd + 1] == nil { gapEnd = gapEnd + 1 }
      throw RainfallError(
        directory,
        "no \(variable) raster for \(day)\(gapEnd > day ? "–\(gapEnd)" : "") (the series "
          + "needs every day from \(from) to \(through); these rasters cover \(first)–\(last) "
          + "with gaps)")
    }
  }

  /// Each site's value on each of `days` (all of which have a raster), site-major. With a
  /// `window`, only it is read and `cells` index it (row · window width + column).
  public func sample(cells: [Int], days wanted: [Day], window: RasterWindow? = nil)
    throws(RainfallError) -> [[Float]]
  {
    var series = [[Float]](
      repeating: [Float](repeating: 0, count: wanted.count), count: cells.count)
    var open: (path: String, dataset: RasterDataset)?
    for (offset, day) in wanted.enumerated() {
      let (path, band) = days[day]!
      do {
        if open?.path != path { open = (path, try RasterDataset(path: path)) }
        let values = try open!.dataset.read(band: band, window: window)
        for (site, cell) in cells.enumerated() {
          series[site][offset] = values.valid[cell] ? values.values[cell] : .nan
        }
      } catch {
        throw RainfallError(path, error.message)
      }
    }
    return series
  }

  /// The days from `from` through `through` that have a raster, in order.
  public func availableDays(from: Day, through: Day) -> [Day] {
    (0...max(0, through - from)).map { from + $0 }.filter { days[$0] != nil }
  }

  /// The files holding `wanted` days, each once, in order.
  public func files(for wanted: [Day]) -> [String] {
    var seen = Set<String>()
    return wanted.compactMap { days[$0]?.path }.filter { seen.insert($0).inserted }
  }
}
