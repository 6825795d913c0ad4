import Foundation
import TensorEngine

/// `study.json`: what a study directory holds, for `prepare` and for people.
public struct StudyManifest: ManifestFile, Equatable, Sendable {
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

  /// Reads the manifest of the study in `directory` (its `study.json`).
  public static func read(study directory: String) throws(RasterError) -> StudyManifest {
    let path = (directory as NSString).appendingPathComponent("study.json")
    do {
      return try JSONDecoder().decode(
        StudyManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw RasterError(path: path, message: "cannot read the study manifest (\(error))")
    }
  }

  /// The study's predictor rasters, checked to share one grid: the static predictors, then
  /// the time-varying ones with a band per period.
  public func predictorStack(study directory: String) throws(RasterError) -> RasterStack {
    let predictors = (directory as NSString).appendingPathComponent("predictors")
    let path = { (name: String) in (predictors as NSString).appendingPathComponent("\(name).tif") }
    return try RasterStack(
      paths: staticPredictors.map(path) + timeVaryingPredictors.map(path),
      bandCounts: Dictionary(
        uniqueKeysWithValues: timeVaryingPredictors.map { (path($0), periods) }))
  }

}
