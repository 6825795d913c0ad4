/// The spherical semivariogram γ(h) = nugget + partialSill · (3h / 2a − h³ / 2a³) for
/// 0 < h ≤ a (the range), nugget + partialSill beyond, and γ(0) = 0: pykrige's and ArcGIS's
/// spherical model, h in degrees of arc.
public struct SphericalVariogram: Codable, Equatable, Sendable {
  public var nugget: Double
  public var partialSill: Double
  /// Degrees of arc.
  public var range: Double

  public init(nugget: Double, partialSill: Double, range: Double) {
    self.nugget = nugget
    self.partialSill = partialSill
    self.range = range
  }

  public var sill: Double { nugget + partialSill }

  /// γ(h) for h > 0 (the nugget included however small h is, as between two sites).
  @inline(__always)
  public func callAsFunction(_ h: Double) -> Double {
    nugget + partialSill * Self.shape(h, range: range)
  }

  /// The spherical structure rising from 0 to 1 at the range.
  @inline(__always)
  static func shape(_ h: Double, range: Double) -> Double {
    guard h < range else { return 1 }
    let r = h / range
    return 1.5 * r - 0.5 * r * r * r
  }

  /// Range candidates scanned before refining: enough that the scan lands in the basin of
  /// the best range, few enough to cost nothing next to the kriging.
  static let rangeScan = 400

  /// The model closest to `empirical` in unweighted least squares over its bins (pykrige's
  /// default is a soft-L1 loss, so the two fits need not agree exactly), with the range in
  /// (0, largest lag] and nugget, partial sill ≥ 0, as pykrige bounds them.
  ///
  /// For a fixed range the model is linear in (nugget, partial sill), so those come from a
  /// 2 × 2 non-negative least squares (the normal equations, or the best of the two
  /// one-parameter fits on the boundary when they give a negative value). The range is
  /// scanned on `rangeScan` even steps up to the largest lag and the best step refined by
  /// golden-section search between its neighbours (80 steps: to rounding).
  ///
  /// Throws when fewer than three bins hold pairs: three parameters need three points.
  public static func fitted(to empirical: EmpiricalVariogram, subject: String)
    throws(RainfallError) -> SphericalVariogram
  {
    let bins = empirical.bins
    guard bins.count >= 3 else {
      throw RainfallError(
        subject,
        "the empirical semivariogram has \(bins.count) non-empty lag bins; fitting a "
          + "spherical model needs at least 3")
    }
    let lags = bins.map(\.lag)
    let semivariances = bins.map(\.semivariance)
    let longest = lags.max()!
    func best(range: Double) -> (model: SphericalVariogram, loss: Double) {
      bestLinearPart(lags: lags, semivariances: semivariances, range: range)
    }
    let step = longest / Double(rangeScan)
    var bestStep = 1
    var bestLoss = Double.infinity
    for k in 1...rangeScan {
      let loss = best(range: Double(k) * step).loss
      if loss < bestLoss { (bestStep, bestLoss) = (k, loss) }
    }
    // Golden-section search on [a, b] around the best step.
    var a = Double(bestStep - 1) * step
    var b = Double(min(bestStep + 1, rangeScan)) * step
    let ratio = (5.0.squareRoot() - 1) / 2
    var c = b - ratio * (b - a)
    var d = a + ratio * (b - a)
    var (lossC, lossD) = (best(range: c).loss, best(range: d).loss)
    for _ in 0..<80 {
      if lossC <= lossD {
        (b, d, lossD) = (d, c, lossC)
        c = b - ratio * (b - a)
        lossC = best(range: c).loss
      } else {
        (a, c, lossC) = (c, d, lossD)
        d = a + ratio * (b - a)
        lossD = best(range: d).loss
      }
    }
    let refined = best(range: lossC <= lossD ? c : d)
    let scanned = best(range: Double(bestStep) * step)
    return refined.loss <= scanned.loss ? refined.model : scanned.model
  }

  /// The non-negative (nugget, partial sill) of least squared error for a fixed range.
  private static func bestLinearPart(lags: [Double], semivariances y: [Double], range: Double)
    -> (model: SphericalVariogram, loss: Double)
  {
    let s = lags.map { shape($0, range: range) }
    let n = Double(s.count)
    var (sumS, sumSS, sumY, sumSY) = (0.0, 0.0, 0.0, 0.0)
    for (si, yi) in zip(s, y) {
      sumS += si
      sumSS += si * si
      sumY += yi
      sumSY += si * yi
    }
    func loss(_ nugget: Double, _ partialSill: Double) -> Double {
      zip(s, y).reduce(0) { total, pair in
        let residual = nugget + partialSill * pair.0 - pair.1
        return total + residual * residual
      }
    }
    var candidates: [(Double, Double)] = []
    let determinant = n * sumSS - sumS * sumS
    if determinant > 1e-12 * n * sumSS {
      let nugget = (sumSS * sumY - sumS * sumSY) / determinant
      let partialSill = (n * sumSY - sumS * sumY) / determinant
      if nugget >= 0 && partialSill >= 0 { candidates.append((nugget, partialSill)) }
    }
    if candidates.isEmpty {
      candidates = [(max(0, sumY / n), 0), (0, sumSS > 0 ? max(0, sumSY / sumSS) : 0)]
    }
    let (nugget, partialSill) = candidates.min { loss($0.0, $0.1) < loss($1.0, $1.1) }!
    return (
      SphericalVariogram(nugget: nugget, partialSill: partialSill, range: range),
      loss(nugget, partialSill)
    )
  }
}
