import Classical
import Foundation
import TestSupport
import Testing

@testable import Rainfall

/// The seed's probability maps as partial-dependence surfaces, with predictors whose
/// averages are worked by hand.
@Suite struct ProbabilitySurfaceTests {
  /// Three events with the rain columns out of their usual order and a static between.
  let rows = PixelTable(
    columns: ["slope", "duration_hours", "total_mm", "intensity_mm_per_day"].map {
      TableColumn(name: $0)
    },
    features: FeatureMatrix(
      rows: 3, columns: 4, values: [0.1, 24, 10, 10, 0.2, 48, 30, 15, 0.6, 240, 90, 9]),
    labels: [0, 1, 0], pixels: [0, 1, 2])

  /// P = total / 1000 + slope + hours / 10000, whose mean over the rows at (D, E) is
  /// E / 1000 + 0.3 + 24 D / 10000.
  static func linear(_ x: FeatureMatrix) -> [Float] {
    (0..<x.rows).map { x[$0, 2] / 1000 + x[$0, 0] + x[$0, 1] / 10000 }
  }

  @Test func totalSurfaceAveragesTheModelOverTheRows() throws {
    var batches: [FeatureMatrix] = []
    let surface = try ProbabilitySurface(
      amount: .total, durations: [1, 2], amounts: [0, 50, 100], over: rows, source: "test rows"
    ) { (x: FeatureMatrix) throws(RainfallError) -> [Float] in
      batches.append(x)
      return Self.linear(x)
    }
    #expect(surface.rowCount == 3)
    for (d, days) in [Float(1), 2].enumerated() {
      for (a, total) in [Float(0), 50, 100].enumerated() {
        let expected = total / 1000 + 0.3 + 24 * days / 10000
        #expect(abs(surface[duration: d, amount: a] - expected) < 1e-6, "D \(days), E \(total)")
        #expect(surface.probabilities[a * 2 + d] == surface[duration: d, amount: a])
      }
    }
    // One batch per amount, each holding every row at every duration: hours 24 D, the total
    // and intensity E / D exactly, the static as it was.
    #expect(batches.count == 3)
    for (a, batch) in batches.enumerated() {
      let total = Float(50 * a)
      #expect(batch.rows == 6)
      for (d, days) in [Float(1), 2].enumerated() {
        for row in 0..<3 {
          let r = d * 3 + row
          #expect(batch[r, 0] == rows.features[row, 0])
          #expect(batch[r, 1] == 24 * days)
          #expect(batch[r, 2] == total)
          #expect(batch[r, 3] == total / days)
        }
      }
    }
  }

  @Test func intensitySurfaceSetsTotalToIntensityTimesDuration() throws {
    var batches: [FeatureMatrix] = []
    // P = intensity / 100: flat along the durations.
    let surface = try ProbabilitySurface(
      amount: .intensity, durations: [1, 3, 7], amounts: [0, 20, 40], over: rows,
      source: "test rows"
    ) { (x: FeatureMatrix) throws(RainfallError) -> [Float] in
      batches.append(x)
      return (0..<x.rows).map { x[$0, 3] / 100 }
    }
    for d in 0..<3 {
      #expect(surface[duration: d, amount: 0] == 0)
      #expect(abs(surface[duration: d, amount: 1] - 0.2) < 1e-6)
      #expect(abs(surface[duration: d, amount: 2] - 0.4) < 1e-6)
    }
    for (a, batch) in batches.enumerated() {
      let intensity = Float(20 * a)
      for (d, days) in [Float(1), 3, 7].enumerated() {
        for row in 0..<3 {
          #expect(batch[d * 3 + row, 3] == intensity)
          #expect(batch[d * 3 + row, 2] == intensity * days)
          #expect(batch[d * 3 + row, 1] == 24 * days)
        }
      }
    }
  }

  @Test func gridSpansTheTestEvents() throws {
    // Durations 1, 2, 10 days; totals 10, 30, 90: the 99th percentile is 30 + 0.98 × 60.
    let grid = try ProbabilitySurface.grid(for: rows, source: "test rows")
    #expect(grid.durations == (1...10).map(Float.init))
    #expect(grid.totals.count == 51)
    #expect(grid.totals.first == 0)
    #expect(abs(grid.totals.last! - 88.8) < 1e-4)
    #expect(abs(grid.totals[25] - 44.4) < 1e-4)
    // Intensities 9, 10, 15: 10 + 0.98 × 5.
    #expect(abs(grid.intensities.last! - 14.9) < 1e-4)

    var long = rows
    long.features[2, 1] = 24 * 45
    #expect(try ProbabilitySurface.grid(for: long, source: "test rows").durations.count == 30)
  }

  @Test func largeTestSetsAreSubsampledTheSameWayEachTime() {
    let many = PixelTable(
      columns: [TableColumn(name: "total_mm")],
      features: FeatureMatrix(rows: 2500, columns: 1, values: (0..<2500).map(Float.init)),
      labels: [Float](repeating: 0, count: 2500), pixels: Array(0..<2500))
    let chosen = ProbabilitySurface.averagedRows(of: many).features.values
    #expect(chosen.count == 2000)
    #expect(Set(chosen).count == 2000)
    #expect(chosen == chosen.sorted())
    #expect(chosen != (0..<2000).map(Float.init))
    #expect(ProbabilitySurface.averagedRows(of: many).features.values == chosen)
    #expect(ProbabilitySurface.averagedRows(of: rows).features == rows.features)
  }

  @Test func writesThePlotAndTheGrid() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let surface = try ProbabilitySurface(
      amount: .total, durations: [1, 2], amounts: [0, 50], over: rows, source: "test rows"
    ) { (x: FeatureMatrix) throws(RainfallError) -> [Float] in Self.linear(x) }
    try surface.write(in: directory.path, title: "Probability")
    let csv = try String(
      contentsOf: directory.appendingPathComponent("probability_duration_total.csv"),
      encoding: .utf8)
    #expect(
      csv == "duration_days,total_mm,probability\n1,0,0.3024\n1,50,0.3524\n2,0,0.3048\n"
        + "2,50,0.3548\n")
    let png = try Data(
      contentsOf: directory.appendingPathComponent("probability_duration_total.png"))
    #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
  }

  @Test func badInputNamesItsSource() {
    func failure(
      durations: [Float] = [1, 2], amounts: [Float] = [0, 10], over table: PixelTable? = nil,
      predict: @escaping (FeatureMatrix) -> [Float] = Self.linear
    ) -> RainfallError? {
      do {
        _ = try ProbabilitySurface(
          amount: .total, durations: durations, amounts: amounts, over: table ?? rows,
          source: "test rows"
        ) { (x: FeatureMatrix) throws(RainfallError) -> [Float] in predict(x) }
        return nil
      } catch { return error }
    }
    var noIntensity = rows
    noIntensity.columns[3].name = "rain"
    let cases: [(RainfallError?, String)] = [
      (failure(durations: []), "no points"),
      (failure(amounts: []), "no points"),
      (failure(durations: [0, 1]), "positive"),
      (failure(amounts: [.nan]), "finite"),
      (failure(over: rows.selecting(rows: [])), "no rows"),
      (failure(over: noIntensity), "no intensity_mm_per_day column"),
      (failure(predict: { _ in [0.5] }), "1 probabilities for a batch of 6 rows"),
    ]
    for (error, message) in cases {
      guard let error else {
        Issue.record("no error for \(message)")
        continue
      }
      #expect(error.subject == "test rows")
      #expect(error.message.contains(message), "\(error.message)")
    }
  }
}
