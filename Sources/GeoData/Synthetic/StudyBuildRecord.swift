import CChecksum
import Configuration
import Foundation

/// What a built study was made from: the config's settings, the grid, the periods and every
/// input file with its size and CRC-32C, so that a changed input rebuilds.
public struct StudyBuildRecord: Codable, Equatable, Sendable {
  public struct Input: Codable, Equatable, Sendable {
    public var role: String
    public var path: String
    public var bytes: Int
    public var crc32c: String

    public init(role: String, path: String) throws(RasterError) {
      self.role = role
      self.path = path
      (bytes, crc32c) = try Self.checksum(path)
    }

    /// Size and CRC-32C of a file, read in 16 MiB pieces.
    static func checksum(_ path: String) throws(RasterError) -> (Int, String) {
      guard let handle = FileHandle(forReadingAtPath: path) else {
        throw RasterError(path: path, message: "cannot open to checksum")
      }
      defer { try? handle.close() }
      var crc: UInt32 = 0
      var bytes = 0
      while true {
        let piece: Data
        do { piece = try handle.read(upToCount: 16 << 20) ?? Data() } catch {
          throw RasterError(path: path, message: "cannot read (\(error.localizedDescription))")
        }
        if piece.isEmpty { break }
        crc = piece.withUnsafeBytes { landslide_crc32c(crc, $0.baseAddress, $0.count) }
        bytes += piece.count
      }
      return (bytes, String(format: "%08x", crc))
    }
  }

  public var config: String
  public var epsg: Int
  /// Top-left corner of the unit grid (x, y).
  public var origin: [Double]
  public var unitMetres: Double
  public var pixelsPerUnit: Int
  public var periods: [StudyPeriod]
  public var inputs: [Input]

  public init(
    config: String, epsg: Int, origin: [Double], unitMetres: Double, pixelsPerUnit: Int,
    periods: [StudyPeriod], inputs: [Input]
  ) {
    self.config = config
    self.epsg = epsg
    self.origin = origin
    self.unitMetres = unitMetres
    self.pixelsPerUnit = pixelsPerUnit
    self.periods = periods
    self.inputs = inputs
  }

  enum CodingKeys: String, CodingKey {
    case config, epsg, origin, periods, inputs
    case unitMetres = "unit_m"
    case pixelsPerUnit = "pixels_per_unit"
  }
}
