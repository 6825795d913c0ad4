import Evaluation
import Testing

@Suite struct ConfusionCountsTests {
  static let labels = ROCCurveTests.labels
  static let scores = ROCCurveTests.scores

  /// At 0.5 the cells scoring 0.8, 0.7, 0.7 are called positive: TP 2 (0.8, 0.7), FP 1
  /// (the negative 0.7), FN 1 (the positive 0.4), TN 3. Precision = recall = 2/3,
  /// F1 = 2·2 / (2·2 + 1 + 1) = 2/3, IoU = 2 / (2 + 1 + 1) = 1/2.
  @Test func handWorkedAtOneHalf() throws {
    let counts = try ConfusionCounts(labels: Self.labels, scores: Self.scores, threshold: 0.5)
    #expect(
      counts
        == ConfusionCounts(truePositives: 2, falsePositives: 1, falseNegatives: 1, trueNegatives: 3)
    )
    #expect(counts.precision == 2.0 / 3)
    #expect(counts.recall == 2.0 / 3)
    #expect(counts.f1 == 4.0 / 6)
    #expect(counts.intersectionOverUnion == 0.5)
  }

  /// A score equal to the threshold is called positive: at 0.4 all three 0.4 cells are.
  @Test func thresholdIsInclusive() throws {
    let counts = try ConfusionCounts(labels: Self.labels, scores: Self.scores, threshold: 0.4)
    #expect(
      counts
        == ConfusionCounts(truePositives: 3, falsePositives: 3, falseNegatives: 0, trueNegatives: 1)
    )
    #expect(counts.precision == 0.5 && counts.recall == 1)
    #expect(counts.f1 == 6.0 / 9)
    #expect(counts.intersectionOverUnion == 0.5)
  }

  /// Nothing called positive: precision's denominator is zero and it is 0, as are F1 and IoU.
  @Test func zeroDenominatorsGiveZero() throws {
    let counts = try ConfusionCounts(labels: Self.labels, scores: Self.scores, threshold: 0.9)
    #expect(
      counts
        == ConfusionCounts(truePositives: 0, falsePositives: 0, falseNegatives: 3, trueNegatives: 4)
    )
    #expect(counts.precision == 0 && counts.recall == 0)
    #expect(counts.f1 == 0 && counts.intersectionOverUnion == 0)
    let empty = ConfusionCounts(
      truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 5)
    #expect(empty.precision == 0 && empty.recall == 0 && empty.f1 == 0)
    #expect(empty.intersectionOverUnion == 0)
  }

  @Test func nonFiniteThresholdIsAnError() {
    #expect(throws: EvaluationError(nil, "threshold nan; expected a finite number")) {
      try ConfusionCounts(labels: [0, 1], scores: [0.2, 0.8], threshold: .nan)
    }
  }
}
