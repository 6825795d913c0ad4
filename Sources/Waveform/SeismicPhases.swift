import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

/// One seismic phase at one site: a burst of band-limited noise under a smooth envelope.
/// Stochastic ground-motion simulation in the manner of Boore's method and the
/// Kanai–Tajimi / Clough–Penzien filters: white noise through a resonator tuned to the
/// phase's dominant frequency, shaped in time by an envelope whose length is the phase's
/// duration.
struct SeismicPhase {
  /// Seconds after the record starts.
  var arrival: Double
  var duration: Double
  /// Peak of the envelope, m/s, before polarisation.
  var amplitude: Double
  /// Dominant frequency, Hz.
  var frequency: Double
  /// Damping ratio of the resonator: the relative bandwidth.
  var damping: Double
  /// Share of the motion along the radial direction, the transverse one and the vertical.
  var radial: Double
  var transverse: Double
  var vertical: Double
}

/// The P, S and surface-wave phases of a scenario earthquake at a site: their arrival
/// times, amplitudes, durations and frequencies follow from the distance, the magnitude
/// and the site.
///
/// - Arrivals at P 6.0, S 3.5 and surface-wave group 3.0 km/s from a 15 km deep
///   hypocentre, the origin 5 s into the record.
/// - Durations grow with the source duration 10^(M/2 − 2.5) s (10 s at M 7) and with
///   distance (scattering for body waves, 0.04–0.08 s/km; dispersion for surface waves,
///   0.12 s/km), and are longer on soft ground.
/// - Amplitudes (envelope peaks, × 10^((M − 7)/2)): S 0.45 m/s / (1 + R/15 km), P a
///   quarter of S, surface waves 0.4 m/s / √(1 + R/15 km) × (1 − e^(−R/30 km)) (they need
///   some 30 km to develop), with R hypocentral; so far sites shake longer and at lower
///   frequency for their peak velocity. Soft ground, convex ridges and high relief amplify.
/// - Dominant frequencies fall with distance (attenuation of high frequencies) and
///   magnitude and are lower on soft ground: S 2 Hz / (1 + R/30 km), P 1.6× S, surface
///   waves 0.35 Hz / (1 + R/150 km), capped at 0.3 × the sample rate.
enum SeismicPhases {
  static let origin = 5.0
  static let depthKm = 15.0
  static let velocities = (p: 6.0, s: 3.5, surface: 3.0)

  static func sourceDuration(magnitude: Double) -> Double { pow(10, magnitude / 2 - 2.5) }

  /// When the surface waves of a hard-rock site at `distanceKm` have died down (s): what
  /// the record must cover.
  static func end(distanceKm: Double, magnitude: Double) -> Double {
    let hypocentral = (distanceKm * distanceKm + depthKm * depthKm).squareRoot()
    return origin + hypocentral / velocities.surface + sourceDuration(magnitude: magnitude) / 2
      + 0.12 * distanceKm
  }

  static func phases(at site: ScenarioSite, magnitude: Double, sampleRate: Double)
    -> [SeismicPhase]
  {
    let r = site.distanceKm
    let hypocentral = (r * r + depthKm * depthKm).squareRoot()
    let size = pow(10, 0.5 * (magnitude - 7))
    let source = sourceDuration(magnitude: magnitude)
    let topography = exp(0.06 * site.curvature + 0.1 * log(site.relief / 500))
    let amplification = site.lithology.amplification * topography * site.amplitudeJitter
    let lengthening = site.lithology.durationFactor * site.durationJitter
    let tuning =
      site.lithology.frequencyFactor * site.frequencyJitter * pow(10, -0.2 * (magnitude - 7))
    func capped(_ frequency: Double) -> Double { min(0.3 * sampleRate, frequency) }
    let s = SeismicPhase(
      arrival: origin + hypocentral / velocities.s, duration: (source + 0.08 * r) * lengthening,
      amplitude: 0.45 * size / (1 + hypocentral / 15) * amplification,
      frequency: capped(2 / (1 + r / 30) * tuning), damping: 0.35,
      radial: 0.6, transverse: 0.8, vertical: 0.3)
    let p = SeismicPhase(
      arrival: origin + hypocentral / velocities.p,
      duration: (source / 2 + 0.04 * r) * lengthening, amplitude: 0.25 * s.amplitude,
      frequency: capped(1.6 * s.frequency), damping: 0.4,
      radial: 0.5, transverse: 0.1, vertical: 0.85)
    let surface = SeismicPhase(
      arrival: origin + hypocentral / velocities.surface,
      duration: (source / 2 + 0.12 * r) * lengthening,
      amplitude: 0.4 * size / (1 + hypocentral / 15).squareRoot() * (1 - exp(-r / 30))
        * amplification,
      frequency: capped(0.35 / (1 + r / 150) * tuning), damping: 0.25,
      radial: 0.55, transverse: 0.7, vertical: 0.5)
    return [p, s, surface]
  }

  /// Adds the phases to one site's [T, 3] record (E–W, N–S, U–D). `scratch` holds 4·T
  /// Doubles. Noise is uniform with unit variance (the resonator makes it Gaussian enough);
  /// each direction's filtered noise is scaled to unit RMS from the arrival on, so that
  /// the envelope alone sets the amplitude whatever the frequency and damping. The
  /// resonator has a zero at DC (it filters the noise's first difference), so that it is a
  /// band-pass: a phase's frequency content is its own, without a low-frequency floor.
  static func synthesise(
    _ phases: [SeismicPhase], azimuth: Double, sampleRate: Double,
    into record: UnsafeMutablePointer<Float>, samples: Int,
    scratch: UnsafeMutablePointer<Double>, random: inout RandomGenerator
  ) {
    let (sinA, cosA) = (sin(azimuth), cos(azimuth))
    let envelope = scratch
    let (radial, transverse, vertical) = (
      scratch + samples, scratch + 2 * samples, scratch + 3 * samples
    )
    for phase in phases {
      let start = Int((phase.arrival * sampleRate).rounded(.up))
      guard start < samples - 1 else { continue }
      // Gamma-like envelope x²·e^(2(1 − x)), x = (t − arrival) / (duration / 4): 0 at the
      // arrival, the peak at x = 1 (a quarter of the duration in), 4 % at x = 4 (its end).
      for t in start..<samples {
        let x = (Double(t) / sampleRate - phase.arrival) / (0.25 * phase.duration)
        envelope[t] = phase.amplitude * x * x * exp(2 * (1 - x))
      }
      let omega = 2 * Double.pi * phase.frequency / sampleRate
      let radius = exp(-phase.damping * omega)
      let feedback = 2 * radius * cos(omega * (1 - phase.damping * phase.damping).squareRoot())
      let decay = radius * radius
      for (buffer, weight) in [
        (radial, phase.radial), (transverse, phase.transverse), (vertical, phase.vertical),
      ] {
        var (previous, beforePrevious, lastNoise, energy) = (0.0, 0.0, 0.0, 0.0)
        for t in start..<samples {
          let noise = 3.0.squareRoot() * (2 * Double(random.next() >> 11) * 0x1p-53 - 1)
          let y = feedback * previous - decay * beforePrevious + noise - lastNoise
          (beforePrevious, previous, lastNoise) = (previous, y, noise)
          buffer[t] = y
          energy += y * y
        }
        let scale = weight / (energy / Double(samples - start)).squareRoot()
        for t in start..<samples { buffer[t] *= scale * envelope[t] }
      }
      for t in start..<samples {
        let (r, q) = (radial[t], transverse[t])
        record[3 * t] += Float(r * sinA + q * cosA)
        record[3 * t + 1] += Float(r * cosA - q * sinA)
        record[3 * t + 2] += Float(vertical[t])
      }
    }
  }
}
