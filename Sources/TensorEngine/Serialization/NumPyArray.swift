import Foundation

/// A `.npy` file that cannot be read or written, named by its path.
public struct NumPyError: Error, CustomStringConvertible {
  public let path: String
  public let message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }
}

/// An array in NumPy's `.npy` format, the layout in which the papers' code publishes its
/// labels and predictions. Any numeric dtype is read (as Float, C order, little-endian);
/// arrays are written as '<f4'.
public struct NumPyArray: Equatable, Sendable {
  public var shape: [Int]
  /// The elements in row-major (C) order.
  public var values: [Float]

  public init(shape: [Int], values: [Float]) {
    precondition(
      shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
      "shape \(shape) for \(values.count) values")
    self.shape = shape
    self.values = values
  }

  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// Reads `path`, converting its elements to Float (values a Float cannot hold exactly,
  /// such as integers above 2²⁴, are rounded). Trailing bytes after the data are an
  /// error: they mean that the header and the data disagree.
  public static func read(path: String) throws(NumPyError) -> NumPyArray {
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason =
        FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
      throw NumPyError(path: path, message: reason)
    }
    let bytes = [UInt8](data)
    guard bytes.starts(with: magic) else {
      throw NumPyError(path: path, message: "not a .npy file (bad magic; expected \\x93NUMPY)")
    }
    guard bytes.count >= 10 else {
      throw NumPyError(path: path, message: "truncated: \(bytes.count) bytes, no header length")
    }
    let major = bytes[6]
    let headerStart: Int
    let headerLength: Int
    switch major {
    case 1:
      headerStart = 10
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    case 2, 3:
      guard bytes.count >= 12 else {
        throw NumPyError(path: path, message: "truncated: \(bytes.count) bytes, no header length")
      }
      headerStart = 12
      headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
    default:
      throw NumPyError(
        path: path, message: "format version \(major).\(bytes[7]) (expected 1.0, 2.0 or 3.0)")
    }
    guard headerStart + headerLength <= bytes.count else {
      throw NumPyError(
        path: path,
        message:
          "truncated: the header claims \(headerLength) bytes, the file has \(bytes.count - headerStart) after it"
      )
    }
    // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are Latin-1, of which the
    // dictionary's keys and values use only ASCII.
    let text = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    let header = try Header(parsing: text, path: path)
    let dataStart = headerStart + headerLength
    let (count, expected) = try header.sizes(path: path)
    guard bytes.count - dataStart >= expected else {
      throw NumPyError(
        path: path,
        message:
          "truncated: shape \(header.shape) of '\(header.dtype.descr)' needs \(expected) data bytes, the file has \(bytes.count - dataStart)"
      )
    }
    guard bytes.count - dataStart == expected else {
      throw NumPyError(
        path: path,
        message:
          "\(bytes.count - dataStart - expected) bytes after the data of shape \(header.shape) of '\(header.dtype.descr)'"
      )
    }
    let values = bytes.withUnsafeBytes { raw in
      header.dtype.floats(UnsafeRawBufferPointer(rebasing: raw[dataStart...]), count: count)
    }
    return NumPyArray(shape: header.shape, values: values)
  }

  /// Writes the array as '<f4' in C order, format 1.0, atomically (`AtomicFile`).
  public func write(to path: String) throws(NumPyError) {
    let shapeText =
      shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
    let dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    // The header ends in a newline and is padded with spaces so that the data starts
    // 64-byte aligned, as numpy writes it. Its 2-byte length fits any array NumPy can
    // make (at most 64 dimensions).
    let padding = (64 - (10 + dictionary.utf8.count + 1) % 64) % 64
    let header = Array(dictionary.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
    var file = Data(Self.magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
    file.append(contentsOf: header)
    file.reserveCapacity(file.count + values.count * 4)
    for value in values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) }
    }
    do {
      try AtomicFile.write(file, to: path)
    } catch {
      throw NumPyError(path: path, message: error.message)
    }
  }
}

/// The element types we read: NumPy's array-protocol strings ('<f4', '|u1', '|b1', …).
private struct DType {
  enum Kind: Character {
    case float = "f"
    case signed = "i"
    case unsigned = "u"
    case boolean = "b"
  }

  let descr: String
  let kind: Kind
  let size: Int

  init(_ descr: String, path: String) throws(NumPyError) {
    self.descr = descr
    let characters = Array(descr)
    guard characters.count >= 3, let kind = Kind(rawValue: characters[1]),
      let size = Int(String(characters[2...]))
    else {
      throw NumPyError(
        path: path, message: "dtype '\(descr)' is not supported; expected a numeric dtype")
    }
    let supported: Set<Int> =
      switch kind {
      case .float: [4, 8]
      case .signed, .unsigned: [1, 2, 4, 8]
      case .boolean: [1]
      }
    guard supported.contains(size) else {
      throw NumPyError(path: path, message: "dtype '\(descr)' is not supported")
    }
    // '=' is the writer's native order; every platform we run on is little-endian.
    switch characters[0] {
    case "<", "|", "=": break
    case ">" where size == 1: break
    case ">":
      throw NumPyError(
        path: path, message: "dtype '\(descr)' is big-endian; expected little-endian")
    default:
      throw NumPyError(path: path, message: "dtype '\(descr)' has an unknown byte order")
    }
    self.kind = kind
    self.size = size
  }

  /// `count` little-endian elements from `raw`, as Float.
  func floats(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
    func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
      (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
    }
    switch (kind, size) {
    case (.float, 4): return load(UInt32.self).map(Float.init(bitPattern:))
    case (.float, _): return load(UInt64.self).map { Float(Double(bitPattern: $0)) }
    case (.signed, 1): return load(Int8.self).map { Float($0) }
    case (.signed, 2): return load(Int16.self).map { Float($0) }
    case (.signed, 4): return load(Int32.self).map { Float($0) }
    case (.signed, _): return load(Int64.self).map { Float($0) }
    case (.unsigned, 1): return load(UInt8.self).map { Float($0) }
    case (.unsigned, 2): return load(UInt16.self).map { Float($0) }
    case (.unsigned, 4): return load(UInt32.self).map { Float($0) }
    case (.unsigned, _): return load(UInt64.self).map { Float($0) }
    case (.boolean, _): return load(UInt8.self).map { $0 == 0 ? 0 : 1 }
    }
  }
}

/// The header: a Python dictionary literal with 'descr', 'fortran_order' and 'shape'.
private struct Header {
  let dtype: DType
  let shape: [Int]

  init(parsing text: String, path: String) throws(NumPyError) {
    var parser = LiteralParser(text: text)
    guard case .dictionary(let entries)? = parser.parseDocument() else {
      throw NumPyError(
        path: path, message: "the header is not a Python dictionary literal: \(text.trimmed)")
    }
    switch entries["descr"] {
    case .string(let descr)?: dtype = try DType(descr, path: path)
    case .list?:
      throw NumPyError(path: path, message: "structured dtypes are not supported")
    default:
      throw NumPyError(path: path, message: "the header has no dtype ('descr'): \(text.trimmed)")
    }
    switch entries["fortran_order"] {
    case .boolean(false)?: break
    case .boolean(true)?:
      throw NumPyError(
        path: path,
        message: "Fortran (column-major) order is not supported; save it in C order")
    default:
      throw NumPyError(
        path: path, message: "the header has no 'fortran_order' flag: \(text.trimmed)")
    }
    guard case .tuple(let dimensions)? = entries["shape"], let shape = Self.sizes(dimensions)
    else {
      throw NumPyError(
        path: path,
        message: "the header's shape is not a tuple of non-negative integers: \(text.trimmed)")
    }
    self.shape = shape
  }

  private static func sizes(_ dimensions: [Literal]) -> [Int]? {
    var sizes: [Int] = []
    for dimension in dimensions {
      guard case .integer(let size) = dimension, size >= 0 else { return nil }
      sizes.append(size)
    }
    return sizes
  }

  /// The element count and the data's size in bytes, checked for overflow (a corrupt
  /// header may claim anything).
  func sizes(path: String) throws(NumPyError) -> (count: Int, bytes: Int) {
    func product(_ factors: [Int]) throws(NumPyError) -> Int {
      var result = 1
      for factor in factors {
        let (next, overflow) = result.multipliedReportingOverflow(by: factor)
        guard !overflow else {
          throw NumPyError(path: path, message: "shape \(shape) is too large")
        }
        result = next
      }
      return result
    }
    let count = try product(shape)
    return (count, try product([count, dtype.size]))
  }
}

/// The Python literals a `.npy` header uses: strings, booleans, integers, tuples, lists
/// (only to recognise structured dtypes) and dictionaries with string keys.
private indirect enum Literal {
  case string(String)
  case boolean(Bool)
  case integer(Int)
  case tuple([Literal])
  case list([Literal])
  case dictionary([String: Literal])
}

private struct LiteralParser {
  let characters: [Character]
  var index = 0

  init(text: String) { characters = Array(text) }

  /// The one literal in the text, or nil if the text is anything else.
  mutating func parseDocument() -> Literal? {
    guard let value = parseValue() else { return nil }
    skipSpace()
    return index == characters.count ? value : nil
  }

  private mutating func skipSpace() {
    while index < characters.count, characters[index].isWhitespace { index += 1 }
  }

  private mutating func consume(_ character: Character) -> Bool {
    skipSpace()
    guard index < characters.count, characters[index] == character else { return false }
    index += 1
    return true
  }

  private mutating func parseValue() -> Literal? {
    skipSpace()
    guard index < characters.count else { return nil }
    switch characters[index] {
    case "'", "\"": return parseString().map(Literal.string)
    case "(": return parseSequence(closing: ")").map(Literal.tuple)
    case "[": return parseSequence(closing: "]").map(Literal.list)
    case "{": return parseDictionary()
    default: return parseWord()
    }
  }

  private mutating func parseString() -> String? {
    let quote = characters[index]
    index += 1
    var text = ""
    while index < characters.count, characters[index] != quote {
      text.append(characters[index])
      index += 1
    }
    guard index < characters.count else { return nil }
    index += 1
    return text
  }

  /// Comma-separated values up to `closing`, a trailing comma allowed.
  private mutating func parseSequence(closing: Character) -> [Literal]? {
    index += 1
    var items: [Literal] = []
    while !consume(closing) {
      guard let item = parseValue() else { return nil }
      items.append(item)
      if !consume(",") {
        guard consume(closing) else { return nil }
        break
      }
    }
    return items
  }

  private mutating func parseDictionary() -> Literal? {
    index += 1
    var entries: [String: Literal] = [:]
    while !consume("}") {
      skipSpace()
      guard index < characters.count, characters[index] == "'" || characters[index] == "\"",
        let key = parseString(), consume(":"), let value = parseValue()
      else { return nil }
      entries[key] = value
      if !consume(",") {
        guard consume("}") else { return nil }
        break
      }
    }
    return .dictionary(entries)
  }

  /// `True`, `False` or an integer (Python 2 headers may write `3L`).
  private mutating func parseWord() -> Literal? {
    var word = ""
    while index < characters.count,
      characters[index].isLetter || characters[index].isNumber || characters[index] == "-"
    {
      word.append(characters[index])
      index += 1
    }
    switch word {
    case "True": return .boolean(true)
    case "False": return .boolean(false)
    default:
      return Int(word.hasSuffix("L") ? String(word.dropLast()) : word).map(Literal.integer)
    }
  }
}

extension String {
  fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
