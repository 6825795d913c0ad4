import Foundation
import Testing
import Waveform

/// Against numpy and scipy (tools/fixtures/waveform.py writes the expected values; both
/// sides build the inputs from the same integer formulas, rounded once to Float).
@Suite struct FixtureTests {
  struct Butter: Decodable {
    let order: Int
    let cutoff: Double
    let fs: Double
    let b: [Double]
    let a: [Double]
  }

  struct Filtered: Decodable {
    let order: Int
    let cutoff: Double
    let fs: Double
    let samples: Int
    let p: Int
    let q: Int
    let output: [Double]
  }

  struct Records: Decodable {
    let sites: Int
    let samples: Int
    let sampleRate: Double
    /// [sites, 3]
    let arias: [Double]
    let pgv: [Double]
    let duration: [Double]
  }

  struct Fixtures: Decodable {
    let butter: [Butter]
    let filtfilt: [Filtered]
    let records: Records
  }

  static let fixtures: Fixtures = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/waveform.json")
    return try! JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
  }()

  /// x[i] = ((p·i + q) mod 211 − 105) / 105 + ((i mod 173) − 86) / 43: a saw-tooth with
  /// pseudo-random steps, so the filter sees both a trend and broadband content.
  static func signal(count: Int, p: Int, q: Int) -> [Float] {
    (0..<count).map { i in
      Float(Double((p * i + q) % 211 - 105) / 105 + Double(i % 173 - 86) / 43)
    }
  }

  /// v[s, t, c] = ((t²(3 + c) + t(11 + 5s) + 7c) mod 101 − 50) / 500 m/s.
  static func records(_ r: Records) -> GroundMotionRecords {
    var values: [Float] = []
    for s in 0..<r.sites {
      for t in 0..<r.samples {
        for c in 0..<3 {
          values.append(
            Float(Double((t * t * (3 + c) + t * (11 + 5 * s) + 7 * c) % 101 - 50) / 500))
        }
      }
    }
    return GroundMotionRecords(
      sites: r.sites, samples: r.samples, sampleRate: r.sampleRate, values: values)
  }

  /// The largest difference relative to the largest expected magnitude.
  static func worst(_ actual: [Double], _ expected: [Double]) -> Double {
    let scale = expected.map(abs).max()!
    return zip(actual, expected).map { abs($0 - $1) / scale }.max()!
  }

  @Test func coefficientsMatchScipyButter() {
    for c in Self.fixtures.butter {
      let filter = ButterworthLowPass(order: c.order, cutoff: c.cutoff, sampleRate: c.fs)
      #expect(filter.numerator.count == c.b.count && filter.denominator.count == c.a.count)
      let (b, a) = (Self.worst(filter.numerator, c.b), Self.worst(filter.denominator, c.a))
      #expect(
        b < 1e-12 && a < 1e-12, "order \(c.order), \(c.cutoff) Hz at \(c.fs) Hz: b \(b), a \(a)")
    }
  }

  @Test func filtfiltMatchesScipyDefaults() {
    for c in Self.fixtures.filtfilt {
      let filter = ButterworthLowPass(order: c.order, cutoff: c.cutoff, sampleRate: c.fs)
      let output = filter.filtfilt(Self.signal(count: c.samples, p: c.p, q: c.q))
      #expect(output.count == c.samples)
      let error = Self.worst(output.map(Double.init), c.output)
      #expect(
        error < 1e-6,
        "order \(c.order), \(c.cutoff) Hz at \(c.fs) Hz, \(c.samples) samples: \(error)")
    }
  }

  /// The same filter through the records' interleaved [T, 3] layout: each component alone.
  @Test func recordsAreFilteredPerComponent() {
    let c = Self.fixtures.filtfilt[0]
    let columns = (0..<3).map { Self.signal(count: c.samples, p: c.p + $0, q: c.q) }
    var values: [Float] = []
    for t in 0..<c.samples { values += columns.map { $0[t] } }
    let records = GroundMotionRecords(
      sites: 1, samples: c.samples, sampleRate: c.fs, values: values)
    let filter = ButterworthLowPass(order: c.order, cutoff: c.cutoff, sampleRate: c.fs)
    let filtered = records.lowPassed(filter)
    for component in 0..<3 {
      let alone = filter.filtfilt(columns[component])
      let strided = (0..<c.samples).map { filtered.values[3 * $0 + component] }
      #expect(strided == alone)
    }
    #expect(Self.worst((0..<c.samples).map { Double(filtered.values[3 * $0]) }, c.output) < 1e-6)
  }

  @Test func ariasPGVAndDurationMatchNumpy() {
    let r = Self.fixtures.records
    let records = Self.records(r)
    let arias = records.ariasIntensity().flatMap { [$0.east, $0.north, $0.up] }
    #expect(Self.worst(arias, r.arias) < 1e-12)
    #expect(Self.worst(records.peakGroundVelocity().map(Double.init), r.pgv) < 1e-6)
    #expect(records.significantDuration().map(Double.init) == r.duration.map { Double(Float($0)) })
  }
}
