import Foundation
import TensorEngine

/// `study.json`: what a study directory holds, for `prepare` and for people.
public struct StudyManifest: Codable, Equatable, Sendable {
  public var seed: UInt64
  public var widthKm: Int
  public var heightKm: Int
  public var periods: Int
  public var cellPixels: Int
  public var epsg: Int
  /// Easting and northing of the epicentre (m).
  public var epicentre: [Double]
  /// Monsoons since the earthquake at the end of each period (the 13th predictor).
  public var monsoons: [Int]
  /// Files in `predictors/`, one band each.
  public var staticPredictors: [String]
  /// Files in `predictors/`, one band per period.
  public var timeVaryingPredictors: [String]

  enum CodingKeys: String, CodingKey {
    case seed, periods, epsg, epicentre, monsoons
    case widthKm = "width_km"
    case heightKm = "height_km"
    case cellPixels = "cell_pixels"
    case staticPredictors = "static_predictors"
    case timeVaryingPredictors = "time_varying_predictors"
  }

  /// Writes the manifest atomically (temporary file, fsync, rename).
  func write(to path: String) throws(RasterError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try AtomicFile.write(try encoder.encode(self), to: path)
    } catch let failure as AtomicFile.Failure {
      throw RasterError(path: path, message: failure.message)
    } catch {
      throw RasterError(path: path, message: "cannot encode (\(error.localizedDescription))")
    }
  }
}
