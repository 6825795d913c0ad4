import Foundation
import TensorEngine
import TestSupport
import Testing

/// `landslide evaluate` on one hand-worked 4 × 4 patch (16 cells, row-major).
///
/// Labels 1 1 0 1 then twelve 0; probabilities 0.8 0.7 0.7 0.4 0.4 0.4 0.1 then nine 0.05.
/// AUC: 3 positives × 13 negatives = 39 pairs. The 0.8 positive beats all 13; the 0.7
/// positive ties one negative and beats the other 12 (12.5); the 0.4 positive loses to the
/// 0.7 negative, ties two and beats ten (11). AUC = 36.5 / 39 = 73/78.
/// At 0.5: TP 2, FP 1 (the negative 0.7), FN 1 (the positive 0.4), TN 12; precision =
/// recall = F1 = 2/3, IoU = 2 / 4. At 0.4 the three 0.4 cells join: TP 3, FP 3, FN 0, TN 10.
/// Density: observed 3 2 0 1 then zeros, predicted 2.5 2 0.5 0 0 1 then zeros.
/// All cells: MAE (0.5 + 0.5 + 1 + 1) / 16 = 0.1875; both means 6/16, Σ xy = 11.5,
/// Σ x² = 14, Σ y² = 11.5, so Σ dx·dy = Σ dy² = 11.5 − 2.25 = 9.25, Σ dx² = 11.75 and
/// R = √(9.25 / 11.75) = √(37/47). Positive cells (observed 3, 2, 1; predicted 2.5, 2, 0):
/// MAE 1.5 / 3 = 0.5; deviations (1, 0, −1) and (1, 0.5, −1.5), R = 2.5 / √(2 · 3.5) = 2.5/√7.
@Suite struct EvaluateCommandTests {
  static let labels: [Float] = [1, 1, 0, 1] + [Float](repeating: 0, count: 12)
  static let probabilities: [Float] =
    [0.8, 0.7, 0.7, 0.4, 0.4, 0.4, 0.1] + [Float](repeating: 0.05, count: 9)
  static let observed: [Float] = [3, 2, 0, 1] + [Float](repeating: 0, count: 12)
  static let predicted: [Float] = [2.5, 2, 0.5, 0, 0, 1] + [Float](repeating: 0, count: 10)

  /// Writes the four inputs in the paper's layouts under their `--predictions` names.
  static func writeInputs(
    to directory: URL, labels: [Float] = labels, predicted: [Float] = predicted
  ) throws {
    let arrays = [
      ("labels.npy", NumPyArray(shape: [1, 4, 4], values: labels)),
      ("probabilities.npy", NumPyArray(shape: [1, 4, 4, 1], values: probabilities)),
      ("observed_density.npy", NumPyArray(shape: [16, 1], values: observed)),
      ("predicted_density.npy", NumPyArray(shape: [predicted.count, 1], values: predicted)),
    ]
    for (name, array) in arrays {
      try array.write(to: directory.appendingPathComponent(name).path)
    }
  }

  @Test func jsonHoldsTheHandWorkedMetricsAndEveryFileIsWritten() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.writeInputs(to: directory)
    let out = directory.appendingPathComponent("evaluation")
    let result = try Launcher.landslide(
      "evaluate", "--predictions", directory.path, "--out", out.path, "--json")
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.filter { $0 == "\n" }.count == 1, "one JSON line, nothing else")
    let metrics = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let expected: [String: Double] = [
      "auc": 73.0 / 78, "precision": 2.0 / 3, "recall": 2.0 / 3, "f1": 2.0 / 3, "iou": 0.5,
      "threshold": 0.5, "true_positives": 2, "false_positives": 1, "false_negatives": 1,
      "true_negatives": 12, "mae": 0.1875, "pearson_r": (37.0 / 47).squareRoot(),
      "mae_positive": 0.5, "pearson_r_positive": 2.5 / 7.0.squareRoot(), "cells": 16,
      "positive_cells": 3,
    ]
    #expect(Set(metrics.keys) == Set(expected.keys))
    for (key, value) in expected {
      let actual = try #require(metrics[key] as? Double, "\(key)")
      #expect(abs(actual - value) < 1e-12, "\(key): \(actual), expected \(value)")
    }
    for name in ["metrics.json", "metrics.csv", "roc.csv", "roc.svg", "density_scatter.svg"] {
      let size =
        try FileManager.default.attributesOfItem(
          atPath: out.appendingPathComponent(name).path)[.size] as? Int
      #expect((size ?? 0) > 0, "\(name)")
    }
    let rocRows = try String(contentsOf: out.appendingPathComponent("roc.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(rocRows.first == "threshold,fpr,tpr" && rocRows.count == 7, "header, origin, 5 scores")
  }

  @Test func separateFilesThresholdAndTable() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.writeInputs(to: directory)
    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
    let result = try Launcher.landslide(
      "evaluate", "--labels", file("labels.npy"), "--probabilities", file("probabilities.npy"),
      "--observed-density", file("observed_density.npy"), "--predicted-density",
      file("predicted_density.npy"), "--threshold", "0.4")
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("16 cells, 3 with observed density > 0; threshold 0.4"))
    #expect(result.standardOutput.contains("AUC 0.9359"))
    #expect(result.standardOutput.contains("TP 3  FP 3  FN 0  TN 10"))
  }

  @Test func oneClassOnlyIsAnErrorNamingTheLabels() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.writeInputs(to: directory, labels: [Float](repeating: 0, count: 16))
    let result = try Launcher.landslide("evaluate", "--predictions", directory.path, "--json")
    #expect(result.status != 0)
    #expect(result.standardOutput.isEmpty)
    #expect(
      result.standardError.contains(
        "\(directory.appendingPathComponent("labels.npy").path): all 16 cells are absences (0); "
          + "ROC and AUC need both classes"))
  }

  @Test func aFileWithTheWrongCellCountIsNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.writeInputs(to: directory, predicted: Array(Self.predicted.prefix(15)))
    let result = try Launcher.landslide("evaluate", "--predictions", directory.path)
    #expect(result.status != 0)
    #expect(
      result.standardError.contains(
        "\(directory.appendingPathComponent("predicted_density.npy").path): shape [15, 1] holds "
          + "15 values; expected 16 like labels.npy, probabilities.npy, observed_density.npy"))
  }

  @Test func inputsMustBeGivenOneWay() throws {
    let result = try Launcher.landslide("evaluate", "--labels", "labels.npy")
    #expect(result.status != 0)
    #expect(
      result.standardError.contains(
        "missing --probabilities, --observed-density, --predicted-density; give all four files or --predictions"
      ))
  }
}
