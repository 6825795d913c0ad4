import Evaluation
import Foundation
import Testing

@Suite struct EnsembleMetricsTests {
  /// The cells of tools/fixtures/evaluation.py, built from the same integer formulas.
  static func fixtureCells() -> (
    labels: [Float], probabilities: [Float], observed: [Float], predicted: [Float]
  ) {
    var cells: (labels: [Float], probabilities: [Float], observed: [Float], predicted: [Float]) = (
      [], [], [], []
    )
    for i in 0..<240 {
      let a = (37 * i + 11) % 101
      let b = (53 * i + 7) % 61
      let d = (29 * i + 3) % 97
      let label = a + 2 * b > 130
      cells.labels.append(label ? 1 : 0)
      cells.probabilities.append(Float(Double(a) / 100))
      cells.observed.append(label ? Float(Double(d) / 10) : 0)
      cells.predicted.append(Float(Double(d * a + 100 * ((17 * i) % 13)) / 1000))
    }
    return cells
  }

  /// Expected values printed by `python3 tools/fixtures/evaluation.py` (numpy 2.4.6): AUC
  /// there comes from Mann–Whitney midranks rather than a curve, R from np.corrcoef.
  @Test func matchesTheNumpyFixture() throws {
    let cells = Self.fixtureCells()
    let evaluation = try EnsembleMetrics.evaluate(
      labels: cells.labels, probabilities: cells.probabilities, observedDensity: cells.observed,
      predictedDensity: cells.predicted, threshold: 0.5)
    let metrics = evaluation.metrics
    let expected: [(Double, Double)] = [
      (metrics.auc, 0.8057324840764332),
      (metrics.f1, 0.6372549019607843),
      (metrics.iou, 0.4676258992805755),
      (metrics.precision, 0.5371900826446281),
      (metrics.recall, 0.7831325301204819),
      (metrics.mae, 2.0053666855519015),
      (metrics.pearsonR, 0.5816968111778151),
      (metrics.maePositive, 1.1269036479384067),
      (metrics.pearsonRPositive, 0.864306649710073),
    ]
    for (actual, numpy) in expected {
      #expect(abs(actual - numpy) < 1e-12, "\(actual) vs numpy's \(numpy)")
    }
    #expect(metrics.truePositives == 65 && metrics.falsePositives == 56)
    #expect(metrics.falseNegatives == 18 && metrics.trueNegatives == 101)
    #expect(metrics.cells == 240 && metrics.positiveCells == 83)
    #expect(metrics.threshold == 0.5)
    #expect(evaluation.roc.points.count == 102, "101 distinct scores and the origin")
  }

  @Test func jsonHasExactlyTheDocumentedKeys() throws {
    let cells = Self.fixtureCells()
    let metrics = try EnsembleMetrics.evaluate(
      labels: cells.labels, probabilities: cells.probabilities, observedDensity: cells.observed,
      predictedDensity: cells.predicted
    ).metrics
    let json = try metrics.json()
    #expect(!json.contains("\n"))
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    #expect(
      Set(object?.keys.map { $0 } ?? [])
        == [
          "auc", "f1", "iou", "precision", "recall", "threshold", "true_positives",
          "false_positives", "false_negatives", "true_negatives", "mae", "pearson_r",
          "mae_positive", "pearson_r_positive", "cells", "positive_cells",
        ])
    #expect(object?["true_positives"] as? Int == 65)
    #expect(try JSONDecoder().decode(MetricsSummary.self, from: Data(json.utf8)) == metrics)
  }

  @Test func lengthsMustAgree() {
    #expect(
      throws: EvaluationError(
        nil,
        "the inputs differ in length (labels 2, scores 2, observed density 3, predicted density 2); expected one value per cell in each"
      )
    ) {
      try EnsembleMetrics.evaluate(
        labels: [0, 1], probabilities: [0.2, 0.7], observedDensity: [0, 1, 2],
        predictedDensity: [0, 1])
    }
  }
}
