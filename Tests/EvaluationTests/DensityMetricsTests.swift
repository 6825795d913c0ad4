import Evaluation
import Testing

@Suite struct DensityMetricsTests {
  /// x = 1, 2, 3, 4 and y = 2, 1, 4, 3 have means 2.5; deviations (−1.5, −0.5, 0.5, 1.5)
  /// and (−0.5, −1.5, 1.5, 0.5); Σ dx·dy = 4 × 0.75 = 3, Σ dx² = Σ dy² = 5; R = 3/5.
  @Test func pearsonHandWorked() throws {
    let r = try DensityMetrics.pearsonR(
      observed: [1, 2, 3, 4], predicted: [2, 1, 4, 3], over: "all cells")
    #expect(abs(r - 0.6) < 1e-15)
    let inverse = try DensityMetrics.pearsonR(
      observed: [1, 2, 3], predicted: [6, 4, 2], over: "all cells")
    #expect(abs(inverse + 1) < 1e-15)
  }

  /// Observed (0, 0, 2, 4, 1), predicted (0.5, 0, 3, 1, 1). All cells: MAE (0.5 + 0 + 1 +
  /// 3 + 0) / 5 = 0.9; means 1.4 and 1.1, Σ dx·dy = 3.3, Σ dx² = 11.2, Σ dy² = 5.2.
  /// Positive cells (observed 2, 4, 1): MAE (1 + 3 + 0) / 3 = 4/3; means 7/3 and 5/3,
  /// Σ dx·dy = −2/3, Σ dx² = 42/9, Σ dy² = 24/9, R = −6/√1008 = −1/(2√7).
  @Test func positiveCellsOnly() throws {
    let metrics = try DensityMetrics(observed: [0, 0, 2, 4, 1], predicted: [0.5, 0, 3, 1, 1])
    #expect(metrics.cells == 5 && metrics.positiveCells == 3)
    #expect(abs(metrics.meanAbsoluteError - 0.9) < 1e-15)
    #expect(abs(metrics.meanAbsoluteErrorPositive - 4.0 / 3) < 1e-15)
    #expect(abs(metrics.pearsonR - 3.3 / (11.2 * 5.2).squareRoot()) < 1e-15)
    #expect(abs(metrics.pearsonRPositive + 1 / (2 * 7.0.squareRoot())) < 1e-15)
  }

  @Test func undefinedCorrelationsAreErrors() {
    #expect(
      throws: EvaluationError(
        .predictedDensity, "constant (0.0) over all cells (3); Pearson R is undefined")
    ) {
      try DensityMetrics(observed: [0, 1, 2], predicted: [0, 0, 0])
    }
    #expect(
      throws: EvaluationError(
        .observedDensity, "constant (2.0) over the positive cells (2); Pearson R is undefined")
    ) {
      try DensityMetrics(observed: [0, 2, 2], predicted: [0, 1, 3])
    }
    #expect(
      throws: EvaluationError(
        .observedDensity,
        "no cell of 2 has density > 0; the positive-cell metrics are undefined")
    ) {
      try DensityMetrics(observed: [0, 0], predicted: [0, 1])
    }
    #expect(
      throws: EvaluationError(.predictedDensity, "value inf at index 2; expected a finite number")
    ) {
      try DensityMetrics(observed: [0, 1, 2], predicted: [0, 1, .infinity])
    }
  }
}
