/// Static factors per named site, from a CSV with the site column and one column per
/// factor (for studies whose daily series are per-site, where rasters may not exist). An
/// empty cell is no data (the site's landslides are skipped, named); any other cell that
/// is not a number is an error naming its line.
public struct SiteStatics {
  public let path: String
  /// The factor columns, in the header's order.
  public let names: [String]
  /// Each site's factors, in `names`' order; NaN where a cell is empty.
  public let sites: [String: [Float]]

  public init(csv path: String, site: String) throws(RainfallError) {
    var scanner = try CSVScanner(path: path)
    let header = try scanner.header()
    let siteColumn = try scanner.position(of: site, in: header, key: "statics.site_column")
    let factorColumns = header.indices.filter { $0 != siteColumn }
    guard !factorColumns.isEmpty else {
      throw RainfallError(path, "no factor columns; expected \(site) and one column per factor")
    }
    var sites: [String: [Float]] = [:]
    var lines: [String: Int] = [:]
    var fields: [CSVScanner.Field] = []
    while let line = try scanner.nextComplete(into: &fields, header: header) {
      let name = scanner.text(fields[siteColumn])
      guard !name.isEmpty else { throw RainfallError(path, "line \(line): \(site) is empty") }
      if let other = lines[name] {
        throw RainfallError(
          path, "line \(line): site '\(name)' is also on line \(other); one row per site")
      }
      var values: [Float] = []
      for column in factorColumns {
        let text = scanner.text(fields[column])
        guard !text.isEmpty else {
          values.append(.nan)
          continue
        }
        guard let value = Float(text), value.isFinite else {
          throw RainfallError(
            path, "line \(line): \(header[column]) '\(text)' is not a number (site '\(name)')")
        }
        values.append(value)
      }
      lines[name] = line
      sites[name] = values
    }
    self.path = path
    names = factorColumns.map { header[$0] }
    self.sites = sites
  }
}
