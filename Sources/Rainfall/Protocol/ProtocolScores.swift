import Evaluation
import Foundation

/// The seed's figures of one prediction: AUC, and at the threshold sensitivity,
/// specificity, precision and F1.
public struct ClassificationScores: Codable, Equatable, Sendable {
  public var auc: Double
  public var sensitivity: Double
  public var specificity: Double
  public var precision: Double
  public var f1: Double

  public init(labels: [Float], scores: [Float], threshold: Float) throws(RainfallError) {
    do {
      auc = try ROCCurve(labels: labels, scores: scores).auc
      let c = try ConfusionCounts(labels: labels, scores: scores, threshold: threshold)
      sensitivity = c.recall
      let negatives = c.trueNegatives + c.falsePositives
      specificity = negatives == 0 ? 0 : Double(c.trueNegatives) / Double(negatives)
      precision = c.precision
      f1 = c.f1
    } catch { throw RainfallError("scores", "\(error)") }
  }

  init(auc: Double, sensitivity: Double, specificity: Double, precision: Double, f1: Double) {
    (self.auc, self.sensitivity, self.specificity, self.precision, self.f1) = (
      auc, sensitivity, specificity, precision, f1
    )
  }

  /// The mean of each figure.
  static func mean(_ scores: [ClassificationScores]) -> ClassificationScores {
    let n = Double(scores.count)
    return ClassificationScores(
      auc: scores.map(\.auc).reduce(0, +) / n,
      sensitivity: scores.map(\.sensitivity).reduce(0, +) / n,
      specificity: scores.map(\.specificity).reduce(0, +) / n,
      precision: scores.map(\.precision).reduce(0, +) / n, f1: scores.map(\.f1).reduce(0, +) / n)
  }
}

/// A mean with its 95 % confidence half-width, Student's t with n − 1 degrees of freedom
/// (0 for a single value).
public struct MeanInterval: Codable, Equatable, Sendable {
  public var mean: Double
  public var halfWidth: Double

  enum CodingKeys: String, CodingKey {
    case mean
    case halfWidth = "ci95"
  }

  public init(_ values: [Double]) {
    mean = values.reduce(0, +) / Double(values.count)
    halfWidth =
      values.count > 1
      ? Self.t975(degrees: values.count - 1) * Self.standardDeviation(values)
        / Double(values.count).squareRoot() : 0
  }

  /// The sample standard deviation (n − 1 in the denominator); 0 for one value.
  static func standardDeviation(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let mean = values.reduce(0, +) / Double(values.count)
    let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    return (squares / Double(values.count - 1)).squareRoot()
  }

  /// The 97.5 % quantile of Student's t (scipy.stats.t.ppf(0.975, df)), tabulated to 30
  /// degrees of freedom, then the normal's quantile with two Cornish–Fisher terms
  /// (within 1e-4 from 31 on).
  static func t975(degrees: Int) -> Double {
    let table = [
      12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
      2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
      2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
      2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
      2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
    ]
    if degrees <= table.count { return table[degrees - 1] }
    let (z, v) = (1.959963985, Double(degrees))
    return z + (pow(z, 3) + z) / (4 * v) + (5 * pow(z, 5) + 16 * pow(z, 3) + 3 * z) / (96 * v * v)
  }
}

/// McNemar's test of two classifiers' calls (landslide or not) on the same rows: `b` rows
/// only the first gets right, `c` only the second; χ² = (|b − c| − 1)² / (b + c) with
/// continuity correction, p from χ² with one degree of freedom.
public struct McNemarTest: Codable, Equatable, Sendable {
  public var onlyFirstRight: Int
  public var onlySecondRight: Int
  public var chiSquared: Double
  public var p: Double

  enum CodingKeys: String, CodingKey {
    case onlyFirstRight = "only_first_right"
    case onlySecondRight = "only_second_right"
    case chiSquared = "chi2"
    case p
  }

  public init(labels: [Float], first: [Bool], second: [Bool]) {
    var (b, c) = (0, 0)
    for (label, (x, y)) in zip(labels, zip(first, second)) {
      let truth = label == 1
      switch (x == truth, y == truth) {
      case (true, false): b += 1
      case (false, true): c += 1
      default: break
      }
    }
    self.init(onlyFirstRight: b, onlySecondRight: c)
  }

  public init(onlyFirstRight b: Int, onlySecondRight c: Int) {
    onlyFirstRight = b
    onlySecondRight = c
    guard b + c > 0 else {
      (chiSquared, p) = (0, 1)
      return
    }
    let d = max(0, Double(abs(b - c)) - 1)
    chiSquared = d * d / Double(b + c)
    // The survival function of χ²(1) at x is erfc(√(x / 2)).
    p = erfc((chiSquared / 2).squareRoot())
  }
}
