/// The receiver operating characteristic of scores against 0/1 labels, with one point per
/// distinct score so that tied scores move the curve diagonally, as they must: a tie
/// ranks neither cell above the other.
public struct ROCCurve: Equatable, Sendable {
  public struct Point: Equatable, Sendable {
    /// Cells scoring at least this are called positive; +∞ for the first point, (0, 0).
    public var threshold: Float
    public var falsePositiveRate: Double
    public var truePositiveRate: Double

    public init(threshold: Float, falsePositiveRate: Double, truePositiveRate: Double) {
      self.threshold = threshold
      self.falsePositiveRate = falsePositiveRate
      self.truePositiveRate = truePositiveRate
    }
  }

  /// From (0, 0) to (1, 1), thresholds descending.
  public let points: [Point]
  /// The area under the curve by the trapezoid rule. With a point per distinct score this
  /// is exactly the Mann–Whitney probability that a random positive outscores a random
  /// negative, ties counted 1/2.
  public let auc: Double
  public let positives: Int
  public let negatives: Int

  /// Throws when the lengths differ, there are no cells, a label is not 0 or 1, a score
  /// is not finite, or the labels hold only one class (the curve needs both).
  public init(labels: [Float], scores: [Float]) throws(EvaluationError) {
    try InputChecks.sameCount([(.labels, labels), (.scores, scores)])
    try InputChecks.binary(labels)
    try InputChecks.finite(scores, .scores)
    let positives = labels.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
    let negatives = labels.count - positives
    guard positives > 0, negatives > 0 else {
      throw EvaluationError(
        .labels,
        "all \(labels.count) cells are \(positives == 0 ? "absences (0)" : "presences (1)"); "
          + "ROC and AUC need both classes")
    }
    let order = labels.indices.sorted { scores[$0] > scores[$1] }
    var points = [Point(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0)]
    // Twice the area in units of one positive × one negative: an integer, so exact.
    var twiceArea = 0
    var truePositives = 0
    var falsePositives = 0
    var next = 0
    while next < order.count {
      let score = scores[order[next]]
      let (previousTrue, previousFalse) = (truePositives, falsePositives)
      while next < order.count, scores[order[next]] == score {
        if labels[order[next]] == 1 { truePositives += 1 } else { falsePositives += 1 }
        next += 1
      }
      twiceArea += (falsePositives - previousFalse) * (truePositives + previousTrue)
      points.append(
        Point(
          threshold: score, falsePositiveRate: Double(falsePositives) / Double(negatives),
          truePositiveRate: Double(truePositives) / Double(positives)))
    }
    self.points = points
    self.auc = Double(twiceArea) / (2 * Double(positives) * Double(negatives))
    self.positives = positives
    self.negatives = negatives
  }
}
