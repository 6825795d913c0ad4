import ArgumentParser
import Evaluation
import Foundation
import TensorEngine

/// `landslide evaluate`: the paper's metrics, tables and figures from saved predictions.
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score predictions: AUC, F1, IoU, confusion counts, density MAE and Pearson R.",
    discussion: """
      Inputs are .npy arrays in the layouts the paper's code publishes, one value per 1 km \
      cell in the same row-major order: labels [N,4,4] (presence 0/1), probabilities \
      [N,4,4,1], observed and predicted density [N*16,1]; any shape with N × 16 elements \
      is accepted. --predictions DIR reads the four from DIR/labels.npy, \
      DIR/probabilities.npy, DIR/observed_density.npy and DIR/predicted_density.npy, as \
      `predict` and `train` write them.
      """)

  @Option(
    help: ArgumentHelp(
      "Directory holding labels.npy, probabilities.npy, observed_density.npy and predicted_density.npy.",
      valueName: "dir"))
  var predictions: String?

  @Option(help: "Presence labels (0/1), e.g. [N,4,4].")
  var labels: String?

  @Option(help: "Landslide probabilities, e.g. [N,4,4,1].")
  var probabilities: String?

  @Option(help: "Observed landslide area density (% of cell), e.g. [N*16,1].")
  var observedDensity: String?

  @Option(help: "Predicted landslide area density (% of cell), e.g. [N*16,1].")
  var predictedDensity: String?

  @Option(help: "Probability from which a cell is called a landslide.")
  var threshold: Float = 0.5

  @Option(
    help: ArgumentHelp(
      "Directory for metrics.json, metrics.csv, roc.csv, roc.svg and density_scatter.svg.",
      valueName: "dir"))
  var out: String?

  @Flag(help: "Print the metrics as one JSON object instead of a table.")
  var json = false

  func validate() throws {
    let files = [
      ("--labels", labels), ("--probabilities", probabilities),
      ("--observed-density", observedDensity), ("--predicted-density", predictedDensity),
    ]
    if predictions != nil {
      guard files.allSatisfy({ $0.1 == nil }) else {
        throw ValidationError("give either --predictions or the four files, not both")
      }
    } else {
      let missing = files.filter { $0.1 == nil }.map(\.0)
      guard missing.isEmpty else {
        throw ValidationError(
          "missing \(missing.joined(separator: ", ")); give all four files or --predictions")
      }
    }
    guard threshold.isFinite else { throw ValidationError("--threshold: expected a number") }
  }

  func run() throws {
    let files = inputFiles
    let inputs = try Inputs(files)
    let evaluation: EnsembleEvaluation
    do {
      evaluation = try EnsembleMetrics.evaluate(
        labels: inputs.labels, probabilities: inputs.probabilities,
        observedDensity: inputs.observedDensity, predictedDensity: inputs.predictedDensity,
        threshold: threshold)
    } catch {
      throw EvaluateFailure(
        description: error.input.map { "\(files.path($0)): \(error.message)" }
          ?? error.description)
    }
    if let out {
      try EvaluationProducts.write(
        evaluation, observedDensity: inputs.observedDensity,
        predictedDensity: inputs.predictedDensity, name: "ensemble", to: out)
    }
    if json {
      print(try evaluation.metrics.json())
    } else {
      print(evaluation.metrics.table)
      if let out {
        print("wrote \(EvaluationProducts.fileNames.joined(separator: ", ")) to \(out)")
      }
    }
  }

  private var inputFiles: InputFiles {
    guard let predictions else {
      return InputFiles(
        labels: labels!, probabilities: probabilities!, observedDensity: observedDensity!,
        predictedDensity: predictedDensity!)
    }
    func file(_ name: String) -> String { (predictions as NSString).appendingPathComponent(name) }
    return InputFiles(
      labels: file("labels.npy"), probabilities: file("probabilities.npy"),
      observedDensity: file("observed_density.npy"),
      predictedDensity: file("predicted_density.npy"))
  }
}

/// A problem with the inputs, with the file it is in.
private struct EvaluateFailure: Error, CustomStringConvertible {
  let description: String
}

/// Where each input is read from.
private struct InputFiles {
  var labels: String
  var probabilities: String
  var observedDensity: String
  var predictedDensity: String

  func path(_ input: EvaluationError.Input) -> String {
    switch input {
    case .labels: labels
    case .scores: probabilities
    case .observedDensity: observedDensity
    case .predictedDensity: predictedDensity
    }
  }
}

/// The four arrays, read and checked to hold the same N × 16 cells.
private struct Inputs {
  static let cellsPerPatch = 16

  let labels: [Float]
  let probabilities: [Float]
  let observedDensity: [Float]
  let predictedDensity: [Float]

  init(_ files: InputFiles) throws {
    let paths = [files.labels, files.probabilities, files.observedDensity, files.predictedDensity]
    let arrays = try paths.map { path throws(NumPyError) in try NumPyArray.read(path: path) }
    let counts = arrays.map(\.values.count)
    // The count most files agree on (the labels' on a tie) is taken as right, and the
    // files that differ from it are named.
    func agreeing(_ count: Int) -> Int { counts.filter { $0 == count }.count }
    var reference = counts[0]
    for count in counts where agreeing(count) > agreeing(reference) { reference = count }
    let agreed = zip(paths, counts).filter { $0.1 == reference }
      .map { ($0.0 as NSString).lastPathComponent }.joined(separator: ", ")
    for (path, array) in zip(paths, arrays) where array.values.count != reference {
      throw EvaluateFailure(
        description:
          "\(path): shape \(array.shape) holds \(array.values.count) values; "
          + "expected \(reference) like \(agreed) (one per cell)")
    }
    guard reference % Self.cellsPerPatch == 0 else {
      throw EvaluateFailure(
        description:
          "\(files.labels): shape \(arrays[0].shape) holds \(reference) values; "
          + "expected N × \(Self.cellsPerPatch) (N patches of 4 × 4 cells)")
    }
    (labels, probabilities, observedDensity, predictedDensity) =
      (arrays[0].values, arrays[1].values, arrays[2].values, arrays[3].values)
  }
}

extension MetricsSummary {
  /// A short table for people; --json is for programs.
  fileprivate var table: String {
    func figure(_ value: Double) -> String { String(format: "%.4f", value) }
    return [
      "\(cells) cells, \(positiveCells) with observed density > 0; threshold \(threshold)",
      "susceptibility  AUC \(figure(auc))  F1 \(figure(f1))  IoU \(figure(iou))  "
        + "precision \(figure(precision))  recall \(figure(recall))",
      "confusion       TP \(truePositives)  FP \(falsePositives)  FN \(falseNegatives)  "
        + "TN \(trueNegatives)",
      "density         MAE \(figure(mae))  Pearson R \(figure(pearsonR))",
      "positive cells  MAE \(figure(maePositive))  Pearson R \(figure(pearsonRPositive))",
    ].joined(separator: "\n")
  }
}
