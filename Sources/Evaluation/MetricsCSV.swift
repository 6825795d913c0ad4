/// The metrics and the ROC curve as CSV, for spreadsheets and pandas. Numbers are written
/// so that they read back exactly; the ROC curve's first threshold is `inf`.
public enum MetricsCSV {
  /// `key,value` rows in the order of `MetricsSummary.CodingKeys`.
  public static func metrics(_ summary: MetricsSummary) -> String {
    (["key,value"] + summary.fields.map { "\($0.key.rawValue),\($0.value)" })
      .joined(separator: "\n") + "\n"
  }

  /// `threshold,fpr,tpr` rows from (0, 0) to (1, 1).
  public static func roc(_ curve: ROCCurve) -> String {
    var text = "threshold,fpr,tpr\n"
    for point in curve.points {
      text += "\(point.threshold),\(point.falsePositiveRate),\(point.truePositiveRate)\n"
    }
    return text
  }
}
