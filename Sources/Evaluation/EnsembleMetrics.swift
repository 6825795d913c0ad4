/// Susceptibility and density metrics of the space-time hazard ensemble, from one value
/// per 1 km cell.
public enum EnsembleMetrics {
  /// Evaluates presence `labels` (0/1) against `probabilities` (cells at or above
  /// `threshold` are called positive) and `observedDensity` against `predictedDensity`.
  /// The four arrays hold the same cells in the same order. Throws when any metric would
  /// be undefined (see `ROCCurve`, `DensityMetrics`) rather than report NaN.
  public static func evaluate(
    labels: [Float], probabilities: [Float], observedDensity: [Float], predictedDensity: [Float],
    threshold: Float = 0.5
  ) throws(EvaluationError) -> EnsembleEvaluation {
    try InputChecks.sameCount([
      (.labels, labels), (.scores, probabilities), (.observedDensity, observedDensity),
      (.predictedDensity, predictedDensity),
    ])
    let roc = try ROCCurve(labels: labels, scores: probabilities)
    let confusion = try ConfusionCounts(
      labels: labels, scores: probabilities, threshold: threshold)
    let density = try DensityMetrics(observed: observedDensity, predicted: predictedDensity)
    return EnsembleEvaluation(
      metrics: MetricsSummary(
        roc: roc, confusion: confusion, density: density, threshold: threshold),
      roc: roc)
  }
}

/// What `EnsembleMetrics.evaluate` returns: the summary and the curve behind its AUC.
public struct EnsembleEvaluation: Equatable, Sendable {
  public let metrics: MetricsSummary
  public let roc: ROCCurve

  public init(metrics: MetricsSummary, roc: ROCCurve) {
    self.metrics = metrics
    self.roc = roc
  }
}
