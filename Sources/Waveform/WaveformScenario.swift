import Foundation
import TensorEngine

/// A synthetic co-seismic landslide scenario with a known truth, for the full-waveform
/// transformer and its PGV, Arias and low-pass variants (SPEC.md §2): one earthquake,
/// `sites` slope locations with five static covariates, their three-component velocity
/// records (`SeismicPhases`) and landslide labels drawn from a latent process in which
/// terrain, peak velocity, shaking duration and low-frequency content all matter
/// (`CoseismicLandslides`). Same seed, same bytes.
public struct WaveformScenario: Sendable {
  public struct Specification: Equatable, Sendable {
    public var seed: UInt64
    public var sites: Int
    /// Samples per record (the paper's code: 6513).
    public var samples: Int
    /// Hz; the records are meant to carry up to ~1.5 Hz, as the paper's simulations did,
    /// so 5 Hz (Nyquist 2.5 Hz) loses nothing, and 512 samples (102.4 s) hold the surface
    /// waves of a site 100 km away.
    public var sampleRate: Double
    public var magnitude: Double
    /// Epicentral distances of the sites, drawn uniformly.
    public var distanceKm: ClosedRange<Double>
    /// Expected share of sites that fail (the paper's class weights, 1 : 9, suggest 10 %).
    public var positiveRate: Double

    public init(
      seed: UInt64 = 1, sites: Int = 20_000, samples: Int = 512, sampleRate: Double = 5,
      magnitude: Double = 7, distanceKm: ClosedRange<Double> = 10...100,
      positiveRate: Double = 0.1
    ) {
      self.seed = seed
      self.sites = sites
      self.samples = samples
      self.sampleRate = sampleRate
      self.magnitude = magnitude
      self.distanceKm = distanceKm
      self.positiveRate = positiveRate
    }

    /// Why the specification cannot make a scenario, or nil. The records must be long
    /// enough for the surface waves of the farthest site, or the labels would depend on
    /// shaking the records do not show.
    public var problem: String? {
      guard sites > 0 else { return "a scenario needs at least one site, not \(sites)" }
      guard sampleRate > 1 else {
        return
          "sample rate \(sampleRate) Hz; the 0.5 Hz low-pass behind the labels needs more than 1 Hz"
      }
      guard positiveRate > 0 && positiveRate < 1 else {
        return "positive rate \(positiveRate); expected a share between 0 and 1"
      }
      guard distanceKm.lowerBound >= 0 else {
        return "distances \(distanceKm) km; expected non-negative distances"
      }
      let window = Double(samples) / sampleRate
      let end = SeismicPhases.end(distanceKm: distanceKm.upperBound, magnitude: magnitude)
      guard end <= window else {
        return String(
          format:
            "records of %d samples at %g Hz last %.1f s, but the surface waves of a site %g km away last until about %.1f s; use more samples, a lower sample rate or nearer sites",
          samples, sampleRate, window, distanceKm.upperBound, end)
      }
      return nil
    }
  }

  /// The static covariates, in the order of `staticValues`' columns: slope (°), local
  /// relief (m), lithology class (0 crystalline … 4 Quaternary deposits, as a number),
  /// plan curvature (1/100 m, convex positive) and distance to the nearest stream (m).
  public static let staticFeatures = [
    "slope", "relief", "lithology", "plan_curvature", "distance_to_stream",
  ]

  public let specification: Specification
  /// Velocity records, [sites, samples, 3].
  public let records: GroundMotionRecords
  /// [sites, staticFeatures.count] row-major.
  public let staticValues: [Float]
  /// Epicentral distance per site, km.
  public let distanceKm: [Float]
  /// The latent process's failure probability per site.
  public let probability: [Float]
  /// 1 where the slope failed.
  public let labels: [Float]

  /// Generates the scenario; `specification.problem` must be nil.
  public init(_ specification: Specification) {
    if let problem = specification.problem { preconditionFailure(problem) }
    let s = specification
    self.specification = s
    let streams = (0..<s.sites).map { site in
      RandomGenerator(seed: s.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(site))
    }
    var sites: [ScenarioSite] = []
    sites.reserveCapacity(s.sites)
    var values = [Float](repeating: 0, count: s.sites * s.samples * 3)
    var scratch = [Double](repeating: 0, count: 4 * s.samples)
    values.withUnsafeMutableBufferPointer { records in
      scratch.withUnsafeMutableBufferPointer { work in
        for index in 0..<s.sites {
          var random = streams[index]
          let site = ScenarioSite(distanceKm: s.distanceKm, random: &random)
          let record = records.baseAddress! + index * s.samples * 3
          // Background noise of 0.1 mm/s before and under the earthquake.
          for i in 0..<(3 * s.samples) {
            record[i] = 1e-4 * (2 * random.nextUniform() - 1)
          }
          SeismicPhases.synthesise(
            SeismicPhases.phases(at: site, magnitude: s.magnitude, sampleRate: s.sampleRate),
            azimuth: site.azimuth, sampleRate: s.sampleRate, into: record, samples: s.samples,
            scratch: work.baseAddress!, random: &random)
          sites.append(site)
        }
      }
    }
    records = GroundMotionRecords(
      sites: s.sites, samples: s.samples, sampleRate: s.sampleRate, values: values)
    staticValues = sites.flatMap(\.covariates)
    distanceKm = sites.map { Float($0.distanceKm) }
    var draws = RandomGenerator(seed: s.seed ^ 0x4C41_4E44_534C_4944)
    let landslides = CoseismicLandslides(
      sites: sites, records: records, positiveRate: s.positiveRate, random: &draws)
    probability = landslides.probability
    labels = landslides.labels
  }

  /// Writes series.npy ([sites, samples, 3]), static.npy ([sites, 5]), labels.npy and
  /// probability.npy ([sites]) into `directory`, which must exist.
  public func write(into directory: String) throws(NumPyError) {
    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    try records.write(to: path("series.npy"))
    try NumPyArray(shape: [records.sites, Self.staticFeatures.count], values: staticValues)
      .write(to: path("static.npy"))
    try NumPyArray(shape: [records.sites], values: labels).write(to: path("labels.npy"))
    try NumPyArray(shape: [records.sites], values: probability).write(to: path("probability.npy"))
  }
}
