import Classical
import Evaluation
import Foundation
import TensorEngine

/// `rainfall explain`: the SHAP values of a run's XGBoost model on its test set, from
/// XGBoost's own TreeSHAP, so that each row's values add up to the model's margin.
public enum ThresholdExplanation {
  /// Writes into `out`: `shap.npy` (test rows × features + bias, log-odds),
  /// `shap_features.json` (the column names, `bias` last), `mean_abs_shap.csv`,
  /// `shap_bar.svg`, `shap_beeswarm.svg`, `partial_dependence.svg` (the five strongest
  /// features), and the seed's probability maps `probability_duration_total.png` and
  /// `probability_duration_intensity.png` with their grids as `.csv` (see
  /// `ProbabilitySurface`: the mean probability over the test rows, or 2000 of them, with
  /// the rain set to each grid point). Returns the features by mean |SHAP|, largest first.
  public static func run(
    runDirectory: String, events: EventSet, model name: String = "xgboost", out: String
  ) throws(RainfallError) -> [(feature: String, meanAbsolute: Double)] {
    let split = try TestSplit.read(RunFiles.path(runDirectory, TestSplit.fileName))
    guard split.rows.allSatisfy({ $0 >= 0 && $0 < events.table.rows }) else {
      throw RainfallError(
        RunFiles.path(runDirectory, TestSplit.fileName),
        "test rows beyond the event set's \(events.table.rows)")
    }
    let (model, encoder, modelPath) = try TrainedModel.load(runDirectory: runDirectory, name: name)
    let test = events.table.selecting(rows: split.rows)
    let x: FeatureMatrix
    let contributions: FeatureMatrix
    do throws(ClassicalError) {
      x = try encoder.encode(test.features, source: "test rows")
      contributions = try model.contributions(x)
    } catch { throw RainfallError(modelPath, error.message) }
    let names = encoder.encodedNames
    let columns = names.count
    do {
      try NumPyArray(shape: [x.rows, columns + 1], values: contributions.values).write(
        to: RunFiles.path(out, "shap.npy"))
    } catch { throw RainfallError(RunFiles.path(out, "shap.npy"), "\(error)") }
    var meanAbsolute = [Double](repeating: 0, count: columns)
    var shap: [[Float]] = []
    var scaled: [[Float]] = []
    for row in 0..<x.rows {
      shap.append((0..<columns).map { contributions[row, $0] })
      scaled.append((0..<columns).map { x[row, $0] })
      for c in 0..<columns {
        meanAbsolute[c] += Double(abs(contributions[row, c])) / Double(x.rows)
      }
    }
    // Class codes have no range to colour by.
    for (c, column) in encoder.columns.enumerated() where column.isCategorical {
      for row in scaled.indices { scaled[row][c] = .nan }
    }
    let ranked = names.indices.sorted { meanAbsolute[$0] > meanAbsolute[$1] }
    var csv = "feature,mean_abs_shap\n"
    for c in ranked { csv += "\(names[c]),\(meanAbsolute[c])\n" }
    // Partial dependence: each of the five strongest features set to 20 points of its
    // training range (its encoded 0–1 scale, or its classes) on every test row.
    let top = Array(ranked.prefix(5))
    let shares = (0..<20).map { Double($0) / 19 }
    var curves: [[Double]] = []
    do throws(ClassicalError) {
      for feature in top {
        var curve: [Double] = []
        let categories = encoder.columns[feature].categories
        for share in shares {
          var moved = x
          let value =
            categories.map { Float($0[Int((share * Double($0.count - 1)).rounded())]) }
            ?? Float(share)
          for row in 0..<moved.rows { moved[row, feature] = value }
          let p = try model.predictProbability(moved)
          curve.append(p.reduce(0) { $0 + Double($1) } / Double(p.count))
        }
        curves.append(curve)
      }
    } catch { throw RainfallError(modelPath, error.message) }
    let files: [(String, String)] = [
      (
        "shap_features.json",
        String(decoding: (try? JSONEncoder().encode(names + ["bias"])) ?? Data(), as: UTF8.self)
          + "\n"
      ),
      ("mean_abs_shap.csv", csv),
      (
        "shap_bar.svg",
        SHAPFigure.bars(
          names: names, meanAbsolute: meanAbsolute, title: "Mean |SHAP|, \(name), test set")
      ),
      (
        "shap_beeswarm.svg",
        SHAPFigure.beeswarm(
          names: names, shap: shap, scaled: scaled, title: "SHAP values, \(name), test set")
      ),
      (
        "partial_dependence.svg",
        SHAPFigure.partialDependence(
          names: top.map { names[$0] }, shares: shares, probabilities: curves,
          title: "Partial dependence, \(name)")
      ),
    ]
    for (file, text) in files { try RunFiles.write(text, to: RunFiles.path(out, file)) }
    let averaged = ProbabilitySurface.averagedRows(of: test)
    let testRows = RunFiles.path(runDirectory, TestSplit.fileName)
    let grid = try ProbabilitySurface.grid(for: test, source: testRows)
    let rowsNote =
      averaged.rows < test.rows
      ? "\(averaged.rows) of \(test.rows) test rows" : "\(test.rows) test rows"
    for (amount, amounts) in [
      (ProbabilitySurface.Amount.total, grid.totals), (.intensity, grid.intensities),
    ] {
      let surface = try ProbabilitySurface(
        amount: amount, durations: grid.durations, amounts: amounts, over: averaged,
        source: testRows
      ) { (raw: FeatureMatrix) throws(RainfallError) -> [Float] in
        do throws(ClassicalError) {
          return try model.predictProbability(encoder.encode(raw, source: "the probability grid"))
        } catch { throw RainfallError(modelPath, error.message) }
      }
      try surface.write(in: out, title: "Landslide probability, \(name), mean over \(rowsNote)")
    }
    return ranked.map { (names[$0], meanAbsolute[$0]) }
  }
}
