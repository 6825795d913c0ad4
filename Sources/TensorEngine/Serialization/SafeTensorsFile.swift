import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A safetensors file mapped into memory: tensors are read in place, without copying.
/// Opening checks the header and, when the metadata carries one, the checksum (CRC-32C, or
/// the legacy hash of files written before it).
public final class SafeTensorsFile {
  public struct TensorInfo: Equatable, Sendable {
    public let dtype: String
    public let shape: [Int]
    /// Byte range within the data section.
    public let range: Range<Int>
  }

  public let path: String
  public let metadata: [String: String]
  /// Tensors by name.
  public let tensors: [String: TensorInfo]
  private let mapping: UnsafeMutableRawPointer
  private let size: Int
  private let dataStart: Int

  public init(path: String) throws(SafeTensorsError) {
    self.path = path
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
      throw SafeTensorsError(
        path: path, message: "cannot open: \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    var status = stat()
    fstat(descriptor, &status)
    size = Int(status.st_size)
    guard size >= 8 else {
      throw SafeTensorsError(
        path: path, message: "truncated: \(size) bytes, shorter than the 8-byte header length")
    }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED
    else {
      throw SafeTensorsError(path: path, message: "cannot map: \(String(cString: strerror(errno)))")
    }
    mapping = mapped
    do throws(SafeTensorsError) {
      let headerLength = Int(UInt64(littleEndian: mapped.loadUnaligned(as: UInt64.self)))
      guard headerLength <= size - 8 else {
        throw SafeTensorsError(
          path: path,
          message:
            "truncated: the header claims \(headerLength) bytes, the file has \(size - 8) after it")
      }
      dataStart = 8 + headerLength
      let headerBytes = Data(bytes: mapped + 8, count: headerLength)
      guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any]
      else {
        throw SafeTensorsError(path: path, message: "the header is not a JSON object")
      }
      metadata = header["__metadata__"] as? [String: String] ?? [:]
      var tensors: [String: TensorInfo] = [:]
      for (name, value) in header where name != "__metadata__" {
        guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
          let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
          offsets.count == 2,
          offsets[0] <= offsets[1]
        else {
          throw SafeTensorsError(path: path, message: "tensor \(name): malformed header entry")
        }
        guard dataStart + offsets[1] <= size else {
          throw SafeTensorsError(
            path: path,
            message: "truncated: tensor \(name) ends at byte \(dataStart + offsets[1]) of \(size)")
        }
        tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
      }
      // Before the last stored property is set: a class whose init throws once all are set
      // runs its deinit, which would unmap the file a second time after the catch below.
      try Self.verifyChecksum(
        UnsafeRawBufferPointer(start: mapped + dataStart, count: size - dataStart),
        metadata: metadata, path: path)
      self.tensors = tensors
    } catch {
      munmap(mapped, size)
      throw error
    }
  }

  deinit { munmap(mapping, size) }

  /// Checks the data section against the metadata's checksum, if it carries one: CRC-32C
  /// where `checksum_algorithm` is `crc32c`, the legacy hash where it is absent.
  private static func verifyChecksum(
    _ data: UnsafeRawBufferPointer, metadata: [String: String], path: String
  ) throws(SafeTensorsError) {
    let algorithm = metadata[SafeTensors.checksumAlgorithmKey]
    guard let stored = metadata[SafeTensors.checksumKey] else {
      if let algorithm {
        throw SafeTensorsError(
          path: path, message: "the metadata names checksum algorithm \(algorithm) but no checksum")
      }
      return
    }
    let computed: String
    switch algorithm {
    case nil: computed = String(SafeTensors.checksum(data), radix: 16)
    case SafeTensors.checksumAlgorithm?: computed = SafeTensors.hex(SafeTensors.crc32c(data))
    case let other?:
      throw SafeTensorsError(
        path: path,
        message:
          "unknown checksum algorithm \(other) (this version verifies \(SafeTensors.checksumAlgorithm))"
      )
    }
    guard stored.lowercased() == computed else {
      throw SafeTensorsError(
        path: path,
        message:
          "checksum mismatch: the data section is corrupt (\(algorithm ?? "legacy hash") stored \(stored), computed \(computed))"
      )
    }
  }

  /// The values of a Float32 tensor, in place (valid while this file is open).
  public func floats(_ name: String) throws(SafeTensorsError) -> UnsafeBufferPointer<Float> {
    guard let info = tensors[name] else {
      throw SafeTensorsError(path: path, message: "no tensor named \(name)")
    }
    guard info.dtype == "F32" else {
      throw SafeTensorsError(path: path, message: "tensor \(name) is \(info.dtype), expected F32")
    }
    let start = UnsafeRawPointer(mapping + dataStart + info.range.lowerBound)
    return UnsafeBufferPointer(
      start: start.assumingMemoryBound(to: Float.self),
      count: info.range.count / MemoryLayout<Float>.size)
  }
}
