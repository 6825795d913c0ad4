import Foundation

/// The figures the paper reports for the ensemble, as written to metrics.json (one flat
/// object, snake_case keys) and metrics.csv. Every value is a finite number.
public struct MetricsSummary: Codable, Equatable, Sendable {
  public var auc: Double
  public var f1: Double
  public var iou: Double
  public var precision: Double
  public var recall: Double
  public var threshold: Float
  public var truePositives: Int
  public var falsePositives: Int
  public var falseNegatives: Int
  public var trueNegatives: Int
  public var mae: Double
  public var pearsonR: Double
  public var maePositive: Double
  public var pearsonRPositive: Double
  public var cells: Int
  /// Cells with observed density > 0, over which `maePositive` and `pearsonRPositive` run.
  public var positiveCells: Int

  /// The keys, in the order the CSV and the text report list them.
  public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
    case auc, f1, iou, precision, recall, threshold
    case truePositives = "true_positives"
    case falsePositives = "false_positives"
    case falseNegatives = "false_negatives"
    case trueNegatives = "true_negatives"
    case mae
    case pearsonR = "pearson_r"
    case maePositive = "mae_positive"
    case pearsonRPositive = "pearson_r_positive"
    case cells
    case positiveCells = "positive_cells"
  }

  public init(
    roc: ROCCurve, confusion: ConfusionCounts, density: DensityMetrics, threshold: Float
  ) {
    auc = roc.auc
    f1 = confusion.f1
    iou = confusion.intersectionOverUnion
    precision = confusion.precision
    recall = confusion.recall
    self.threshold = threshold
    truePositives = confusion.truePositives
    falsePositives = confusion.falsePositives
    falseNegatives = confusion.falseNegatives
    trueNegatives = confusion.trueNegatives
    mae = density.meanAbsoluteError
    pearsonR = density.pearsonR
    maePositive = density.meanAbsoluteErrorPositive
    pearsonRPositive = density.pearsonRPositive
    cells = density.cells
    positiveCells = density.positiveCells
  }

  /// Each key with its value written so that it reads back exactly (shortest round-trip
  /// decimal).
  public var fields: [(key: CodingKeys, value: String)] {
    CodingKeys.allCases.map { key in
      let value: String =
        switch key {
        case .auc: "\(auc)"
        case .f1: "\(f1)"
        case .iou: "\(iou)"
        case .precision: "\(precision)"
        case .recall: "\(recall)"
        case .threshold: "\(threshold)"
        case .truePositives: "\(truePositives)"
        case .falsePositives: "\(falsePositives)"
        case .falseNegatives: "\(falseNegatives)"
        case .trueNegatives: "\(trueNegatives)"
        case .mae: "\(mae)"
        case .pearsonR: "\(pearsonR)"
        case .maePositive: "\(maePositive)"
        case .pearsonRPositive: "\(pearsonRPositive)"
        case .cells: "\(cells)"
        case .positiveCells: "\(positiveCells)"
        }
      return (key, value)
    }
  }

  /// One JSON object on one line, keys sorted.
  public func json() throws(EvaluationError) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      return String(decoding: try encoder.encode(self), as: UTF8.self)
    } catch {
      throw EvaluationError(nil, "cannot encode the metrics as JSON: \(error)")
    }
  }
}
