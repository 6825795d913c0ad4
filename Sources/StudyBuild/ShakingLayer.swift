import Configuration
import Foundation
import GeoData

/// A peak ground acceleration raster (a ShakeMap export, any CRS and resolution) warped
/// onto the study's pixels and read a strip at a time in g, with a check that the values
/// are accelerations in the stated units.
struct ShakingLayer {
  /// PGA this high (g) is beyond any recorded shaking: the units must be wrong.
  static let implausibleG: Float = 5

  /// The user's file, which the messages name.
  let path: String
  private let warped: RasterDataset
  private let scale: Float
  private let units: ShakingInput.Units?
  private var sawData = false

  /// Warps `path` (bilinear) onto `grid` into `scratch`; values read are multiplied by
  /// `scale`, and `units` (nil for a spread in ln units) names the units in the check's
  /// message.
  init(
    _ path: String, onto grid: RasterGrid, scale: Double, scratch: String,
    units: ShakingInput.Units?
  ) throws(RasterError) {
    try RasterWarp.warp(path, onto: grid, resampling: .bilinear, to: scratch)
    self.path = path
    warped = try RasterDataset(path: scratch)
    self.scale = Float(scale)
    self.units = units
  }

  /// The values over `window`, in g.
  mutating func read(_ window: RasterWindow) throws(RasterError) -> [Float] {
    var values = try warped.read(band: 0, window: window).values
    for index in values.indices where !values[index].isNaN {
      guard values[index] >= 0 else {
        throw RasterError(
          path: path,
          message: "negative value \(values[index]) over the study area; expected peak ground "
            + "acceleration (or its spread), which is never negative")
      }
      values[index] *= scale
      sawData = true
      if let units, values[index] > Self.implausibleG {
        throw RasterError(
          path: path,
          message: "values reach \(values[index]) g when read as \(units.rawValue) "
            + "(shaking.units); PGA stays below \(Self.implausibleG) g: are the units "
            + "percent_g, m/s2 or cm/s2?")
      }
    }
    return values
  }

  /// Once every window has been read: there was data over the study area.
  func checkCoverage() throws(RasterError) {
    guard sawData else { throw RasterError(path: path, message: "no data over the study area") }
  }

  /// Turns σ of ln PGA into the spread (standard deviation, g) of a lognormal PGA with the
  /// given median: median · e^(σ²/2) · √(e^(σ²) − 1).
  static func lognormalSpread(_ sigma: inout [Float], median: [Float]) {
    for index in sigma.indices {
      let s = Double(sigma[index])
      sigma[index] = Float(Double(median[index]) * exp(s * s / 2) * (exp(s * s) - 1).squareRoot())
    }
  }
}
