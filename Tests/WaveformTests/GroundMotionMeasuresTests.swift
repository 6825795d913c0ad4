import Foundation
import Testing
import Waveform

@Suite struct GroundMotionMeasuresTests {
  /// Builds records from per-component columns, one site per element.
  static func records(_ sites: [[[Float]]], sampleRate: Double = 1) -> GroundMotionRecords {
    let samples = sites[0][0].count
    var values: [Float] = []
    for site in sites {
      for t in 0..<samples { values += site.map { $0[t] } }
    }
    return GroundMotionRecords(
      sites: sites.count, samples: samples, sampleRate: sampleRate, values: values)
  }

  /// Peaks |E| = 0.5, |N| = 0.2 (a negative swing), |U| = 0.1: PGV = ∛(0.5·0.2·0.1) =
  /// ∛0.01 ≈ 0.21544. A second site with equal peaks of 0.3 has PGV 0.3; a quiet one 0.
  @Test func pgvIsTheGeometricMeanOfComponentPeaks() {
    let records = Self.records([
      [[0, 0.5, -0.25, 0], [0.1, -0.2, 0.15, 0], [0.05, 0, -0.1, 0.02]],
      [[0.3, 0, 0, 0], [0, -0.3, 0, 0], [0, 0, 0, 0.3]],
      [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    ])
    let pgv = records.peakGroundVelocity()
    #expect(abs(pgv[0] - 0.215_443_5) < 1e-6)
    #expect(abs(pgv[1] - 0.3) < 1e-6)
    #expect(pgv[2] == 0)
  }

  /// A velocity ramp v = 0.981·t m/s at 1 Hz has a constant acceleration 0.981 m/s² = g/10
  /// (central and one-sided differences alike), so over 5 samples (4 s)
  /// Iₐ = π/(2g)·(g/10)²·4 = π·g/50 = 0.616381…; a constant velocity has none; the
  /// horizontal intensity adds E and N. With 10 Hz the same samples mean 10× the
  /// acceleration over a tenth of the time: 10× the intensity.
  @Test func ariasIntensityOfConstantAcceleration() {
    let ramp: [Float] = (0..<5).map { Float(0.981 * Double($0)) }
    let records = Self.records([[ramp, [Float](repeating: 0.4, count: 5), ramp.map { -$0 }]])
    let arias = records.ariasIntensity()[0]
    let expected = Double.pi * 9.81 / 50
    #expect(abs(arias.east - expected) < 1e-6 * expected)
    #expect(arias.north == 0)
    #expect(abs(arias.up - expected) < 1e-6 * expected)
    #expect(arias.horizontal == arias.east + arias.north)
    let fast = Self.records([[ramp, ramp, ramp]], sampleRate: 10).ariasIntensity()[0]
    #expect(abs(fast.east - 10 * expected) < 1e-5 * expected)
  }

  /// Central differences inside, one-sided at the ends: v = (0, 1, 0) at 1 Hz gives
  /// a = (1, 0, −1), and the trapezoid ∫a² = ½·1 + 0 + ½·1 = 1, so Iₐ = π / (2g).
  @Test func ariasIntensityUsesNumpyGradient() {
    let records = Self.records([[[0, 1, 0], [0, 0, 0], [0, 0, 0]]])
    let east = records.ariasIntensity()[0].east
    #expect(abs(east - Double.pi / (2 * 9.81)) < 1e-12)
  }

  /// Energy v² = 1 in each of 20 samples at 2 Hz: 5 % is reached at the first sample, 95 % at
  /// the 19th (index 18), so D5–95 = 18 / 2 = 9 s; the N–S component counts as much.
  @Test func significantDurationSpansFiveToNinetyFivePercent() {
    let ones = [Float](repeating: 1, count: 20)
    let zeros = [Float](repeating: 0, count: 20)
    let records = Self.records(
      [[ones, zeros, zeros], [zeros, ones, ones], [zeros, zeros, ones]], sampleRate: 2)
    #expect(records.significantDuration() == [9, 9, 0])
  }
}
