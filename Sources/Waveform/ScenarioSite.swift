import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

/// Lithology classes of the synthetic scenario, from hard rock to soft ground, with how
/// each shapes shaking and failure. Soft ground amplifies and lengthens shaking and lowers
/// its dominant frequency (resonance of a slow layer), and it is weaker: the two ways
/// lithology enters the paper's Mod3 (through the waveform and as a static covariate).
enum Lithology: Int, CaseIterable {
  /// Gneiss and granite of the Higher Himalaya.
  case crystalline
  /// Quartzite and limestone.
  case quartzite
  /// Phyllite and schist of the Lesser Himalaya.
  case phyllite
  /// Siwalik sandstone and mudstone.
  case siwalik
  /// Quaternary colluvium and alluvium.
  case quaternary

  /// Share of sites on each class.
  static let frequencies = [0.25, 0.25, 0.2, 0.15, 0.15]

  var amplification: Double { [1.0, 1.15, 1.4, 1.75, 2.2][rawValue] }
  var frequencyFactor: Double { [1.0, 0.92, 0.8, 0.68, 0.55][rawValue] }
  var durationFactor: Double { [1.0, 1.05, 1.15, 1.3, 1.5][rawValue] }
  /// Centred −1 … 1: how much more readily the ground fails.
  var weakness: Double { [-1, -0.5, 0, 0.5, 1][rawValue] }
}

/// One site of the scenario: where it is, its terrain and ground (the static covariates),
/// and the unobserved path and ground effects that make sites with equal covariates and
/// distance shake and fail differently.
struct ScenarioSite {
  var distanceKm: Double
  /// Clockwise from north, radians, as seen from the epicentre.
  var azimuth: Double
  /// Degrees; the paper's absences are slopes steeper than 10°.
  var slope: Double
  /// Local relief, m.
  var relief: Double
  var lithology: Lithology
  /// Plan curvature, 1/100 m: positive on convex ridges (which amplify shaking), negative
  /// in hollows and drainages (which gather water).
  var curvature: Double
  /// Metres to the nearest stream (undercut toes fail more readily).
  var streamDistance: Double
  /// Log-normal factors of path and basin effects.
  var amplitudeJitter: Double
  var durationJitter: Double
  var frequencyJitter: Double
  /// A standard normal for everything else that makes a slope fail (water, fractures).
  var hiddenWeakness: Double

  /// Draws a site from its own stream, so that a site does not depend on how many come
  /// before it.
  init(distanceKm range: ClosedRange<Double>, random: inout RandomGenerator) {
    func normal() -> Double { Double(random.nextNormal()) }
    func uniform() -> Double { Double(random.nextUniform()) }
    distanceKm = range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    azimuth = 2 * Double.pi * uniform()
    slope = min(65, max(10, 30 + 9 * normal()))
    relief = (150 + 15 * slope) * exp(0.3 * normal())
    var draw = uniform()
    var chosen = Lithology.quaternary
    for (index, share) in Lithology.frequencies.enumerated() {
      if draw < share {
        chosen = Lithology(rawValue: index)!
        break
      }
      draw -= share
    }
    lithology = chosen
    curvature = normal()
    streamDistance = 30 + 250 * exp(0.5 * curvature + 0.7 * normal())
    amplitudeJitter = exp(0.3 * normal())
    durationJitter = min(2, max(0.5, exp(0.3 * normal())))
    frequencyJitter = exp(0.2 * normal())
    hiddenWeakness = normal()
  }

  /// The static covariates in `WaveformScenario.staticFeatures` order.
  var covariates: [Float] {
    [slope, relief, Double(lithology.rawValue), curvature, streamDistance].map { Float($0) }
  }
}
