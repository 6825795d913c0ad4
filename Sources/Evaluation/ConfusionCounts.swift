/// The confusion matrix of scores against 0/1 labels at one threshold, and the scores
/// made from it.
///
/// A ratio whose denominator is zero is 0, not NaN (scikit-learn's `zero_division=0`):
/// a model that calls nothing positive has no precision to credit, and a metrics file
/// must hold numbers. F1 is computed as 2TP / (2TP + FP + FN), which equals the harmonic
/// mean of precision and recall wherever that is defined and is 0 when TP is.
public struct ConfusionCounts: Equatable, Sendable {
  public var truePositives: Int
  public var falsePositives: Int
  public var falseNegatives: Int
  public var trueNegatives: Int

  public init(truePositives: Int, falsePositives: Int, falseNegatives: Int, trueNegatives: Int) {
    self.truePositives = truePositives
    self.falsePositives = falsePositives
    self.falseNegatives = falseNegatives
    self.trueNegatives = trueNegatives
  }

  /// A cell is called positive when its score is at least `threshold`.
  public init(labels: [Float], scores: [Float], threshold: Float) throws(EvaluationError) {
    try InputChecks.sameCount([(.labels, labels), (.scores, scores)])
    try InputChecks.binary(labels)
    try InputChecks.finite(scores, .scores)
    guard threshold.isFinite else {
      throw EvaluationError(nil, "threshold \(threshold); expected a finite number")
    }
    self.init(truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0)
    for (label, score) in zip(labels, scores) {
      switch (label == 1, score >= threshold) {
      case (true, true): truePositives += 1
      case (false, true): falsePositives += 1
      case (true, false): falseNegatives += 1
      case (false, false): trueNegatives += 1
      }
    }
  }

  /// TP / (TP + FP); 0 when nothing is called positive.
  public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
  /// TP / (TP + FN); 0 when there are no positives.
  public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
  /// 2TP / (2TP + FP + FN); 0 when TP = FP = FN = 0.
  public var f1: Double {
    ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives)
  }
  /// TP / (TP + FP + FN), the intersection over union of called and true positives; 0
  /// when both are empty.
  public var intersectionOverUnion: Double {
    ratio(truePositives, truePositives + falsePositives + falseNegatives)
  }

  private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
    denominator == 0 ? 0 : Double(numerator) / Double(denominator)
  }
}
