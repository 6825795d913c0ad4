import Foundation
import TensorEngine

/// `study.json` of a classical study (`ClassicalSyntheticArea`): the grid, the factor
/// rasters in `factors/` in the seed paper's Table 1 order, which of them are categorical,
/// and the inventories with their true probabilities.
public struct ClassicalStudyManifest: ManifestFile, Equatable, Sendable {
  public var seed: UInt64
  public var width: Int
  public var height: Int
  /// Metres per pixel, both ways.
  public var pixelSize: Double
  public var epsg: Int
  /// Files `factors/<name>.tif`, one Float32 band each, in column order.
  public var factors: [String]
  /// Categorical factors and their class counts: codes 1…count.
  public var categorical: [String: Int]
  /// Inventory name ("historical", "earthquake") → 0/1 raster, relative to the study.
  public var inventories: [String: String]
  /// Inventory name → raster of the true per-pixel initiation probability.
  public var truth: [String: String]
  /// Easting and northing of the epicentre (m).
  public var epicentre: [Double]
  /// Pixels that hold data in every layer (the rest is sea, nodata everywhere).
  public var validPixels: Int
  /// Inventory name → pixels inside landslides.
  public var landslidePixels: [String: Int]
  /// Inventory name → landslides drawn (overlapping ones may merge into one polygon).
  public var landslides: [String: Int]

  public static let fileName = "study.json"

  enum CodingKeys: String, CodingKey {
    case seed, width, height, epsg, factors, categorical, inventories, truth, epicentre
    case landslides
    case pixelSize = "pixel_size"
    case validPixels = "valid_pixels"
    case landslidePixels = "landslide_pixels"
  }

  /// The factor rasters of the study in `directory`, in `factors` order.
  public func factorPaths(study directory: String) -> [String] {
    let folder = (directory as NSString).appendingPathComponent("factors")
    return factors.map { (folder as NSString).appendingPathComponent("\($0).tif") }
  }

  /// The factor rasters opened together, checked to share one grid.
  public func factorStack(study directory: String) throws(RasterError) -> RasterStack {
    try RasterStack(paths: factorPaths(study: directory))
  }

  /// Reads a manifest from its file (`<study>/study.json`).
  public static func read(from path: String) throws(RasterError) -> ClassicalStudyManifest {
    do {
      return try JSONDecoder().decode(
        ClassicalStudyManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw RasterError(path: path, message: "cannot read the classical study manifest (\(error))")
    }
  }

}
