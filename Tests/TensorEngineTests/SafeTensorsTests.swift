import CChecksum
import Foundation
import TestSupport
import Testing

@testable import TensorEngine

@Suite struct SafeTensorsTests {
  let weights: [Float] = (0..<12).map { Float($0) * 0.5 - 2 }
  let bias: [Float] = [1, -1, 0.25]

  func writeExample(to path: String) throws {
    try weights.withUnsafeBufferPointer { w in
      try bias.withUnsafeBufferPointer { b in
        try SafeTensors.write(
          [
            .init(name: "layer.weight", shape: [4, 3], values: w),
            .init(name: "layer.bias", shape: [3], values: b),
          ],
          metadata: ["step": "42"], to: path)
      }
    }
  }

  @Test func roundTripInPlace() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.safetensors").path
    try writeExample(to: path)
    let file = try SafeTensorsFile(path: path)
    #expect(Array(try file.floats("layer.weight")) == weights)
    #expect(Array(try file.floats("layer.bias")) == bias)
    #expect(file.tensors["layer.weight"]?.shape == [4, 3])
    #expect(file.metadata["step"] == "42")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
  }

  /// The layout, read here byte by byte as any other reader would.
  @Test func layoutIsTheSafetensorsFormat() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.safetensors").path
    try writeExample(to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect((8 + length) % 8 == 0, "data starts 8-byte aligned")
    let header = try JSONSerialization.jsonObject(with: bytes[8..<(8 + length)]) as! [String: Any]
    let entry = header["layer.bias"] as! [String: Any]
    #expect(entry["dtype"] as? String == "F32")
    #expect(entry["shape"] as? [Int] == [3])
    let offsets = entry["data_offsets"] as! [Int]
    let start = 8 + length + offsets[0]
    let first = bytes[start..<(start + 4)].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
    #expect(first == 1)
    #expect(bytes.count == 8 + length + 15 * 4)
  }

  @Test func aFlippedByteIsReportedWithTheFileName() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("shard-0003.safetensors").path
    try writeExample(to: path)
    try flipByte(at: path)
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.path == path)
    #expect(error?.description.contains("shard-0003.safetensors") == true)
    #expect(error?.message.hasPrefix("checksum mismatch") == true)
    #expect(error?.message.contains("crc32c") == true, "\(error?.message ?? "")")
  }

  /// The check value of CRC-32C (Castagnoli) and of nothing, on every implementation.
  @Test func crc32cCheckValue() {
    let digits = Array("123456789".utf8)
    digits.withUnsafeBytes { bytes in
      #expect(SafeTensors.crc32c(bytes) == 0xE306_9283)
      #expect(landslide_crc32c_table(0, bytes.baseAddress, bytes.count) == 0xE306_9283)
      #expect(landslide_crc32c_hardware(0, bytes.baseAddress, bytes.count) == 0xE306_9283)
      // In pieces: the CRC of the first part continues into the second.
      let head = landslide_crc32c(0, bytes.baseAddress, 4)
      #expect(landslide_crc32c(head, bytes.baseAddress! + 4, 5) == 0xE306_9283)
    }
    #expect(SafeTensors.crc32c(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
    #expect(landslide_crc32c_table(0, nil, 0) == 0)
    #expect(SafeTensors.hex(0xE306_9283) == "e3069283")
    #expect(SafeTensors.hex(0x0000_ABCD) == "0000abcd")
  }

  /// The SSE4.2 path (the table where the CPU lacks it) and the table agree, at every
  /// alignment of the start.
  @Test(arguments: [0, 1, 7, 8, 9, 1_000_003])
  func crc32cFastPathAgreesWithTheTable(length: Int) {
    var generator = SystemRandomNumberGenerator()
    let buffer = (0..<(length + 8)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    buffer.withUnsafeBytes { bytes in
      for shift in 0..<8 {
        let start = bytes.baseAddress! + shift
        let table = landslide_crc32c_table(0, start, length)
        #expect(landslide_crc32c_hardware(0, start, length) == table, "offset \(shift)")
        #expect(landslide_crc32c(0, start, length) == table, "offset \(shift)")
      }
    }
  }

  /// Throughput, printed and not asserted (checkpoints of 100–300 MB are checksummed on
  /// every open).
  @Test func crc32cThroughput() {
    let count = 256 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
    defer { buffer.deallocate() }
    for index in 0..<(count / 8) {
      buffer.storeBytes(
        of: UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15, toByteOffset: index * 8,
        as: UInt64.self)
    }
    func megabytesPerSecond(_ function: (UInt32, UnsafeRawPointer?, Int) -> UInt32, bytes: Int)
      -> (UInt32, Double)
    {
      let clock = ContinuousClock()
      var crc: UInt32 = 0
      let elapsed = clock.measure { crc = function(0, buffer.baseAddress, bytes) }
      let seconds =
        Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
      return (crc, Double(bytes) / 1e6 / seconds)
    }
    let (fast, fastRate) = megabytesPerSecond(landslide_crc32c, bytes: count)
    let (table, tableRate) = megabytesPerSecond(landslide_crc32c_table, bytes: count)
    #expect(fast == table)
    let path = landslide_crc32c_hardware_available() != 0 ? "SSE4.2 crc32" : "table (no SSE4.2)"
    print(
      "CRC-32C over \(count >> 20) MiB: \(Int(fastRate)) MB/s on \(path), "
        + "\(Int(tableRate)) MB/s on the slicing-by-8 table")
  }

  @Test func aWrittenFileCarriesItsCRC32C() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.safetensors").path
    try writeExample(to: path)
    let file = try SafeTensorsFile(path: path)
    #expect(file.metadata["checksum_algorithm"] == "crc32c")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let crc = bytes[(8 + length)...].withUnsafeBytes {
      landslide_crc32c_table(0, $0.baseAddress, $0.count)
    }
    let digits = String(crc, radix: 16)
    #expect(file.metadata["checksum"] == String(repeating: "0", count: 8 - digits.count) + digits)
  }

  @Test func anUnknownChecksumAlgorithmIsReported() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("future.safetensors").path
    try writeExample(to: path)
    try rewriteMetadata(at: path) { metadata, _ in metadata["checksum_algorithm"] = "xxh3" }
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.path == path)
    #expect(error?.message.contains("unknown checksum algorithm xxh3") == true)
  }

  /// Files written before CRC-32C carry the legacy hash alone: they open, verified.
  @Test func aLegacyChecksumIsStillVerified() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("old.safetensors").path
    try writeLegacyExample(to: path)
    let file = try SafeTensorsFile(path: path)
    #expect(file.metadata["checksum_algorithm"] == nil)
    #expect(Array(try file.floats("layer.weight")) == weights)
    try flipByte(at: path)
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.path == path)
    #expect(error?.message.hasPrefix("checksum mismatch") == true)
    #expect(error?.message.contains("legacy") == true, "\(error?.message ?? "")")
  }

  /// `tools/checks/read_checkpoint.py` verifies both checksums (its legacy hash is a port of
  /// ours, so a legacy file checks it) and rejects a flipped byte, on a file small enough
  /// for its byte-by-byte path (60 bytes of data: a 4-byte tail for the legacy hash) and one
  /// large enough for its numpy lanes (1,000,008 bytes: no tail).
  @Test(
    .enabled(
      if: pythonReadsSafetensors,
      "python3 cannot import safetensors and numpy (pip install safetensors numpy)"))
  func pythonVerifiesTheChecksum() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = TestPaths.repositoryRoot.appendingPathComponent("tools/checks/read_checkpoint.py")
    let large = (0..<250_002).map { Float($0 % 1000) * 0.001 }
    for (name, legacy) in [
      ("small", false), ("small-old", true), ("large", false), ("large-old", true),
    ] {
      let path = directory.appendingPathComponent("\(name).safetensors").path
      if name.hasPrefix("large") {
        try large.withUnsafeBufferPointer { values in
          try SafeTensors.write([.init(name: "w", shape: [values.count], values: values)], to: path)
        }
        if legacy { try rewriteMetadata(at: path, legacyChecksum) }
      } else if legacy {
        try writeLegacyExample(to: path)
      } else {
        try writeExample(to: path)
      }
      let good = try runWithDeadline(["python3", script.path, path])
      #expect(good.status == 0, "\(name): \(good.output)")
      #expect(good.output.contains(legacy ? "legacy hash" : "crc32c"), "\(name): \(good.output)")
      #expect(good.output.contains("verified"), "\(name): \(good.output)")
      try flipByte(at: path)
      let bad = try runWithDeadline(["python3", script.path, path])
      #expect(bad.status != 0, "\(name): \(bad.output)")
      #expect(
        bad.output.contains("\(name).safetensors: checksum mismatch"), "\(name): \(bad.output)")
    }
  }

  func writeLegacyExample(to path: String) throws {
    try writeExample(to: path)
    try rewriteMetadata(at: path, legacyChecksum)
  }

  @Test func aTruncatedFileIsReported() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("cut.safetensors").path
    try writeExample(to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 20).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.message.hasPrefix("truncated") == true, "\(error?.message ?? "")")
  }

  /// Any single changed 8-byte word changes the legacy checksum (each step is a bijection).
  @Test func checksumSeesEveryWord() {
    var data = [UInt8](repeating: 0, count: 64)
    let original = data.withUnsafeBytes { SafeTensors.checksum($0) }
    for index in stride(from: 0, to: 64, by: 5) {
      data[index] = 1
      #expect(data.withUnsafeBytes { SafeTensors.checksum($0) } != original)
      data[index] = 0
    }
  }
}

/// Whether `python3` can import what `tools/checks/read_checkpoint.py` needs.
private let pythonReadsSafetensors: Bool = {
  (try? runWithDeadline(["python3", "-c", "import safetensors, numpy"]).status) == 0
}()

/// Changes one bit of the data section's last tensor.
private func flipByte(at path: String) throws {
  var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
  bytes[bytes.count - 7] ^= 0x10
  try bytes.write(to: URL(fileURLWithPath: path))
}

/// Turns a file's metadata into that of files written before CRC-32C.
private func legacyChecksum(_ metadata: inout [String: String], data: Data) {
  metadata["checksum_algorithm"] = nil
  metadata["checksum"] = String(data.withUnsafeBytes { SafeTensors.checksum($0) }, radix: 16)
}

/// Rewrites the safetensors file at `path` with its metadata changed by `change` (given the
/// data section), the header padded again to 8 bytes.
private func rewriteMetadata(
  at path: String, _ change: (inout [String: String], _ data: Data) -> Void
) throws {
  let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
  let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
  var header = try JSONSerialization.jsonObject(with: bytes[8..<(8 + length)]) as! [String: Any]
  let data = Data(bytes[(8 + length)...])
  var metadata = header["__metadata__"] as? [String: String] ?? [:]
  change(&metadata, data)
  header["__metadata__"] = metadata
  var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
  json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
  var file = Data()
  withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
  file.append(json)
  file.append(data)
  try file.write(to: URL(fileURLWithPath: path))
}

/// Runs `arguments` (looked up on PATH) for 60 s at most (past that `ChildProcess` kills it
/// and throws, failing the test with its output); its exit status and all it printed.
private func runWithDeadline(_ arguments: [String]) throws -> (status: Int32, output: String) {
  let result = try ChildProcess.run("/usr/bin/env", arguments, deadline: 60)
  return (result.status, result.standardOutput + result.standardError)
}
