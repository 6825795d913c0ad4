import Foundation
import TensorEngine

/// The files an evaluation leaves in its output directory, each written atomically:
/// metrics.json, metrics.csv, roc.csv, roc.svg and density_scatter.svg.
public enum EvaluationProducts {
  public static let fileNames = [
    "metrics.json", "metrics.csv", "roc.csv", "roc.svg", "density_scatter.svg",
  ]

  /// Writes the products of `evaluation` into `directory` (created if missing); `name`
  /// labels the curve in the ROC legend. The densities are the ones evaluated.
  public static func write(
    _ evaluation: EnsembleEvaluation, observedDensity: [Float], predictedDensity: [Float],
    name: String, to directory: String
  ) throws(EvaluationError) {
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw EvaluationError(
        nil, "\(directory): cannot create the directory (\(error.localizedDescription))")
    }
    let metrics = evaluation.metrics
    let note = String(
      format: "R %.3f, MAE %.3f; positive cells R %.3f, MAE %.3f", metrics.pearsonR, metrics.mae,
      metrics.pearsonRPositive, metrics.maePositive)
    let texts = [
      try metrics.json() + "\n",
      MetricsCSV.metrics(metrics),
      MetricsCSV.roc(evaluation.roc),
      ROCFigure.svg([(name, evaluation.roc)]),
      DensityScatterFigure.svg(observed: observedDensity, predicted: predictedDensity, note: note),
    ]
    for (file, text) in zip(fileNames, texts) {
      let path = (directory as NSString).appendingPathComponent(file)
      do {
        try AtomicFile.write(Data(text.utf8), to: path)
      } catch {
        throw EvaluationError(nil, "\(path): \(error.message)")
      }
    }
  }
}
