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
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[bytes.count - 7] ^= 0x10
    try bytes.write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.path == path)
    #expect(error?.message.hasPrefix("checksum mismatch") == true)
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

  /// Any single changed 8-byte word changes the checksum (each step is a bijection).
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
