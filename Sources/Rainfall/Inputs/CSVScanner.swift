import Foundation

/// The records of an RFC 4180 CSV (header row; quoted fields may hold commas, quotes and
/// line breaks; CRLF and a UTF-8 BOM are fine) as byte ranges of the file, so that only
/// the cells a reader uses become Strings. Catalogues, site series and site statics share it.
struct CSVScanner {
  struct Field {
    var start: Int
    var end: Int
    /// Begins with a quote: its text needs the quotes taken out.
    var quoted: Bool
  }

  let bytes: [UInt8]
  let path: String
  private var position: Int
  private var line = 1

  init(bytes: [UInt8], path: String) {
    self.bytes = bytes
    self.path = path
    position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
  }

  /// The file at `path`; an unreadable one is an error naming it.
  init(path: String) throws(RainfallError) {
    let bytes: [UInt8]
    do { bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) } catch {
      throw RainfallError(path, "cannot read (\(error.localizedDescription))")
    }
    self.init(bytes: bytes, path: path)
  }

  /// The first record's cells; an empty file is an error.
  mutating func header() throws(RainfallError) -> [String] {
    var fields: [Field] = []
    guard try next(into: &fields) != nil else {
      throw RainfallError(path, "empty file; expected a header line")
    }
    return fields.map(text)
  }

  /// Where `column` is in `header`; a missing one is an error naming `key`, the config key
  /// that names it.
  func position(of column: String, in header: [String], key: String) throws(RainfallError)
    -> Int
  {
    guard let position = header.firstIndex(of: column) else {
      throw RainfallError(
        path, "no column '\(column)' (\(key)); the header has \(header.joined(separator: ", "))")
    }
    return position
  }

  /// Reads the next record into `fields` and returns the line it starts on; nil at the
  /// end of the file.
  mutating func next(into fields: inout [Field]) throws(RainfallError) -> Int? {
    guard position < bytes.count else { return nil }
    fields.removeAll(keepingCapacity: true)
    let first = line
    var start = position
    var quoted = false
    var inQuotes = false
    while position < bytes.count {
      let byte = bytes[position]
      position += 1
      if inQuotes {
        // A doubled quote closes and at once reopens.
        if byte == quote { inQuotes = false } else if byte == lineFeed { line += 1 }
        continue
      }
      switch byte {
      case quote:
        if position - 1 == start { quoted = true }
        inQuotes = quoted
      case comma:
        fields.append(Field(start: start, end: position - 1, quoted: quoted))
        start = position
        quoted = false
      case lineFeed, carriageReturn:
        fields.append(Field(start: start, end: position - 1, quoted: quoted))
        if byte == carriageReturn, position < bytes.count, bytes[position] == lineFeed {
          position += 1
        }
        line += 1
        return first
      default: break
      }
    }
    guard !inQuotes else {
      throw RainfallError(path, "line \(first): a quoted field is never closed")
    }
    fields.append(Field(start: start, end: position, quoted: quoted))
    return first
  }

  /// The next record that is not a blank line (its first line's number); nil at the end.
  mutating func nextRecord(into fields: inout [Field]) throws(RainfallError) -> Int? {
    while let line = try next(into: &fields) {
      if fields.count == 1, fields[0].start == fields[0].end { continue }
      return line
    }
    return nil
  }

  /// The next record of a table of measurements, whose fields must match `header`'s.
  mutating func nextComplete(into fields: inout [Field], header: [String])
    throws(RainfallError) -> Int?
  {
    guard let line = try nextRecord(into: &fields) else { return nil }
    guard fields.count == header.count else {
      throw RainfallError(
        path, "line \(line): \(fields.count) fields; the header has \(header.count)")
    }
    return line
  }

  /// The cell's text: quotes taken out, spaces and tabs trimmed.
  func text(_ field: Field) -> String {
    guard field.quoted else { return trimmed(bytes[field.start..<field.end]) }
    var unquoted: [UInt8] = []
    unquoted.reserveCapacity(field.end - field.start)
    var index = field.start
    var inQuotes = false
    while index < field.end {
      let byte = bytes[index]
      index += 1
      if byte != quote {
        unquoted.append(byte)
      } else if inQuotes, index < field.end, bytes[index] == quote {
        unquoted.append(quote)
        index += 1
      } else {
        inQuotes.toggle()
      }
    }
    return trimmed(unquoted[...])
  }

  private func trimmed(_ cell: ArraySlice<UInt8>) -> String {
    let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let first = cell.firstIndex(where: { !blank($0) }) else { return "" }
    let last = cell.lastIndex(where: { !blank($0) })!
    return String(decoding: cell[first...last], as: UTF8.self)
  }
}

private let quote = UInt8(ascii: "\"")
private let comma = UInt8(ascii: ",")
private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
