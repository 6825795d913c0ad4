import Foundation
import TensorEngine

/// Logistic regression in scikit-learn's contract: it minimises
///
///     r(w) + C · Σᵢ logloss(yᵢ, xᵢ·w + b)
///
/// with r(w) = ½‖w‖² (l2), ‖w‖₁ (l1), (1−ρ)/2·‖w‖² + ρ‖w‖₁ (elasticnet) or 0 (none), the
/// intercept b unpenalised, and solves it to convergence in Double. Newton's method (IRLS):
/// one pass over the rows per iteration gives the objective, its gradient and its Hessian
/// X'WX; the step solves the Hessian system (LAPACK) or, with an L1 term, the Newton
/// quadratic plus the L1 term by coordinate descent (proximal Newton, as glmnet and
/// liblinear's newGLMNET do), which is cheap beside the pass: the model has at most a few
/// hundred columns. A backtracking line search on the true objective makes every step a
/// descent, so the iteration cannot diverge.
///
/// Sums over the rows are taken over a fixed number of row chunks (set by the row count
/// alone), each summed in order, then the chunks in order: coefficients are the same for
/// any thread count.
public final class LogisticRegression: Classifier {
  /// scikit-learn's penalty names.
  public enum Penalty: String, Codable, Sendable {
    case none
    case l1
    case l2
    case elasticnet
  }

  public struct Settings: Codable, Equatable, Sendable {
    public var penalty: Penalty
    /// Inverse regularisation strength (scikit-learn's C): the weight of the log-loss sum.
    public var c: Double
    /// ρ, the L1 share of an elasticnet penalty.
    public var l1Ratio: Double
    public var fitIntercept: Bool
    /// Converged when max |(sub)gradient of the objective| ≤ tolerance · max(1, C·rows),
    /// i.e. the gradient of the mean log loss (and penalty / (C·rows)) below tolerance,
    /// scikit-learn's lbfgs criterion.
    public var tolerance: Double
    /// Newton steps at most; a fit that needs more is kept, with `converged = false`.
    public var maxIterations: Int

    public init(
      penalty: Penalty = .l2, c: Double = 1, l1Ratio: Double = 0.5, fitIntercept: Bool = true,
      tolerance: Double = 1e-8, maxIterations: Int = 100
    ) {
      self.penalty = penalty
      self.c = c
      self.l1Ratio = l1Ratio
      self.fitIntercept = fitIntercept
      self.tolerance = tolerance
      self.maxIterations = maxIterations
    }
  }

  /// How the last fit ended (stored beside the settings).
  public struct FitReport: Codable, Equatable, Sendable {
    /// Newton steps taken.
    public var iterations: Int
    public var converged: Bool
    /// max |(sub)gradient of the objective| at the returned coefficients, and the bound it
    /// had to reach.
    public var gradient: Double
    public var gradientBound: Double
    /// r(w) + C · Σ logloss at the returned coefficients.
    public var objective: Double
  }

  public let name = "logistic_regression"
  public let settings: Settings
  /// One per column, rounded to Float32 as the model file stores them (so a model read
  /// back predicts exactly as the fitted one).
  public private(set) var coefficients: [Double] = []
  public private(set) var intercept: Double = 0
  public private(set) var report: FitReport?

  public init(settings: Settings = Settings()) {
    self.settings = settings
  }

  /// A line for the run's log when the last fit stopped short of convergence; nil otherwise.
  public var warning: String? {
    guard let report, !report.converged else { return nil }
    return "\(name): not converged after \(report.iterations) Newton iterations "
      + "(max |gradient| \(report.gradient) > \(report.gradientBound)); "
      + "raise maxIterations or scale the columns"
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    try checkSettings()
    guard x.columns > 0 else { throw ClassicalError(name, "the training table has no columns") }
    let result = x.values.withUnsafeBufferPointer { values in
      y.withUnsafeBufferPointer { labels in
        NewtonSolver(
          x: values.baseAddress!, y: labels.baseAddress!, rows: x.rows, columns: x.columns,
          settings: settings
        ).solve()
      }
    }
    switch result {
    case .failed(let message): throw ClassicalError(name, message)
    case .solved(let solution, let report):
      coefficients = solution[0..<x.columns].map { Double(Float($0)) }
      intercept = settings.fitIntercept ? Double(Float(solution[x.columns])) : 0
      self.report = report
    }
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard report != nil else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == coefficients.count else {
      throw ClassicalError(
        name, "\(x.columns) columns; the model was fitted on \(coefficients.count)")
    }
    var probabilities = [Float](repeating: 0, count: x.rows)
    x.values.withUnsafeBufferPointer { values in
      coefficients.withUnsafeBufferPointer { weights in
        probabilities.withUnsafeMutableBufferPointer { out in
          let job = LinearPredictor(
            x: values.baseAddress!, columns: x.columns, weights: weights.baseAddress,
            bias: intercept, margins: nil, probabilities: out.baseAddress)
          ThreadPool.shared.parallelFor(x.rows, work: x.rows * max(x.columns, 1), job)
        }
      }
    }
    return probabilities
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    guard let report else { throw ClassicalError(name, "store before fit") }
    return StoredModel(
      kind: name, settings: StoredSettings(settings: settings, report: report),
      arrays: [
        .init(
          name: "coefficients", shape: [coefficients.count], values: coefficients.map(Float.init)),
        .init(name: "intercept", shape: [1], values: [Float(intercept)]),
      ])
  }

  public init(stored: StoredModel) throws(ClassicalError) {
    guard stored.kind == name else {
      throw ClassicalError(name, "stored model is a '\(stored.kind)'")
    }
    let decoded = try stored.decodeSettings(StoredSettings.self)
    settings = decoded.settings
    report = decoded.report
    coefficients = try stored.array("coefficients").map(Double.init)
    intercept = Double(try stored.array("intercept", count: 1)[0])
  }

  private func checkSettings() throws(ClassicalError) {
    guard settings.c > 0, settings.c.isFinite else {
      throw ClassicalError(name, "c = \(settings.c); expected a finite value above 0")
    }
    guard (0...1).contains(settings.l1Ratio) else {
      throw ClassicalError(name, "l1Ratio = \(settings.l1Ratio); expected 0 to 1")
    }
    guard settings.tolerance > 0 else {
      throw ClassicalError(name, "tolerance = \(settings.tolerance); expected above 0")
    }
    guard settings.maxIterations >= 1 else {
      throw ClassicalError(name, "maxIterations = \(settings.maxIterations); expected 1 or more")
    }
  }

  /// The settings and the fit's report as one flat JSON object.
  private struct StoredSettings: Codable {
    var settings: Settings
    var report: FitReport

    init(settings: Settings, report: FitReport) {
      self.settings = settings
      self.report = report
    }

    init(from decoder: Decoder) throws {
      settings = try Settings(from: decoder)
      report = try FitReport(from: decoder)
    }

    func encode(to encoder: Encoder) throws {
      try settings.encode(to: encoder)
      try report.encode(to: encoder)
    }
  }
}

// MARK: - Solver

/// Newton's method on the objective over raw buffers. The parameters θ are the
/// coefficients followed by the intercept (when fitted); only the coefficients are
/// penalised.
private struct NewtonSolver {
  let x: UnsafePointer<Float>
  let y: UnsafePointer<Float>
  let rows: Int
  let columns: Int
  let settings: LogisticRegression.Settings
  /// Parameters: columns, plus the intercept.
  let width: Int
  /// Weight of ½‖w‖² and of ‖w‖₁ in the objective.
  let ridge: Double
  let lasso: Double
  let chunks: Int

  init(
    x: UnsafePointer<Float>, y: UnsafePointer<Float>, rows: Int, columns: Int,
    settings: LogisticRegression.Settings
  ) {
    self.x = x
    self.y = y
    self.rows = rows
    self.columns = columns
    self.settings = settings
    width = columns + (settings.fitIntercept ? 1 : 0)
    switch settings.penalty {
    case .none: (ridge, lasso) = (0, 0)
    case .l2: (ridge, lasso) = (1, 0)
    case .l1: (ridge, lasso) = (0, 1)
    case .elasticnet: (ridge, lasso) = (1 - settings.l1Ratio, settings.l1Ratio)
    }
    // A function of the row count alone, so that sums do not depend on the thread count.
    chunks = min(128, max(1, rows / 2048))
  }

  enum Outcome {
    case solved([Double], LogisticRegression.FitReport)
    case failed(String)
  }

  func solve() -> Outcome {
    let c = settings.c
    let bound = settings.tolerance * max(1, c * Double(rows))
    var theta = [Double](repeating: 0, count: width)
    var margins = [Double](repeating: 0, count: rows)
    var direction = [Double](repeating: 0, count: rows)
    let stride = RowStatistics.stride(width)
    var partials = [Double](repeating: 0, count: chunks * stride)
    var iterations = 0
    while true {
      // Loss, gradient and Hessian of the log-loss sum at θ.
      margins.withUnsafeBufferPointer { margins in
        partials.withUnsafeMutableBufferPointer { partials in
          let job = RowStatistics(
            x: x, y: y, margins: margins.baseAddress!, rows: rows, columns: columns,
            width: width, chunks: chunks, partials: partials.baseAddress!)
          ThreadPool.shared.parallelFor(chunks, work: rows * width * width, job)
        }
      }
      var loss = 0.0
      var separated = true
      var gradient = [Double](repeating: 0, count: width)
      var hessian = [Double](repeating: 0, count: width * width)
      for chunk in 0..<chunks {
        let base = chunk * stride
        loss += partials[base]
        if partials[base + 1] > 0 { separated = false }
        for j in 0..<width { gradient[j] += partials[base + 2 + j] }
        let lanes = RowStatistics.lanes(width)
        for j in 0..<width {
          for k in j..<width {
            hessian[j * width + k] += partials[base + 2 + width + j * lanes + k]
          }
        }
      }
      var objective = c * loss
      for j in 0..<width {
        gradient[j] *= c
        for k in j..<width {
          hessian[j * width + k] *= c
          hessian[k * width + j] = hessian[j * width + k]
        }
      }
      for j in 0..<columns {
        gradient[j] += ridge * theta[j]
        hessian[j * width + j] += ridge
        objective += ridge / 2 * theta[j] * theta[j] + lasso * abs(theta[j])
      }
      guard gradient.allSatisfy(\.isFinite), objective.isFinite else {
        return .failed("the training table holds values that are not finite (NaN or ±inf)")
      }
      if settings.penalty == .none && separated {
        return .failed(
          "the classes are linearly separable, so without a penalty the coefficients grow "
            + "without bound; use penalty l2 (or l1, elasticnet)")
      }
      let stationarity = self.stationarity(gradient: gradient, theta: theta)
      let report = LogisticRegression.FitReport(
        iterations: iterations, converged: stationarity <= bound, gradient: stationarity,
        gradientBound: bound, objective: objective)
      if report.converged || iterations == settings.maxIterations {
        return .solved(theta, report)
      }

      // The Newton step to `target`, its predicted decrease, and the change of every
      // margin along it.
      let target: [Double]
      if lasso == 0 {
        do {
          let step = try solveLinearSystem(hessian, gradient.map { -$0 }, n: width)
          target = zip(theta, step).map { $0 + $1 }
        } catch {
          return .failed(
            "the Newton system is singular (\(error)): columns are constant or linearly "
              + "dependent; use penalty l2 or drop them")
        }
      } else {
        target = proximalTarget(hessian: hessian, gradient: gradient, theta: theta)
      }
      let step = zip(target, theta).map { $0 - $1 }
      var decrease = 0.0
      for j in 0..<width { decrease += gradient[j] * step[j] }
      for j in 0..<columns { decrease += lasso * (abs(target[j]) - abs(theta[j])) }
      // Rounding can leave no descent direction near the optimum.
      guard decrease < 0 else { return .solved(theta, report) }
      step.withUnsafeBufferPointer { step in
        direction.withUnsafeMutableBufferPointer { out in
          let job = LinearPredictor(
            x: x, columns: columns, weights: step.baseAddress,
            bias: settings.fitIntercept ? step[columns] : 0, margins: out.baseAddress,
            probabilities: nil)
          ThreadPool.shared.parallelFor(rows, work: rows * max(columns, 1), job)
        }
      }

      // Backtracking (Armijo) on the objective, its change summed row by row so that small
      // changes are not lost against the objective's size.
      var length = 1.0
      var accepted = false
      for _ in 0..<60 {
        let change =
          c * lossChange(margins: margins, direction: direction, length: length)
          + penaltyChange(theta: theta, step: step, length: length)
        if change <= 1e-4 * length * decrease {
          accepted = true
          break
        }
        length /= 2
      }
      guard accepted else {
        // No descent left along the Newton direction (rounding decides): keep θ, reported
        // as not converged.
        return .solved(theta, report)
      }
      // A full step lands on the target exactly (its zeros stay zeros).
      theta = length == 1 ? target : zip(theta, step).map { $0 + length * $1 }
      for i in 0..<rows { margins[i] += length * direction[i] }
      iterations += 1
    }
  }

  /// max over parameters of |the minimum-norm subgradient of the objective|.
  private func stationarity(gradient: [Double], theta: [Double]) -> Double {
    var largest = 0.0
    for j in 0..<width {
      var value = gradient[j]
      if j < columns && lasso > 0 {
        if theta[j] > 0 {
          value += lasso
        } else if theta[j] < 0 {
          value -= lasso
        } else {
          value = max(abs(value) - lasso, 0)
        }
      }
      largest = max(largest, abs(value))
    }
    return largest
  }

  /// The point θ + Δ whose Δ minimises gᵀΔ + ½ΔᵀHΔ + λ‖w + Δ‖₁ (coefficients only), by
  /// cyclic coordinate descent with soft-thresholding on the small Hessian alone.
  private func proximalTarget(hessian: [Double], gradient: [Double], theta: [Double])
    -> [Double]
  {
    var point = theta
    // g + H·Δ, the quadratic model's gradient, kept current as Δ changes.
    var slope = gradient
    // Sweeps are O(width²); an inexact step still descends and the next iteration refines.
    for _ in 0..<1000 {
      var largestChange = 0.0
      var largestValue = 0.0
      for j in 0..<width {
        let diagonal = hessian[j * width + j]
        guard diagonal > 0 else { continue }
        let free = point[j] - slope[j] / diagonal
        let moved = j < columns ? softThreshold(free, lasso / diagonal) : free
        let change = moved - point[j]
        largestValue = max(largestValue, abs(moved))
        guard change != 0 else { continue }
        point[j] = moved
        for k in 0..<width { slope[k] += change * hessian[k * width + j] }
        largestChange = max(largestChange, abs(change))
      }
      if largestChange <= 1e-13 * max(1, largestValue) { break }
    }
    return point
  }

  private func softThreshold(_ value: Double, _ threshold: Double) -> Double {
    value > threshold ? value - threshold : value < -threshold ? value + threshold : 0
  }

  /// Σᵢ logloss(η + t·δ) − logloss(η), over the rows in chunks.
  private func lossChange(margins: [Double], direction: [Double], length: Double) -> Double {
    var partials = [Double](repeating: 0, count: chunks)
    margins.withUnsafeBufferPointer { margins in
      direction.withUnsafeBufferPointer { direction in
        partials.withUnsafeMutableBufferPointer { partials in
          let job = LossChange(
            y: y, margins: margins.baseAddress!, direction: direction.baseAddress!,
            length: length, rows: rows, chunks: chunks, partials: partials.baseAddress!)
          ThreadPool.shared.parallelFor(chunks, work: rows * 16, job)
        }
      }
    }
    return partials.reduce(0, +)
  }

  /// r(w + t·Δ) − r(w).
  private func penaltyChange(theta: [Double], step: [Double], length: Double) -> Double {
    var change = 0.0
    for j in 0..<columns {
      let moved = length * step[j]
      change += ridge * (theta[j] * moved + moved * moved / 2)
      change += lasso * (abs(theta[j] + moved) - abs(theta[j]))
    }
    return change
  }
}

// MARK: - Kernels

/// e = exp(−|η|), from which P(1) = σ(η), σ(η)(1−σ(η)) and log(1 + e^η) follow without
/// overflow or cancellation.
@inline(__always)
private func logistic(_ margin: Double) -> (probability: Double, weight: Double, softplus: Double) {
  let e = exp(-abs(margin))
  let inverse = 1 / (1 + e)
  return (
    margin >= 0 ? inverse : e * inverse, e * inverse * inverse, max(margin, 0) + log1p(e)
  )
}

/// Per chunk of rows: [Σ logloss, misclassified rows, gradient (width), Hessian (width rows
/// of `lanes(width)`; the upper triangle is the one summed)] of the log-loss sum at the
/// current margins.
private struct RowStatistics: ParallelJob {
  let x: UnsafePointer<Float>
  let y: UnsafePointer<Float>
  let margins: UnsafePointer<Double>
  let rows: Int
  let columns: Int
  let width: Int
  let chunks: Int
  let partials: UnsafeMutablePointer<Double>

  /// A Hessian row padded to whole SIMD4 vectors.
  static func lanes(_ width: Int) -> Int { (width + 3) & ~3 }
  static func stride(_ width: Int) -> Int { 2 + width + width * lanes(width) }

  func run(_ range: Range<Int>) {
    // Four rows at a time as Double (intercept column 1, zeros to `lanes`), with their
    // IRLS weights: each Hessian vector is updated once per four rows.
    let lanes = Self.lanes(width)
    let group = UnsafeMutablePointer<Double>.allocate(capacity: 4 * lanes + 4)
    group.initialize(repeating: 0, count: 4 * lanes + 4)
    let weights = group + 4 * lanes
    defer { group.deallocate() }
    for chunk in range {
      let out = partials + chunk * Self.stride(width)
      out.update(repeating: 0, count: Self.stride(width))
      let gradient = out + 2
      let hessian = out + 2 + width
      var loss = 0.0
      var misclassified = 0.0
      var row = rows * chunk / chunks
      let end = rows * (chunk + 1) / chunks
      while row < end {
        let count = min(4, end - row)
        for q in 0..<4 {
          let z = group + q * lanes
          guard q < count else {
            z.update(repeating: 0, count: width)
            weights[q] = 0
            continue
          }
          let source = x + (row + q) * columns
          for j in 0..<columns { z[j] = Double(source[j]) }
          if width > columns { z[columns] = 1 }
          let margin = margins[row + q]
          let label = Double(y[row + q])
          let (probability, weight, softplus) = logistic(margin)
          loss += softplus - label * margin
          if label == 1 ? margin <= 0 : margin >= 0 { misclassified += 1 }
          let residual = probability - label
          for j in 0..<width { gradient[j] += residual * z[j] }
          weights[q] = weight
        }
        for a in 0..<width {
          let s0 = SIMD4(repeating: weights[0] * group[a])
          let s1 = SIMD4(repeating: weights[1] * group[lanes + a])
          let s2 = SIMD4(repeating: weights[2] * group[2 * lanes + a])
          let s3 = SIMD4(repeating: weights[3] * group[3 * lanes + a])
          let line = UnsafeMutableRawPointer(hessian + a * lanes)
          // From the vector holding column a: the upper triangle and a few entries below.
          for b in Swift.stride(from: a & ~3, to: lanes, by: 4) {
            let sum =
              s0 * vector(group, b) + s1 * vector(group, lanes + b)
              + s2 * vector(group, 2 * lanes + b) + s3 * vector(group, 3 * lanes + b)
            let offset = b * MemoryLayout<Double>.stride
            line.storeBytes(
              of: line.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self) + sum,
              toByteOffset: offset, as: SIMD4<Double>.self)
          }
        }
        row += count
      }
      out[0] = loss
      out[1] = misclassified
    }
  }
}

@inline(__always)
private func vector(_ base: UnsafeMutablePointer<Double>, _ offset: Int) -> SIMD4<Double> {
  UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD4<Double>.self)
}

/// Per chunk: Σ logloss(η + t·δ) − logloss(η). For |t·δ| < 1 the change of log(1 + e^η)
/// is log1p(σ(η)·expm1(t·δ)), exact to rounding however small it is.
private struct LossChange: ParallelJob {
  let y: UnsafePointer<Float>
  let margins: UnsafePointer<Double>
  let direction: UnsafePointer<Double>
  let length: Double
  let rows: Int
  let chunks: Int
  let partials: UnsafeMutablePointer<Double>

  func run(_ range: Range<Int>) {
    for chunk in range {
      var sum = 0.0
      for row in (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) {
        let margin = margins[row]
        let move = length * direction[row]
        let change: Double
        if abs(move) < 1 {
          change = log1p(logistic(margin).probability * expm1(move))
        } else {
          change = logistic(margin + move).softplus - logistic(margin).softplus
        }
        sum += change - Double(y[row]) * move
      }
      partials[chunk] = sum
    }
  }
}

/// η = x·w + b per row in Double, written as margins or as Float P(1) = σ(η).
private struct LinearPredictor: ParallelJob {
  let x: UnsafePointer<Float>
  let columns: Int
  let weights: UnsafePointer<Double>?
  let bias: Double
  let margins: UnsafeMutablePointer<Double>?
  let probabilities: UnsafeMutablePointer<Float>?

  func run(_ range: Range<Int>) {
    for row in range {
      var margin = bias
      if let weights {
        let source = x + row * columns
        for j in 0..<columns { margin += Double(source[j]) * weights[j] }
      }
      if let margins { margins[row] = margin }
      if let probabilities { probabilities[row] = Float(logistic(margin).probability) }
    }
  }
}
