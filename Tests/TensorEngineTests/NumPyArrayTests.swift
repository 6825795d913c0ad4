import Foundation
import TestSupport
import Testing

@testable import TensorEngine

@Suite struct NumPyArrayTests {
  /// A `.npy` file made by hand: magic, version, header length (2 bytes for 1.0, 4 for
  /// 2.0 and 3.0), the header padded to 64 bytes and ended by a newline, then `data`.
  static func npy(_ header: String, data: [UInt8], major: UInt8 = 1) -> Data {
    let prefix = major == 1 ? 10 : 12
    let padding = (64 - (prefix + header.utf8.count + 1) % 64) % 64
    let text = Array(header.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
    let length = (0..<(prefix - 8)).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) }
    return Data([0x93] + Array("NUMPY".utf8) + [major, 0] + length + text + data)
  }

  static func header(_ descr: String, _ shape: String, fortran: Bool = false) -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
  }

  static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
  }

  /// Writes `data` to a fresh file and reads it back.
  static func read(_ data: Data) throws -> NumPyArray {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("x.npy").path
    try data.write(to: URL(fileURLWithPath: path))
    return try NumPyArray.read(path: path)
  }

  /// The message of the error reading `data` throws, with the path replaced by `x.npy`.
  static func failure(_ data: Data) throws -> String {
    do {
      _ = try read(data)
    } catch let error as NumPyError {
      return "x.npy: \(error.message)"
    }
    return "no error"
  }

  @Test func readsFloat32InCOrder() throws {
    let floats: [Float] = [1, 2, 3, -4, 0.5, 6]
    let array = try Self.read(
      Self.npy(Self.header("<f4", "(2, 3)"), data: Self.littleEndian(floats.map(\.bitPattern))))
    #expect(array.shape == [2, 3])
    #expect(array.values == floats)
  }

  @Test func convertsEveryNumericDtypeToFloat() throws {
    let cases: [(String, [UInt8], [Float])] = [
      ("<f8", Self.littleEndian([0.25, -2.0].map { (x: Double) in x.bitPattern }), [0.25, -2]),
      ("<i1", Self.littleEndian([-1, 7] as [Int8]), [-1, 7]),
      ("<i2", Self.littleEndian([-300, 2] as [Int16]), [-300, 2]),
      ("<i4", Self.littleEndian([-70_000, 3] as [Int32]), [-70_000, 3]),
      ("<i8", Self.littleEndian([-5, 1 << 40] as [Int64]), [-5, 1_099_511_627_776]),
      ("|u1", [255, 0], [255, 0]),
      ("<u1", [1, 2], [1, 2]),
      ("<u2", Self.littleEndian([65_535, 1] as [UInt16]), [65_535, 1]),
      ("<u4", Self.littleEndian([4_000_000, 1] as [UInt32]), [4_000_000, 1]),
      ("<u8", Self.littleEndian([9, 1] as [UInt64]), [9, 1]),
      ("|b1", [0, 1], [0, 1]),
    ]
    for (descr, data, expected) in cases {
      let array = try Self.read(Self.npy(Self.header(descr, "(2,)"), data: data))
      #expect(array.shape == [2], "\(descr)")
      #expect(array.values == expected, "\(descr)")
    }
  }

  @Test func readsFormatVersions2And3() throws {
    for major: UInt8 in [2, 3] {
      let array = try Self.read(
        Self.npy(Self.header("|u1", "(1, 2, 1)"), data: [4, 5], major: major))
      #expect(array.shape == [1, 2, 1])
      #expect(array.values == [4, 5])
    }
  }

  @Test func readsScalarsAndEmptyArrays() throws {
    let scalar = try Self.read(Self.npy(Self.header("|u1", "()"), data: [9]))
    #expect(scalar.shape == [] && scalar.values == [9])
    let empty = try Self.read(Self.npy(Self.header("<f4", "(0, 4)"), data: []))
    #expect(empty.shape == [0, 4] && empty.values.isEmpty)
  }

  @Test func problemsAreNamedWithTheFile() throws {
    let four = Self.littleEndian([Float(1)].map(\.bitPattern))
    #expect(
      try Self.failure(Self.npy(Self.header(">f4", "(1,)"), data: four))
        == "x.npy: dtype '>f4' is big-endian; expected little-endian")
    #expect(
      try Self.failure(Self.npy(Self.header("<f4", "(1,)", fortran: true), data: four))
        == "x.npy: Fortran (column-major) order is not supported; save it in C order")
    #expect(
      try Self.failure(Self.npy(Self.header("<f4", "(2,)"), data: four))
        == "x.npy: truncated: shape [2] of '<f4' needs 8 data bytes, the file has 4")
    #expect(
      try Self.failure(Self.npy(Self.header("<f4", "(1,)"), data: four + [0]))
        == "x.npy: 1 bytes after the data of shape [1] of '<f4'")
    #expect(
      try Self.failure(Data("PK\u{3}\u{4} not numpy".utf8))
        == "x.npy: not a .npy file (bad magic; expected \\x93NUMPY)")
    #expect(
      try Self.failure(Self.npy(Self.header("<U3", "(1,)"), data: []))
        == "x.npy: dtype '<U3' is not supported; expected a numeric dtype")
    #expect(
      try Self.failure(
        Self.npy(
          "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: four))
        == "x.npy: structured dtypes are not supported")
    #expect(
      try Self.failure(Self.npy(Self.header("<f4", "(1,)"), data: four, major: 4))
        == "x.npy: format version 4.0 (expected 1.0, 2.0 or 3.0)")
    #expect(
      try Self.failure(Self.npy(Self.header("<f4", "(-1,)"), data: four)).hasPrefix(
        "x.npy: the header's shape is not a tuple of non-negative integers"))
    #expect(
      try Self.failure(Data([0x93] + Array("NUMPY".utf8) + [1]))
        == "x.npy: truncated: 7 bytes, no header length")
    let cut = Self.npy(Self.header("<f4", "(1,)"), data: four).prefix(40)
    #expect(
      try Self.failure(Data(cut))
        == "x.npy: truncated: the header claims 118 bytes, the file has 30 after it")
    #expect(throws: NumPyError.self) { try NumPyArray.read(path: "/nonexistent/x.npy") }
  }

  @Test func roundTripWritesLittleEndianFloat32Atomically() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("p.npy").path
    let array = NumPyArray(shape: [2, 4, 4, 1], values: (0..<32).map { Float($0) / 7 - 1 })
    try array.write(to: path)
    #expect(try NumPyArray.read(path: path) == array)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + headerLength) % 64 == 0, "data starts 64-byte aligned")
    let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 4, 1), }"))
    #expect(header.hasSuffix("\n"))
    #expect(bytes.count == 10 + headerLength + 32 * 4)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["p.npy"])

    let vector = NumPyArray(shape: [3], values: [1, 2, 3])
    try vector.write(to: path)
    #expect(try NumPyArray.read(path: path) == vector)
  }
}
