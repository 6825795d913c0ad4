/// Daily values of one variable at named sites (rain gauges, soil-moisture probes), from a
/// long CSV as gauge networks export them: one row per site and day, in any order. A
/// site's series runs from its first day to its last with every day in between: series
/// are measurements, so a gap, a day twice or a bad row is an error, never a silent skip.
public struct SiteSeries {
  public let path: String
  /// "rain", "soil moisture": how errors name the variable.
  public let variable: String
  /// Each site's first day and its values from that day on, one a day.
  public let sites: [String: (first: Day, values: [Float])]

  /// - Parameters: `site`, `date`, `value` are the columns' names; `dateFormat` dates the
  ///   `date` cells.
  public init(
    csv path: String, site: String, date: String, value: String, dateFormat: DateFormat,
    variable: String
  ) throws(RainfallError) {
    var scanner = try CSVScanner(path: path)
    let header = try scanner.header()
    let siteColumn = try scanner.position(of: site, in: header, key: "series_columns.site")
    let dateColumn = try scanner.position(of: date, in: header, key: "series_columns.date")
    let valueColumn = try scanner.position(of: value, in: header, key: "series_columns.value")
    var index: [String: Int] = [:]
    var names: [String] = []
    var rows: [[(day: Day, value: Float, line: Int)]] = []
    var fields: [CSVScanner.Field] = []
    while let line = try scanner.nextComplete(into: &fields, header: header) {
      let name = scanner.text(fields[siteColumn])
      let dateText = scanner.text(fields[dateColumn])
      let valueText = scanner.text(fields[valueColumn])
      guard !name.isEmpty else { throw RainfallError(path, "line \(line): \(site) is empty") }
      guard let day = dateFormat.day(dateText) else {
        throw RainfallError(
          path, "line \(line): \(date) '\(dateText)' is not a date in the format \(dateFormat)")
      }
      guard let number = Float(valueText), number.isFinite else {
        throw RainfallError(
          path, "line \(line): \(value) '\(valueText)' is not a number (the \(variable) of \(name))"
        )
      }
      if index[name] == nil {
        index[name] = names.count
        names.append(name)
        rows.append([])
      }
      rows[index[name]!].append((day, number, line))
    }
    var sites: [String: (first: Day, values: [Float])] = [:]
    for (name, days) in zip(names, rows) {
      let sorted = days.sorted { ($0.day, $0.line) < ($1.day, $1.line) }
      let first = sorted.first!.day
      let last = sorted.last!.day
      var values = [Float](repeating: 0, count: last - first + 1)
      for (offset, row) in sorted.enumerated() where offset > 0 {
        let previous = sorted[offset - 1]
        if row.day == previous.day {
          throw RainfallError(
            path,
            "site '\(name)': \(row.day) comes twice (lines \(previous.line) and \(row.line)); "
              + "each site has one \(variable) value a day")
        }
        if row.day - previous.day > 1 {
          let missing =
            "\(previous.day + 1)" + (row.day - previous.day > 2 ? "–\(row.day - 1)" : "")
          throw RainfallError(
            path,
            "site '\(name)': no \(variable) for \(missing) (its series runs \(first)–\(last); "
              + "a site needs every day from its first to its last)")
        }
      }
      for row in sorted { values[row.day - first] = row.value }
      sites[name] = (first, values)
    }
    guard !sites.isEmpty else {
      throw RainfallError(path, "no \(variable) rows; expected one row per site and day")
    }
    self.path = path
    self.variable = variable
    self.sites = sites
  }

  /// The days `site`'s series covers; nil for a site it does not hold.
  public func days(of site: String) -> ClosedRange<Day>? {
    sites[site].map { $0.first...($0.first + $0.values.count - 1) }
  }

  /// `site`'s values from `from` through `through`, days its series covers.
  func values(of site: String, from: Day, through: Day) -> [Float] {
    let (first, values) = sites[site]!
    return Array(values[(from - first)...(through - first)])
  }
}
