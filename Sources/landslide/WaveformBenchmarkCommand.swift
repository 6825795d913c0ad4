import ArgumentParser
import Configuration
import Distributed
import Foundation
import TensorEngine
import Training

/// `landslide waveform benchmark`: the paper's comparison of the variants.
struct WaveformBenchmarkCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "benchmark",
    abstract: "Train every variant on the same split from the same seed; tabulate test metrics.",
    discussion: """
      Writes into --out: benchmark.csv (variant, input, AUC, accuracy, IoU, F1 at p ≥ 0.5, \
      epochs, seconds), roc.svg (every variant's ROC curve on the test split) and per \
      variant VARIANT/metrics.jsonl and VARIANT/checkpoints/. Without --data it uses the \
      config's synthetic scenario (configs/waveform.yaml: 20,000 sites × 512 samples at 5 Hz, \
      sized for a run of about ten minutes on two cores; --set scenario.samples=6513 for the \
      paper's length).
      """)

  @OptionGroup var options: WaveformDataOptions

  @Option(help: "Directory for the table, the figure and the variants' runs.")
  var out: String

  @Option(
    parsing: .upToNextOption,
    help: "Variants to train, in order (default: all six).")
  var variants: [WaveformVariant] = WaveformVariant.allCases

  @Flag(
    help: "Print one JSON object per variant (variant, auc, accuracy, iou, f1) and nothing else.")
  var json = false

  func run() throws {
    try runOnRanks(benchmark)
  }

  private func benchmark(_ world: Communicator?) throws {
    ThreadPool.shared.threadCount = options.threads
    let rank = world?.rank ?? 0
    let say: (String) -> Void = { if rank == 0 && !json { print($0) } }
    let (config, data, split) = try options.load()
    if rank == 0 {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    }
    say(
      "\(data.sites) sites × \(data.records.samples) samples; split \(split.train.count) / "
        + "\(split.validation.count) / \(split.test.count) (train / validation / test)")
    var results: [WaveformVariantResult] = []
    for variant in variants {
      let directory = (out as NSString).appendingPathComponent(variant.rawValue)
      let result = try WaveformBenchmark.run(
        variant, config: config, data: data, split: split, directory: directory,
        communicator: world, log: say)
      results.append(result)
      say(
        "\(variant.rawValue): "
          + String(
            format: "AUC %.3f, accuracy %.3f, IoU %.3f, F1 %.3f (%d epochs, %.0f s)", result.auc,
            result.accuracy, result.iou, result.f1, result.epochs, result.seconds))
      if rank == 0 && json {
        let line = try JSONSerialization.data(withJSONObject: result.json, options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
      }
    }
    guard rank == 0 else { return }
    let table = (out as NSString).appendingPathComponent("benchmark.csv")
    let figure = (out as NSString).appendingPathComponent("roc.svg")
    try AtomicFile.write(Data(WaveformBenchmark.table(results).utf8), to: table)
    try AtomicFile.write(Data(WaveformBenchmark.figure(results).utf8), to: figure)
    say("table \(table), ROC curves \(figure)")
  }
}
