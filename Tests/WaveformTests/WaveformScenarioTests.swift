import Foundation
import TensorEngine
import TestSupport
import Testing
import Waveform

@Suite struct WaveformScenarioTests {
  /// 102.4 s records at 5 Hz: long enough for surface waves from 100 km.
  static func specification(seed: UInt64 = 7, sites: Int = 2000) -> WaveformScenario.Specification {
    WaveformScenario.Specification(seed: seed, sites: sites, samples: 512, sampleRate: 5)
  }

  static let scenario = WaveformScenario(specification())

  @Test func sameSeedSameScenario() {
    let a = WaveformScenario(Self.specification(sites: 50))
    let b = WaveformScenario(Self.specification(sites: 50))
    #expect(a.records == b.records)
    #expect(a.staticValues == b.staticValues)
    #expect(a.labels == b.labels && a.probability == b.probability)
    let other = WaveformScenario(Self.specification(seed: 8, sites: 50))
    #expect(other.records != a.records && other.staticValues != a.staticValues)
  }

  /// A site is drawn from its own stream: the first 50 sites of a larger scenario are
  /// those of a scenario of 50 (only the labels' calibration sees all sites).
  @Test func sitesDoNotDependOnHowManyThereAre() {
    let small = WaveformScenario(Self.specification(sites: 50))
    #expect(
      Array(Self.scenario.records.values.prefix(small.records.values.count)) == small.records.values
    )
    #expect(Array(Self.scenario.staticValues.prefix(50 * 5)) == small.staticValues)
  }

  @Test func shapesAndCovariateRanges() {
    let s = Self.scenario
    #expect(s.records.sites == 2000 && s.records.samples == 512 && s.records.sampleRate == 5)
    #expect(s.records.values.count == 2000 * 512 * 3)
    #expect(WaveformScenario.staticFeatures.count == 5)
    #expect(s.staticValues.count == 2000 * 5)
    #expect(s.labels.count == 2000 && s.probability.count == 2000 && s.distanceKm.count == 2000)
    #expect(s.labels.allSatisfy { $0 == 0 || $0 == 1 })
    #expect(s.distanceKm.allSatisfy { (10...100).contains($0) })
    for site in 0..<2000 {
      let row = s.staticValues[(5 * site)..<(5 * site + 5)].map { $0 }
      #expect((10...65).contains(row[0]) && row[1] > 0 && row[4] >= 30)
      #expect((0...4).contains(row[2]) && row[2] == row[2].rounded())
    }
    #expect(s.records.values.allSatisfy { $0.isFinite })
  }

  /// Calibrated to 10 % in expectation; 2000 Bernoulli draws leave a standard deviation of
  /// 0.67 %.
  @Test func positiveRateIsAboutTenPercent() {
    let s = Self.scenario
    let rate = s.labels.reduce(0, +) / 2000
    #expect((0.08...0.12).contains(rate), "positive rate \(rate)")
    let meanProbability = s.probability.reduce(0, +) / 2000
    #expect(abs(meanProbability - 0.1) < 1e-3)
  }

  /// The phases travel: the first motion above the background noise comes later at far
  /// sites (P at 6 km/s from 15 km depth, 5 s after the record starts), and soft ground
  /// shakes harder than hard rock at the same distance.
  @Test func arrivalsFollowDistanceAndSoftGroundAmplifies() {
    let s = Self.scenario
    let pgv = s.records.peakGroundVelocity()
    var (misfit, soft, hard) = (0.0, [Double](), [Double]())
    for site in 0..<2000 {
      let record = s.records.values[(site * 512 * 3)..<((site + 1) * 512 * 3)].map { $0 }
      let first = (0..<512).first { t in (0..<3).contains { abs(record[3 * t + $0]) > 2e-3 } }!
      let distance = Double(s.distanceKm[site])
      let pArrival = 5 + (distance * distance + 225).squareRoot() / 6
      misfit = max(misfit, abs(Double(first) / 5 - pArrival))
      if (40...60).contains(distance) {
        switch s.staticValues[5 * site + 2] {
        case 4: soft.append(Double(pgv[site]))
        case 0: hard.append(Double(pgv[site]))
        default: break
        }
      }
    }
    #expect(misfit < 5, "first motion up to \(misfit) s from the P arrival")
    let (softMean, hardMean) = (
      soft.reduce(0, +) / Double(soft.count), hard.reduce(0, +) / Double(hard.count)
    )
    #expect(softMean > 1.5 * hardMean, "PGV 40–60 km away: soft \(softMean), hard rock \(hardMean)")
  }

  /// D5–95 of horizontal velocity, computed here on its own.
  static func durations(_ records: GroundMotionRecords) -> [Double] {
    (0..<records.sites).map { site in
      let base = site * records.samples * 3
      let energy = (0..<records.samples).map { t -> Double in
        let (e, n) = (
          Double(records.values[base + 3 * t]), Double(records.values[base + 3 * t + 1])
        )
        return e * e + n * n
      }
      let total = energy.reduce(0, +)
      var cumulative = 0.0
      let sums = energy.map {
        cumulative += $0
        return cumulative
      }
      let start = sums.firstIndex { $0 >= 0.05 * total }!
      let end = sums.firstIndex { $0 >= 0.95 * total }!
      return Double(end - start) / records.sampleRate
    }
  }

  /// Failures among the sites above and below the median of `measure` within each tenth of
  /// the sites ranked by PGV.
  static func failuresAtEqualPGV(_ measure: [Double]) -> (above: [Float], below: [Float]) {
    let s = scenario
    let pgv = s.records.peakGroundVelocity()
    let order = pgv.indices.sorted { pgv[$0] < pgv[$1] }
    var (above, below) = ([Float](), [Float]())
    for decile in 0..<10 {
      let group = order[(decile * 200)..<((decile + 1) * 200)]
      let median = group.map { measure[$0] }.sorted()[100]
      above.append(group.filter { measure[$0] >= median }.map { s.labels[$0] }.reduce(0, +))
      below.append(group.filter { measure[$0] < median }.map { s.labels[$0] }.reduce(0, +))
    }
    return (above, below)
  }

  /// The point of the scenario: among sites shaken to a similar peak, the long shakings
  /// fail more often, so a waveform model has something a PGV model cannot see.
  @Test func durationMattersAtEqualPGV() {
    let (long, short) = Self.failuresAtEqualPGV(Self.durations(Self.scenario.records))
    let (longTotal, shortTotal) = (long.reduce(0, +), short.reduce(0, +))
    #expect(longTotal > 2 * shortTotal, "long \(long), short \(short)")
    #expect(zip(long, short).filter { $0 >= $1 }.count >= 9, "long \(long), short \(short)")
  }

  /// Likewise the share of horizontal energy below 0.5 Hz (the paper's low-pass).
  @Test func lowFrequencyContentMattersAtEqualPGV() {
    let records = Self.scenario.records
    let slow = records.lowPassed(ButterworthLowPass(order: 4, cutoff: 0.5, sampleRate: 5))
    let share = (0..<2000).map { site -> Double in
      var (kept, total) = (0.0, 0.0)
      for i in (site * 512 * 3)..<((site + 1) * 512 * 3) where i % 3 != 2 {
        kept += Double(slow.values[i] * slow.values[i])
        total += Double(records.values[i] * records.values[i])
      }
      return kept / total
    }
    let (slowFailures, fastFailures) = Self.failuresAtEqualPGV(share)
    #expect(
      slowFailures.reduce(0, +) > 2 * fastFailures.reduce(0, +),
      "low-frequency \(slowFailures), high-frequency \(fastFailures)")
  }

  @Test func writesTheThreeArraysAndReadsThemBack() throws {
    let scenario = WaveformScenario(Self.specification(sites: 20))
    let directory = try TestPaths.temporaryDirectory()
    try scenario.write(into: directory.path)
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    #expect(
      try GroundMotionRecords.read(path: path("series.npy"), sampleRate: 5) == scenario.records)
    #expect(try NumPyArray.read(path: path("series.npy")).shape == [20, 512, 3])
    #expect(
      try NumPyArray.read(path: path("static.npy"))
        == NumPyArray(shape: [20, 5], values: scenario.staticValues))
    #expect(
      try NumPyArray.read(path: path("labels.npy"))
        == NumPyArray(shape: [20], values: scenario.labels))
    #expect(
      try NumPyArray.read(path: path("probability.npy"))
        == NumPyArray(shape: [20], values: scenario.probability))
  }

  @Test func recordsTooShortForTheFarthestSiteAreExplained() {
    let spec = WaveformScenario.Specification(samples: 512, sampleRate: 20)
    #expect(
      spec.problem
        == "records of 512 samples at 20 Hz last 25.6 s, but the surface waves of a site 100 km away last until about 55.7 s; use more samples, a lower sample rate or nearer sites"
    )
    #expect(
      WaveformScenario.Specification(samples: 512, sampleRate: 20, distanceKm: 5...30).problem
        == nil)
    #expect(WaveformScenario.Specification().problem == nil)
    #expect(WaveformScenario.Specification(sampleRate: 1).problem != nil)
  }
}
