import Evaluation
import Testing

@Suite struct ROCCurveTests {
  /// Worked by hand. Positives score 0.8, 0.7, 0.4; negatives 0.7, 0.4, 0.4, 0.1: 3 × 4 = 12
  /// pairs. Mann–Whitney, ties counting 1/2: the 0.8 positive beats all 4 negatives (4);
  /// the 0.7 positive ties one and beats three (3.5); the 0.4 positive loses to 0.7, ties
  /// two and beats 0.1 (2). AUC = 9.5 / 12 = 19/24. The curve has one point per distinct
  /// score: (0, 0), 0.8 → (0, 1/3), 0.7 → (1/4, 2/3), 0.4 → (3/4, 1), 0.1 → (1, 1); its
  /// trapezoids 0 + 1/4·(1/3 + 2/3)/2 + 1/2·(2/3 + 1)/2 + 1/4·1 = 19/24 as well.
  static let labels: [Float] = [1, 1, 0, 1, 0, 0, 0]
  static let scores: [Float] = [0.8, 0.7, 0.7, 0.4, 0.4, 0.4, 0.1]

  @Test func tiedScoresCountHalf() throws {
    let curve = try ROCCurve(labels: Self.labels, scores: Self.scores)
    #expect(curve.auc == 19.0 / 24.0)
    #expect(curve.positives == 3 && curve.negatives == 4)
    #expect(curve.points.map(\.threshold) == [.infinity, 0.8, 0.7, 0.4, 0.1])
    #expect(curve.points.map(\.falsePositiveRate) == [0, 0, 0.25, 0.75, 1])
    #expect(curve.points.map(\.truePositiveRate) == [0, 1.0 / 3, 2.0 / 3, 1, 1])
  }

  /// The order of the cells does not matter, only scores and labels.
  @Test func orderOfCellsIsIrrelevant() throws {
    let order = [4, 0, 6, 2, 5, 1, 3]
    let curve = try ROCCurve(
      labels: order.map { Self.labels[$0] }, scores: order.map { Self.scores[$0] })
    #expect(curve.auc == 19.0 / 24.0)
  }

  @Test func perfectAndInvertedRankings() throws {
    let labels: [Float] = [0, 1, 0, 1, 1, 0]
    let perfect: [Float] = [0.1, 0.9, 0.2, 0.8, 0.7, 0.3]
    #expect(try ROCCurve(labels: labels, scores: perfect).auc == 1)
    #expect(try ROCCurve(labels: labels, scores: perfect.map { 1 - $0 }).auc == 0)
    #expect(try ROCCurve(labels: labels, scores: [Float](repeating: 0.5, count: 6)).auc == 0.5)
  }

  @Test func undefinedCurvesAreErrorsNotNaN() {
    #expect(
      throws: EvaluationError(
        .labels, "all 3 cells are absences (0); ROC and AUC need both classes")
    ) {
      try ROCCurve(labels: [0, 0, 0], scores: [0.1, 0.5, 0.9])
    }
    #expect(
      throws: EvaluationError(
        .labels, "all 2 cells are presences (1); ROC and AUC need both classes")
    ) {
      try ROCCurve(labels: [1, 1], scores: [0.1, 0.5])
    }
    #expect(throws: EvaluationError(nil, "no cells to evaluate")) {
      try ROCCurve(labels: [], scores: [])
    }
    #expect(
      throws: EvaluationError(
        nil, "the inputs differ in length (labels 2, scores 3); expected one value per cell in each"
      )
    ) {
      try ROCCurve(labels: [0, 1], scores: [0.1, 0.5, 0.9])
    }
    #expect(throws: EvaluationError(.scores, "value nan at index 1; expected a finite number")) {
      try ROCCurve(labels: [0, 1], scores: [0.1, .nan])
    }
    #expect(throws: EvaluationError(.labels, "value 0.5 at index 0; expected 0 or 1")) {
      try ROCCurve(labels: [0.5, 1], scores: [0.1, 0.2])
    }
  }

  @Test func messagesNameTheInput() {
    #expect(
      EvaluationError(.scores, "value nan at index 1; expected a finite number").description
        == "scores: value nan at index 1; expected a finite number")
  }
}
