#if canImport(Glibc)
  import Glibc
#endif

/// Slope, aspect and curvatures from the 3 × 3 neighbourhood of each cell by Zevenbergen
/// & Thorne (1987): z₁…z₉ row by row from the north-west corner, with the partial
/// derivatives of the quadratic surface through them,
///   G = ∂z/∂x = (z₆ − z₄)/2Δx,  H = ∂z/∂y = (z₂ − z₈)/2Δy  (x east, y north),
///   D = ((z₄ + z₆)/2 − z₅)/Δx², E = ((z₂ + z₈)/2 − z₅)/Δy², F = (−z₁ + z₃ + z₇ − z₉)/4ΔxΔy,
/// slope = atan √(G² + H²), aspect = the azimuth (clockwise from north) of −∇z,
/// profile curvature = −2(DG² + EH² + FGH)/(G² + H²), plan curvature =
/// 2(DH² + EG² − FGH)/(G² + H²), in 1/m (positive profile curvature: convex downslope).
/// Edge cells use the nearest row/column; nodata neighbours take the centre value.
public struct SurfaceDerivatives: Sendable {
  public var slopeDegrees: [Float]
  public var northness: [Float]
  public var eastness: [Float]
  public var profileCurvature: [Float]
  public var planCurvature: [Float]

  /// One derived layer; `layer(_:of:)` makes them one at a time, so that a national DEM
  /// never holds all five.
  public enum Quantity: CaseIterable, Sendable {
    case slopeDegrees, northness, eastness, profileCurvature, planCurvature
  }

  /// All five layers.
  public init(_ dem: ElevationModel) {
    slopeDegrees = Self.layer(.slopeDegrees, of: dem)
    northness = Self.layer(.northness, of: dem)
    eastness = Self.layer(.eastness, of: dem)
    profileCurvature = Self.layer(.profileCurvature, of: dem)
    planCurvature = Self.layer(.planCurvature, of: dem)
  }

  /// `quantity` for every cell, NaN where the DEM has no data.
  public static func layer(_ quantity: Quantity, of dem: ElevationModel) -> [Float] {
    var values = [Float](repeating: .nan, count: dem.width * dem.height)
    for row in 0..<dem.height {
      let dx = dem.cellWidth[row]
      let dy = dem.cellHeight[row]
      for column in 0..<dem.width {
        let index = row * dem.width + column
        let z5 = dem.elevation[index]
        guard !z5.isNaN else { continue }
        func z(_ r: Int, _ c: Int) -> Double {
          Double(dem.value(row + r, column + c, fallback: z5))
        }
        let (z1, z2, z3) = (z(-1, -1), z(-1, 0), z(-1, 1))
        let (z4, centre, z6) = (z(0, -1), Double(z5), z(0, 1))
        let (z7, z8, z9) = (z(1, -1), z(1, 0), z(1, 1))
        let g = (z6 - z4) / (2 * dx)
        let h = (z2 - z8) / (2 * dy)
        let gradient2 = g * g + h * h
        if quantity == .slopeDegrees {
          values[index] = Float(atan(gradient2.squareRoot()) * 180 / .pi)
          continue
        }
        guard gradient2 > 0 else {
          values[index] = 0
          continue
        }
        let magnitude = gradient2.squareRoot()
        let d = ((z4 + z6) / 2 - centre) / (dx * dx)
        let e = ((z2 + z8) / 2 - centre) / (dy * dy)
        let f = (-z1 + z3 + z7 - z9) / (4 * dx * dy)
        switch quantity {
        // The downslope direction −∇z: its north and east components give cos and sin of
        // the aspect azimuth.
        case .northness: values[index] = Float(-h / magnitude)
        case .eastness: values[index] = Float(-g / magnitude)
        case .profileCurvature:
          values[index] = Float(-2 * (d * g * g + e * h * h + f * g * h) / gradient2)
        case .planCurvature:
          values[index] = Float(2 * (d * h * h + e * g * g - f * g * h) / gradient2)
        case .slopeDegrees: break
        }
      }
    }
    return values
  }
}
