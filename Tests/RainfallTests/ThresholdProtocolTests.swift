import Classical
import Configuration
import Foundation
import TensorEngine
import Testing

@testable import Rainfall

/// SMOTE's points, the protocol's splits, and the statistics of its report, against
/// hand-worked cases and scipy.
@Suite struct ThresholdProtocolTests {
  /// 40 rows of 3 columns, 8 positives; column 2 holds class codes.
  static func table() -> (FeatureMatrix, [Float]) {
    var random = RandomGenerator(seed: 9)
    var values: [Float] = []
    var labels: [Float] = []
    for row in 0..<40 {
      values += [random.nextUniform(), random.nextUniform() * 10, Float(1 + row % 3)]
      labels.append(row % 5 == 0 ? 1 : 0)
    }
    return (FeatureMatrix(rows: 40, columns: 3, values: values), labels)
  }

  /// On a 4 × 4 lattice most distances tie: the nearest are those of a stable sort by
  /// distance, lower positions first, as a full sort of every row would give.
  @Test func smoteNeighboursBreakTiesByPosition() {
    let points = (0..<16).flatMap { [Float($0 % 4), Float($0 / 4)] }
    let x = FeatureMatrix(rows: 16, columns: 2, values: points)
    let rows = Array((0..<16).reversed())
    let nearest = SMOTE.nearest(x, among: rows, k: 5)
    for (i, a) in rows.enumerated() {
      let expected = rows.indices.filter { $0 != i }.sorted { p, q in
        let dp = (0..<2).map { pow(x[a, $0] - x[rows[p], $0], 2) }.reduce(0, +)
        let dq = (0..<2).map { pow(x[a, $0] - x[rows[q], $0], 2) }.reduce(0, +)
        return dp < dq || (dp == dq && p < q)
      }
      #expect(Array(nearest[(i * 5)..<(i * 5 + 5)]) == Array(expected.prefix(5)), "row \(a)")
    }
  }

  @Test func smotePointsLieBetweenAMinorityRowAndOneOfItsNeighbours() throws {
    let (x, y) = Self.table()
    let smote = SMOTE(neighbours: 3, seed: 4)
    let (resampled, labels, synthetic) = try smote.resample(x, y, codeColumns: [2])
    #expect(labels.filter { $0 == 1 }.count == labels.filter { $0 == 0 }.count)
    #expect(resampled.rows == 64 && synthetic.features.rows == 24)
    // The first 40 rows are the table's, untouched.
    #expect(Array(resampled.values.prefix(120)) == x.values)
    let minority = y.indices.filter { y[$0] == 1 }
    let nearest = SMOTE.nearest(x, among: minority, k: 3)
    for row in 0..<synthetic.features.rows {
      let (a, b, gap) = (synthetic.from[row], synthetic.to[row], synthetic.gap[row])
      #expect(y[a] == 1 && y[b] == 1 && a != b)
      // b is one of a's 3 nearest minority rows, by brute force here.
      let position = minority.firstIndex(of: a)!
      let others = minority.filter { $0 != a }.sorted { p, q in
        let dp = (0..<3).map { pow(x[a, $0] - x[p, $0], 2) }.reduce(0, +)
        let dq = (0..<3).map { pow(x[a, $0] - x[q, $0], 2) }.reduce(0, +)
        return dp < dq || (dp == dq && p < q)
      }
      #expect(Array(others.prefix(3)) == (0..<3).map { minority[nearest[position * 3 + $0]] })
      #expect(others.prefix(3).contains(b))
      #expect(gap >= 0 && gap < 1)
      for column in 0..<2 {
        let expected = x[a, column] + gap * (x[b, column] - x[a, column])
        #expect(abs(synthetic.features[row, column] - expected) < 1e-5)
      }
      // A class code is copied from the nearer end, never interpolated.
      #expect(synthetic.features[row, 2] == (gap < 0.5 ? x[a, 2] : x[b, 2]))
    }
    // Balanced tables are left alone; one minority row cannot be interpolated.
    let balanced = try smote.resample(
      FeatureMatrix(rows: 2, columns: 1, values: [0, 1]), [0, 1])
    #expect(balanced.synthetic.features.rows == 0)
    #expect(throws: ClassicalError.self) {
      try smote.resample(FeatureMatrix(rows: 3, columns: 1, values: [0, 1, 2]), [0, 0, 1])
    }
  }

  /// Three regions of 50 events (10, 10 and 0 positives).
  static func events() -> EventSet {
    var values: [Float] = []
    var labels: [Float] = []
    var regions: [Int] = []
    for region in 0..<3 {
      for row in 0..<50 {
        values += [Float(row), Float(24 + row % 5 * 24)]
        labels.append(region < 2 && row % 5 == 0 ? 1 : 0)
        regions.append(region)
      }
    }
    return EventSet(
      table: PixelTable(
        columns: [TableColumn(name: "total_mm"), TableColumn(name: "duration_hours")],
        features: FeatureMatrix(rows: 150, columns: 2, values: values), labels: labels,
        pixels: Array(0..<150)),
      regions: regions, regionNames: ["A", "B", "C"], sites: Array(0..<150),
      siteLocations: (0..<150).map { SiteLocation(x: Double($0 % 10), y: Double($0 / 10)) },
      crsWKT: "")
  }

  @Test func splitsAreStratifiedByRegionAndFoldsNeverShareOne() {
    let events = Self.events()
    let (repetition, skipped) = ThresholdTraining.repetition(events, testShare: 0.2, seed: 3)
    #expect(Set(repetition.train).isDisjoint(with: repetition.test))
    #expect(repetition.train.count + repetition.test.count == 150)
    for region in 0..<3 {
      for label: Float in [0, 1] {
        let all = (0..<150).filter {
          events.regions[$0] == region && events.table.labels[$0] == label
        }
        let held = repetition.test.filter { all.contains($0) }
        #expect(held.count == Int((Double(all.count) * 0.2).rounded()))
      }
    }
    // Region C has no positives: no fold, and it is named.
    #expect(skipped == ["C: 0 positives among its 40 rows"])
    #expect(repetition.folds.map(\.region) == [0, 1])
    for fold in repetition.folds {
      #expect(Set(fold.held.map { events.regions[$0] }) == [fold.region])
      #expect(!fold.inside.contains { events.regions[$0] == fold.region })
      #expect(Set(fold.inside + fold.held) == Set(repetition.train))
    }
    let again = ThresholdTraining.repetition(events, testShare: 0.2, seed: 3).0
    #expect(again.test == repetition.test)
  }

  @Test func mcNemarAndIntervalsAreScipys() {
    // b = 10, c = 3: χ² = (7 − 1)² / 13; scipy.stats.chi2.sf(36 / 13, 1) = 0.0960923294556734.
    let test = McNemarTest(onlyFirstRight: 10, onlySecondRight: 3)
    #expect(abs(test.chiSquared - 36.0 / 13) < 1e-12)
    #expect(abs(test.p - 0.0960923294556734) < 1e-12)
    #expect(McNemarTest(onlyFirstRight: 0, onlySecondRight: 0).p == 1)
    let labels: [Float] = [1, 1, 0, 0, 1]
    let counted = McNemarTest(
      labels: labels, first: [true, true, false, true, false],
      second: [true, false, true, false, true])
    // Rows 1 and 2: only the first right; rows 3 and 4: only the second.
    #expect(counted.onlyFirstRight == 2 && counted.onlySecondRight == 2)
    // [1, 2, 3, 4]: mean 2.5, scipy.stats.t.ppf(0.975, 3) · s / √4 = 2.0542602567605206.
    let interval = MeanInterval([1, 2, 3, 4])
    #expect(interval.mean == 2.5 && abs(interval.halfWidth - 2.0542602567605206) < 1e-8)
    // Past the table: scipy.stats.t.ppf(0.975, [31, 60]) = 2.039513446, 2.000297822.
    #expect(abs(MeanInterval.t975(degrees: 31) - 2.039513446) < 1e-4)
    #expect(abs(MeanInterval.t975(degrees: 60) - 2.000297822) < 1e-4)
    #expect(MeanInterval([0.7]).halfWidth == 0)
  }

  @Test func scoresAtTheThreshold() throws {
    let scores = try ClassificationScores(
      labels: [1, 1, 1, 0, 0, 0, 0], scores: [0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4], threshold: 0.5)
    // TP 2, FN 1, FP 1, TN 3.
    #expect(abs(scores.sensitivity - 2.0 / 3) < 1e-12)
    #expect(abs(scores.specificity - 0.75) < 1e-12)
    #expect(abs(scores.precision - 2.0 / 3) < 1e-12)
    #expect(abs(scores.f1 - 2.0 / 3) < 1e-12)
    // 12 positive–negative pairs ranked right: (0.9: 4) + (0.6: 3) + (0.2: 1) = 8 of 12.
    #expect(abs(scores.auc - 8.0 / 12) < 1e-12)
  }

  @Test func gridsAreReadWithTheirKeysChecked() throws {
    let config = try RainfallConfig.parse(
      """
      training:
        repetitions: 3
        models:
          xgboost: {n_estimators: [50, 100], max_depth: 4}
          logistic_regression: {C: [0.1, 1, 10], penalty: [l1, l2]}
      """, file: "test.yaml")
    #expect(config.training.repetitions == 3)
    #expect(config.training.models.map(\.model) == ["xgboost", "logistic_regression"])
    #expect(config.training.models[0].points.count == 2)
    let points = config.training.models[1].points
    #expect(points.count == 6)
    #expect(points[1].map { "\($0.key)=\($0.value.yaml)" } == ["C=0.1", "penalty=l2"])
    #expect(RainfallTrainingConfig().models.map { $0.points.count } == [576, 576, 432, 15])
    #expect(throws: ConfigError.self) {
      try RainfallConfig.parse("training: {models: {xgboost: {depth: [1]}}}", file: "t.yaml")
    }
    #expect(throws: ConfigError.self) {
      try RainfallConfig.parse("training: {models: {catboost: {}}}", file: "t.yaml")
    }
  }
}
