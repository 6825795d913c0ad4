/// One dated landslide of a catalogue.
public struct CatalogueEntry: Equatable, Sendable {
  /// The catalogue's id, or where no id column is configured the row's number (1 for the
  /// first row after the header) or the layer feature's id.
  public var id: String
  public var day: Day
  /// In the catalogue's CRS (`LandslideCatalogue.crs`) as read; a study carries them into
  /// its rain grid's.
  public var x: Double
  public var y: Double
  /// The region column's value; nil where none is configured or the cell is empty.
  public var region: String?
  /// The values of `CatalogueColumns.extra` by column name ("" for an empty cell).
  public var extra: [String: String]

  public init(
    id: String, day: Day, x: Double, y: Double, region: String? = nil,
    extra: [String: String] = [:]
  ) {
    self.id = id
    self.day = day
    self.x = x
    self.y = y
    self.region = region
    self.extra = extra
  }
}

/// Which header columns of a catalogue hold what: catalogues differ in their names, so
/// the config names them (`columns.date`, …) rather than the reader guessing.
public struct CatalogueColumns: Equatable, Sendable {
  /// Nil: entries are numbered by row.
  public var id: String?
  public var date: String
  public var x: String
  public var y: String
  /// Needed only by a trigger filter.
  public var trigger: String?
  /// Needed only by a country filter.
  public var country: String?
  public var region: String?
  /// Further columns carried into `CatalogueEntry.extra`.
  public var extra: [String]
  /// x and y are longitude and latitude, so rows outside ±180 / ±90 are bad; false for a
  /// projected CRS, where any finite value is a place.
  public var geographic: Bool

  public init(
    id: String? = nil, date: String, x: String, y: String, trigger: String? = nil,
    country: String? = nil, region: String? = nil, extra: [String] = [],
    geographic: Bool = true
  ) {
    self.id = id
    self.date = date
    self.x = x
    self.y = y
    self.trigger = trigger
    self.country = country
    self.region = region
    self.extra = extra
    self.geographic = geographic
  }

  /// The NASA Global Landslide Catalog (read it with `DateFormat.nasaGLC`).
  public static let nasaGLC = CatalogueColumns(
    id: "event_id", date: "event_date", x: "longitude", y: "latitude",
    trigger: "landslide_trigger", country: "country_name")
}

/// Which rows of a catalogue a study keeps; nil keeps all. Text matches ignore case, since
/// catalogues spell "Rain" and "rain" alike; ranges and the box include their bounds.
public struct CatalogueFilter: Equatable, Sendable {
  /// In the catalogue's x/y (no wrap across the antimeridian).
  public struct BoundingBox: Equatable, Sendable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
      self.minX = minX
      self.minY = minY
      self.maxX = maxX
      self.maxY = maxY
    }

    public func contains(x: Double, y: Double) -> Bool {
      x >= minX && x <= maxX && y >= minY && y <= maxY
    }
  }

  public var triggers: Set<String>?
  public var countries: Set<String>?
  public var boundingBox: BoundingBox?
  public var first: Day?
  public var last: Day?

  public init(
    triggers: Set<String>? = nil, countries: Set<String>? = nil,
    boundingBox: BoundingBox? = nil, first: Day? = nil, last: Day? = nil
  ) {
    self.triggers = triggers
    self.countries = countries
    self.boundingBox = boundingBox
    self.first = first
    self.last = last
  }

  /// Whether a row's trigger and country pass, case-insensitively (nil where the catalogue
  /// has no such column).
  func keeps(trigger: String?, country: String?) -> Bool {
    func matches(_ wanted: Set<String>?, _ value: String?) -> Bool {
      guard let wanted, let value = value?.lowercased() else { return true }
      return wanted.contains { $0.lowercased() == value }
    }
    return matches(triggers, trigger) && matches(countries, country)
  }

  /// Whether a row's place and day pass the box and the date range.
  func keeps(x: Double, y: Double, day: Day) -> Bool {
    (boundingBox?.contains(x: x, y: y) ?? true) && (first.map { day >= $0 } ?? true)
      && (last.map { day <= $0 } ?? true)
  }
}

/// A catalogue's date format in the small strftime-like language of the configs:
/// `%Y` (4 digits), `%m`, `%d`, `%H`, `%M`, `%S`, `%%` and literal characters. A field
/// before a literal or the end takes 1 or 2 digits, as catalogues exported from
/// spreadsheets write "8/1/2008 0:00"; before another field it takes exactly 2 ("%Y%m%d").
/// Times are checked and dropped: entries are days.
public struct DateFormat: Equatable, Sendable, CustomStringConvertible {
  private enum Field: Equatable, Sendable {
    case year, month, day, hour, minute, second
  }

  private enum Token: Equatable, Sendable {
    case field(Field, digits: ClosedRange<Int>)
    case literal(UInt8)
  }

  public let pattern: String
  private let tokens: [Token]

  /// "8/1/2008 0:00".
  public static let nasaGLC = try! DateFormat("%m/%d/%Y %H:%M")

  public init(_ pattern: String) throws(RainfallError) {
    let letters: [UInt8: Field] = [
      UInt8(ascii: "Y"): .year, UInt8(ascii: "m"): .month, UInt8(ascii: "d"): .day,
      UInt8(ascii: "H"): .hour, UInt8(ascii: "M"): .minute, UInt8(ascii: "S"): .second,
    ]
    let percent = UInt8(ascii: "%")
    var fields: [Field] = []
    var literals: [UInt8?] = []  // nil where a field goes
    var bytes = pattern.utf8.makeIterator()
    while let byte = bytes.next() {
      guard byte == percent else {
        literals.append(byte)
        continue
      }
      guard let letter = bytes.next() else {
        throw RainfallError("date format", "'\(pattern)' ends in a lone %")
      }
      if letter == percent {
        literals.append(percent)
        continue
      }
      guard let field = letters[letter] else {
        throw RainfallError(
          "date format",
          "'\(pattern)' has %\(Character(Unicode.Scalar(letter))); "
            + "expected %Y %m %d %H %M %S or %%")
      }
      guard !fields.contains(field) else {
        throw RainfallError(
          "date format", "'\(pattern)' has %\(Character(Unicode.Scalar(letter))) twice")
      }
      fields.append(field)
      literals.append(nil)
    }
    guard [Field.year, .month, .day].allSatisfy(fields.contains) else {
      throw RainfallError("date format", "'\(pattern)' needs %Y, %m and %d")
    }
    var tokens: [Token] = []
    var nextField = fields.makeIterator()
    for (index, literal) in literals.enumerated() {
      if let literal {
        tokens.append(.literal(literal))
        continue
      }
      let field = nextField.next()!
      let beforeField = index + 1 < literals.count && literals[index + 1] == nil
      let digits = field == .year ? 4...4 : beforeField ? 2...2 : 1...2
      tokens.append(.field(field, digits: digits))
    }
    self.pattern = pattern
    self.tokens = tokens
  }

  public var description: String { pattern }

  /// Nil when `text` does not match the whole pattern or names no real date or time
  /// (30 February, 24:00).
  public func day(_ text: some StringProtocol) -> Day? {
    let utf8 = text.utf8
    var index = utf8.startIndex
    var values = (year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0)
    for token in tokens {
      switch token {
      case .literal(let byte):
        guard index != utf8.endIndex, utf8[index] == byte else { return nil }
        index = utf8.index(after: index)
      case .field(let field, let digits):
        var value = 0
        var count = 0
        while count < digits.upperBound, index != utf8.endIndex,
          case let digit = utf8[index], digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9")
        {
          value = value * 10 + Int(digit - UInt8(ascii: "0"))
          count += 1
          index = utf8.index(after: index)
        }
        guard digits.contains(count) else { return nil }
        switch field {
        case .year: values.year = value
        case .month: values.month = value
        case .day: values.day = value
        case .hour: values.hour = value
        case .minute: values.minute = value
        case .second: values.second = value
        }
      }
    }
    guard index == utf8.endIndex, values.hour < 24, values.minute < 60, values.second < 60
    else { return nil }
    return Day(year: values.year, month: values.month, day: values.day)
  }
}

/// The dated landslides of a catalogue (a CSV, or a vector layer's points), with what was
/// left out and why.
public struct LandslideCatalogue: Equatable, Sendable {
  /// A row that could not be an entry (bad date or coordinates, wrong field count, no
  /// point geometry).
  public struct SkippedRow: Equatable, Sendable, CustomStringConvertible {
    /// 1-based line of a CSV where the row starts, or a layer's feature id.
    public var line: Int
    /// Names the column and its value: "event_date '13/45/2008' is not a date in the
    /// format %m/%d/%Y %H:%M".
    public var reason: String
    /// `line` is a layer's feature id.
    public var isFeature: Bool

    public init(line: Int, reason: String, isFeature: Bool = false) {
      self.line = line
      self.reason = reason
      self.isFeature = isFeature
    }

    public var description: String { "\(isFeature ? "feature" : "line") \(line): \(reason)" }
  }

  /// In file order.
  public var entries: [CatalogueEntry]
  /// Rows the trigger or country filter drops are not checked further, so these are the
  /// rows that could have been entries.
  public var skipped: [SkippedRow]
  /// Rows the filter dropped: counted, not listed, as they are the user's choice.
  public var filteredOut: Int
  /// The CRS of the entries' x and y (WKT, or what GDAL reads: "EPSG:32632"); nil: the
  /// rain rasters'.
  public var crs: String?

  public init(
    entries: [CatalogueEntry], skipped: [SkippedRow], filteredOut: Int, crs: String? = nil
  ) {
    self.entries = entries
    self.skipped = skipped
    self.filteredOut = filteredOut
    self.crs = crs
  }

  /// The data rows of the file (blank lines aside).
  public var rowCount: Int { entries.count + skipped.count + filteredOut }

  /// Reads an RFC 4180 CSV (header row; quoted fields may hold commas, quotes and line
  /// breaks; CRLF and a UTF-8 BOM are fine); cells are trimmed of spaces and tabs. An
  /// unreadable file, a missing column or a quote never closed is an error; bad rows
  /// are skipped and listed, so that one typo does not lose a catalogue of thousands.
  public static func read(
    csv path: String, columns: CatalogueColumns, dateFormat: DateFormat,
    filter: CatalogueFilter = CatalogueFilter()
  ) throws(RainfallError) -> LandslideCatalogue {
    var scanner = try CSVScanner(path: path)
    let header = try scanner.header()
    var fields: [CSVScanner.Field] = []

    func position(of column: String?, key: String) throws(RainfallError) -> Int? {
      guard let column else { return nil }
      return try scanner.position(of: column, in: header, key: key)
    }
    let idColumn = try position(of: columns.id, key: "columns.id")
    let dateColumn = try position(of: columns.date, key: "columns.date")!
    let xColumn = try position(of: columns.x, key: "columns.x")!
    let yColumn = try position(of: columns.y, key: "columns.y")!
    let triggerColumn = try position(of: columns.trigger, key: "columns.trigger")
    let countryColumn = try position(of: columns.country, key: "columns.country")
    let regionColumn = try position(of: columns.region, key: "columns.region")
    var extraColumns: [(name: String, position: Int)] = []
    for name in columns.extra {
      extraColumns.append((name, try position(of: name, key: "columns.extra")!))
    }
    if filter.triggers != nil, triggerColumn == nil {
      throw RainfallError(path, "a trigger filter needs columns.trigger")
    }
    if filter.countries != nil, countryColumn == nil {
      throw RainfallError(path, "a country filter needs columns.country")
    }
    var catalogue = LandslideCatalogue(entries: [], skipped: [], filteredOut: 0)
    var row = 0
    while let line = try scanner.nextRecord(into: &fields) {
      row += 1
      func skip(_ reason: String) {
        catalogue.skipped.append(SkippedRow(line: line, reason: reason))
      }
      func coordinate(_ column: Int, limit: Double) -> Double? {
        let text = scanner.text(fields[column])
        guard !text.isEmpty else {
          skip("\(header[column]) is empty")
          return nil
        }
        guard let value = Double(text), value.isFinite else {
          skip("\(header[column]) '\(text)' is not a number")
          return nil
        }
        guard !columns.geographic || abs(value) <= limit else {
          skip("\(header[column]) '\(text)' is outside -\(Int(limit))…\(Int(limit))")
          return nil
        }
        return value
      }
      guard fields.count == header.count else {
        skip("\(fields.count) fields; the header has \(header.count)")
        continue
      }
      guard
        filter.keeps(
          trigger: triggerColumn.map { scanner.text(fields[$0]) },
          country: countryColumn.map { scanner.text(fields[$0]) })
      else {
        catalogue.filteredOut += 1
        continue
      }
      let id = idColumn.map { scanner.text(fields[$0]) } ?? String(row)
      guard !id.isEmpty else {
        skip("\(columns.id!) is empty")
        continue
      }
      let dateText = scanner.text(fields[dateColumn])
      guard let day = dateFormat.day(dateText) else {
        skip(
          dateText.isEmpty
            ? "\(columns.date) is empty"
            : "\(columns.date) '\(dateText)' is not a date in the format \(dateFormat)")
        continue
      }
      guard let x = coordinate(xColumn, limit: 180), let y = coordinate(yColumn, limit: 90)
      else { continue }
      guard filter.keeps(x: x, y: y, day: day) else {
        catalogue.filteredOut += 1
        continue
      }
      let region = regionColumn.map { scanner.text(fields[$0]) }
      catalogue.entries.append(
        CatalogueEntry(
          id: id, day: day, x: x, y: y, region: region?.isEmpty == false ? region : nil,
          extra: Dictionary(
            extraColumns.map { ($0.name, scanner.text(fields[$0.position])) },
            uniquingKeysWith: { first, _ in first })))
    }
    return catalogue
  }
}
