#if canImport(Glibc)
  import Glibc
#endif

/// The Arias intensity of one site's record per component, in m/s.
public struct AriasIntensity: Equatable, Sendable {
  public var east: Double
  public var north: Double
  public var up: Double

  public init(east: Double, north: Double, up: Double) {
    self.east = east
    self.north = north
    self.up = up
  }

  /// The site's intensity: the sum of the two horizontal components, as Arias (1970)
  /// defined it for the horizontal plane (the sum does not depend on how the two
  /// orthogonal axes are turned) and as the co-seismic landslide regressions the paper's
  /// Arias benchmark follows (Jibson's Newmark fits, Harp and Wilson) use it. The vertical
  /// component is left out because it barely drives a block down a slope; it is kept
  /// above for whoever wants the three-component total.
  public var horizontal: Double { east + north }
}

/// Scalar intensity measures of velocity records: the proxies the paper's Mod2, Mod4 and
/// its Arias benchmark use in place of the full waveform.
extension GroundMotionRecords {
  /// Standard gravity as seismology rounds it (m/s²).
  public static let gravity = 9.81

  /// Peak ground velocity per site (m/s): the geometric mean of the three components' peak
  /// absolute values (SPEC.md §2).
  public func peakGroundVelocity() -> [Float] {
    values.withUnsafeBufferPointer { records in
      (0..<sites).map { site in
        var peaks: (Float, Float, Float) = (0, 0, 0)
        let record = records.baseAddress! + site * samples * 3
        for t in 0..<samples {
          peaks.0 = max(peaks.0, abs(record[3 * t]))
          peaks.1 = max(peaks.1, abs(record[3 * t + 1]))
          peaks.2 = max(peaks.2, abs(record[3 * t + 2]))
        }
        return Float(cbrt(Double(peaks.0) * Double(peaks.1) * Double(peaks.2)))
      }
    }
  }

  /// Arias intensity per site and component, Iₐ = π / (2g) ∫ a(t)² dt. The records are
  /// velocities, so the acceleration is their derivative by numpy.gradient's scheme: central
  /// differences (vₜ₊₁ − vₜ₋₁) / 2Δt inside, one-sided first differences at the two ends;
  /// the integral is the trapezoid rule (numpy.trapezoid). Needs at least 2 samples.
  public func ariasIntensity() -> [AriasIntensity] {
    precondition(samples >= 2, "Arias intensity needs at least 2 samples, not \(samples)")
    let dt = 1 / sampleRate
    let scale = Double.pi / (2 * Self.gravity)
    return values.withUnsafeBufferPointer { records in
      (0..<sites).map { site in
        let record = records.baseAddress! + site * samples * 3
        var integrals: [Double] = [0, 0, 0]
        for component in 0..<3 {
          let v = record + component
          let n = samples
          let start = (Double(v[3]) - Double(v[0])) / dt
          let end = (Double(v[3 * (n - 1)]) - Double(v[3 * (n - 2)])) / dt
          var sum = (start * start + end * end) / 2
          for t in 1..<(n - 1) {
            let a = (Double(v[3 * (t + 1)]) - Double(v[3 * (t - 1)])) / (2 * dt)
            sum += a * a
          }
          integrals[component] = scale * sum * dt
        }
        return AriasIntensity(east: integrals[0], north: integrals[1], up: integrals[2])
      }
    }
  }

  /// Significant duration per site (s): the time over which the horizontal velocity energy
  /// ∫(v²_E + v²_N) dt grows from 5 % to 95 % of its total (the D5–95 of Trifunac and Brady,
  /// on velocity rather than acceleration so that long-period surface waves count as much
  /// as they shake a slope). 0 for a record without horizontal motion.
  public func significantDuration() -> [Float] {
    values.withUnsafeBufferPointer { records in
      (0..<sites).map { site in
        let record = records.baseAddress! + site * samples * 3
        func energy(_ t: Int) -> Double {
          let (east, north) = (Double(record[3 * t]), Double(record[3 * t + 1]))
          return east * east + north * north
        }
        var total = 0.0
        for t in 0..<samples { total += energy(t) }
        guard total > 0 else { return 0 }
        var (cumulative, start, end) = (0.0, -1, 0)
        for t in 0..<samples {
          cumulative += energy(t)
          if start < 0 && cumulative >= 0.05 * total { start = t }
          if cumulative >= 0.95 * total {
            end = t
            break
          }
        }
        return Float(Double(end - start) / sampleRate)
      }
    }
  }
}
