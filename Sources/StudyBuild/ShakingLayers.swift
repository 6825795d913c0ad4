import Configuration
import Foundation
import GeoData

/// Peak ground acceleration rasters (a ShakeMap export, any CRS and resolution) warped onto
/// the study's pixels and converted to g, with a check that the values are accelerations
/// in the stated units.
enum ShakingLayers {
  /// PGA this high (g) is beyond any recorded shaking: the units must be wrong.
  static let implausibleG: Float = 5

  /// The raster warped (bilinear) onto `grid` and multiplied by `scale`; `units` (nil for
  /// a spread in ln units) names the units in the check's message.
  static func warped(
    _ path: String, onto grid: RasterGrid, scale: Double, scratch: String,
    units: ShakingInput.Units?
  ) throws(RasterError) -> [Float] {
    try RasterWarp.warp(path, onto: grid, resampling: .bilinear, to: scratch)
    var values = try RasterDataset(path: scratch).read(band: 0).values
    let factor = Float(scale)
    var largest: Float = 0
    for index in values.indices where !values[index].isNaN {
      guard values[index] >= 0 else {
        throw RasterError(
          path: path,
          message: "negative value \(values[index]) over the study area; expected peak ground "
            + "acceleration (or its spread), which is never negative")
      }
      values[index] *= factor
      largest = max(largest, values[index])
    }
    guard values.contains(where: { !$0.isNaN }) else {
      throw RasterError(path: path, message: "no data over the study area")
    }
    if let units, largest > implausibleG {
      throw RasterError(
        path: path,
        message: "values reach \(largest) g when read as \(units.rawValue) (shaking.units); PGA "
          + "stays below \(implausibleG) g: are the units percent_g, m/s2 or cm/s2?")
    }
    return values
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
