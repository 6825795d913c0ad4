import Foundation
import TensorEngine

/// `study.json`: what a study directory holds, for `prepare` and for people.
public struct StudyManifest: ManifestFile, Equatable, Sendable {
  /// The synthetic area's seed; nil for a real study.
  public var seed: UInt64?
  /// Mapping units across and down (1 km each unless the study was built with another).
  public var widthKm: Int
  public var heightKm: Int
  public var periods: Int
  public var cellPixels: Int
  public var epsg: Int
  /// Easting and northing of the synthetic earthquake's epicentre (m); nil for a real study.
  public var epicentre: [Double]?
  /// Monsoons since the earthquake at the end of each period (the 13th predictor).
  public var monsoons: [Int]
  /// Files in `predictors/`, one band each.
  public var staticPredictors: [String]
  /// Files in `predictors/`, one band per period.
  public var timeVaryingPredictors: [String]
  /// What `study build` made a real study from; nil for a synthetic one.
  public var build: StudyBuildRecord?

  /// The static predictor files of SPEC.md §1, in its order (the monsoon count is in the
  /// manifest).
  public static let staticPredictors = [
    "elevation", "slope", "northness", "eastness", "profile_curvature", "plan_curvature", "twi",
    "distance_to_river", "pga_mean", "pga_std",
  ]

  public init(
    seed: UInt64?, widthKm: Int, heightKm: Int, periods: Int, cellPixels: Int, epsg: Int,
    epicentre: [Double]?, monsoons: [Int], staticPredictors: [String],
    timeVaryingPredictors: [String], build: StudyBuildRecord? = nil
  ) {
    self.seed = seed
    self.widthKm = widthKm
    self.heightKm = heightKm
    self.periods = periods
    self.cellPixels = cellPixels
    self.epsg = epsg
    self.epicentre = epicentre
    self.monsoons = monsoons
    self.staticPredictors = staticPredictors
    self.timeVaryingPredictors = timeVaryingPredictors
    self.build = build
  }

  enum CodingKeys: String, CodingKey {
    case seed, periods, epsg, epicentre, monsoons, build
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
