import Configuration
import Distributed
import Evaluation
import Foundation
import TensorEngine

/// Test-split scores of one trained variant.
public struct WaveformVariantResult: Sendable {
  public var variant: WaveformVariant
  public var auc: Double
  /// Share of test sites classified correctly at p ≥ 0.5.
  public var accuracy: Double
  public var iou: Double
  public var f1: Double
  public var epochs: Int
  public var seconds: Double
  public var roc: ROCCurve

  /// The JSON object `waveform benchmark --json` prints per variant.
  public var json: [String: Any] {
    ["variant": variant.rawValue, "auc": auc, "accuracy": accuracy, "iou": iou, "f1": f1]
  }
}

/// The paper's comparison (SPEC.md §2): every variant trained on the same split from the same
/// seed, scored on the held-out test sites.
public enum WaveformBenchmark {
  /// Trains `variant` (checkpoints and metrics under `directory` when given) and scores it on
  /// the test split.
  public static func run(
    _ variant: WaveformVariant, config: WaveformConfig, data: WaveformDataset,
    split: WaveformSplit, directory: String?, communicator: Communicator?,
    log: @escaping (String) -> Void
  ) throws(TrainingError) -> WaveformVariantResult {
    let clock = ContinuousClock()
    let start = clock.now
    let trainer = try WaveformTrainer(
      config: config, variant: variant, data: data, split: split,
      metricsPath: directory.map { ($0 as NSString).appendingPathComponent("metrics.jsonl") },
      communicator: communicator, log: log)
    trainer.checkpointDirectory = directory.map {
      ($0 as NSString).appendingPathComponent("checkpoints")
    }
    try trainer.train()
    return try score(trainer, seconds: (clock.now - start).seconds)
  }

  /// The test-split metrics of a trained model.
  public static func score(_ trainer: WaveformTrainer, seconds: Double) throws(TrainingError)
    -> WaveformVariantResult
  {
    let sites = trainer.split.test
    let scores = try trainer.predict(sites)
    let labels = sites.map { trainer.inputs.labels[$0] }
    do {
      let roc = try ROCCurve(labels: labels, scores: scores)
      let counts = try ConfusionCounts(labels: labels, scores: scores, threshold: 0.5)
      return WaveformVariantResult(
        variant: trainer.description.variant, auc: roc.auc,
        accuracy: Double(counts.truePositives + counts.trueNegatives) / Double(labels.count),
        iou: counts.intersectionOverUnion, f1: counts.f1, epochs: trainer.records.count,
        seconds: seconds, roc: roc)
    } catch {
      throw TrainingError(
        "variant \(trainer.description.variant.rawValue): no test metrics (\(error)); the test "
          + "split needs both failed and stable sites")
    }
  }

  /// The results as CSV: variant, input, AUC, accuracy, IoU, F1, epochs, seconds.
  public static func table(_ results: [WaveformVariantResult]) -> String {
    var lines = ["variant,input,auc,accuracy,iou,f1,epochs,seconds"]
    for result in results {
      lines.append(
        [
          result.variant.rawValue, result.variant.summary,
          String(format: "%.4f", result.auc), String(format: "%.4f", result.accuracy),
          String(format: "%.4f", result.iou), String(format: "%.4f", result.f1),
          "\(result.epochs)", String(format: "%.1f", result.seconds),
        ].joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// All ROC curves on one plot.
  public static func figure(_ results: [WaveformVariantResult]) -> String {
    ROCFigure.svg(
      results.map { (name: "\($0.variant.rawValue) (\($0.variant.summary))", curve: $0.roc) },
      title: "Full-waveform transformer variants, test split")
  }
}
