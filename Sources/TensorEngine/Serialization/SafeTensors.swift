import CChecksum
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A safetensors file that cannot be read or written, named by its path.
public struct SafeTensorsError: Error, CustomStringConvertible {
  public let path: String
  public let message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }
}

/// The safetensors format (8-byte little-endian header length, a JSON header, raw
/// little-endian tensor data), which Python's `safetensors` and numpy users read. Every
/// file we write carries in its `__metadata__` the CRC-32C of the data section (`checksum`,
/// 8 lowercase hex digits, with `checksum_algorithm` = `crc32c`), verified on opening, so a
/// flipped byte is reported with the file's name; `tools/checks/read_checkpoint.py` verifies
/// it too. Files written before carry `checksum` alone, the legacy hash (`checksum(_:)`),
/// still verified.
public enum SafeTensors {
  /// One Float32 tensor to write.
  public struct Item {
    public var name: String
    public var shape: [Int]
    public var values: UnsafeBufferPointer<Float>

    public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
      precondition(
        shape.reduce(1, *) == values.count, "\(name): shape \(shape) for \(values.count) values")
      self.name = name
      self.shape = shape
      self.values = values
    }
  }

  /// Metadata key of the data-section checksum.
  public static let checksumKey = "checksum"
  /// Metadata key naming the algorithm of `checksum`; files without it carry the legacy hash.
  public static let checksumAlgorithmKey = "checksum_algorithm"
  /// The algorithm we write: CRC-32C (Castagnoli).
  public static let checksumAlgorithm = "crc32c"

  /// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final xor
  /// 0xFFFFFFFF) of `bytes`, on the SSE4.2 `crc32` instruction where the CPU has it.
  public static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    landslide_crc32c(0, bytes.baseAddress, bytes.count)
  }

  /// A CRC-32C as metadata stores it: 8 lowercase hex digits.
  static func hex(_ crc: UInt32) -> String {
    let digits = String(crc, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }

  /// The legacy 64-bit hash, no longer written: per 8-byte word h ← rotl((h ⊕ w)·p, 29), a
  /// bijection of h for each word, so any change confined to one word always changes the
  /// result; the tail bytes are folded big-endian into the byte count.
  ///
  /// It stays for two reasons: files written before CRC-32C carry it in `checksum` without
  /// a `checksum_algorithm` (checkpoints of existing runs must still open, and still be
  /// verified), and `Training.ConfigHash` identifies configs with it (checkpoints record
  /// that hash, so changing it would refuse resuming existing runs). Nothing else should
  /// use it: Python has no implementation of it outside `tools/checks/read_checkpoint.py`.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    let words = bytes.count / 8
    for index in 0..<words {
      let word = bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
      hash = rotate((hash ^ word) &* 0x0000_0100_0000_01B3)
    }
    var tail: UInt64 = UInt64(bytes.count)
    for index in (words * 8)..<bytes.count { tail = tail << 8 | UInt64(bytes[index]) }
    return rotate((hash ^ tail) &* 0x0000_0100_0000_01B3)
  }

  private static func rotate(_ value: UInt64) -> UInt64 { value << 29 | value >> 35 }

  /// Writes `items` in order with `metadata` (plus the CRC-32C) atomically (`AtomicFile`).
  public static func write(_ items: [Item], metadata: [String: String] = [:], to path: String)
    throws(SafeTensorsError)
  {
    var header: [String: Any] = [:]
    var offset = 0
    for item in items {
      let bytes = item.values.count * MemoryLayout<Float>.size
      header[item.name] = [
        "dtype": "F32", "shape": item.shape, "data_offsets": [offset, offset + bytes],
      ]
      offset += bytes
    }
    var data = Data(capacity: offset)
    for item in items {
      data.append(UnsafeBufferPointer(start: item.values.baseAddress, count: item.values.count))
    }
    var fullMetadata = metadata
    fullMetadata[checksumKey] = hex(data.withUnsafeBytes { crc32c($0) })
    fullMetadata[checksumAlgorithmKey] = checksumAlgorithm
    header["__metadata__"] = fullMetadata
    guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    else {
      throw SafeTensorsError(path: path, message: "cannot encode the header")
    }
    // Pad the header with spaces so that the data starts 8-byte aligned.
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
    var file = Data()
    var length = UInt64(json.count).littleEndian
    file.append(Data(bytes: &length, count: 8))
    file.append(json)
    file.append(data)
    do {
      try AtomicFile.write(file, to: path)
    } catch {
      throw SafeTensorsError(path: path, message: error.message)
    }
  }
}
