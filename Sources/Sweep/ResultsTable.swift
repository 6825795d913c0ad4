import Configuration
import Foundation
import TensorEngine

/// `sweep/results.csv`, `sweep/results.jsonl` and `sweep/summary.json`: one row per trial
/// that has ended (in trial order), rewritten whole and atomically each time one ends, so
/// that a reader never sees half a table.
struct ResultsTable {
  let directory: String
  let config: SweepConfig
  let trials: [Trial]

  private var parameterKeys: [String] { config.space.map(\.key) }

  func write(_ outcomes: [Int: TrialOutcome]) throws(SweepError) {
    let ended = outcomes.keys.sorted().map { (trials[$0], outcomes[$0]!) }
    var csv = (["trial", "status"] + parameterKeys + Self.measureColumns).joined(separator: ",")
    csv += "\n"
    var jsonl = ""
    for (trial, outcome) in ended {
      let cells =
        ["\(trial.index)", outcome.status.rawValue] + trial.values.map(\.value.yaml)
        + [
          outcome.bestValidationLoss.map { "\($0)" } ?? "",
          outcome.bestValidationAUC.map { "\($0)" } ?? "",
          outcome.testAUC.map { "\($0)" } ?? "",
          "\(outcome.epochs)", String(format: "%.1f", outcome.seconds), outcome.checkpoint ?? "",
          outcome.error ?? "",
        ]
      csv += cells.map(csvField).joined(separator: ",") + "\n"
      jsonl += try Self.json(Row(trial: trial, outcome: outcome)) + "\n"
    }
    try save(csv, as: "results.csv")
    try save(jsonl, as: "results.jsonl")
    try save(try Self.json(summary(outcomes), pretty: true) + "\n", as: "summary.json")
  }

  static let measureColumns = [
    "best_validation_loss", "best_validation_auc", "test_auc", "epochs", "seconds", "checkpoint",
    "error",
  ]

  /// The best trial by the sweep's metric among those with a score, and the counts.
  func summary(_ outcomes: [Int: TrialOutcome]) -> Summary {
    let scored = outcomes.compactMap { index, outcome in
      outcome.status == .failed ? nil : outcome.score(config.metric).map { (index, $0) }
    }
    let best = scored.min { a, b in
      guard a.1 == b.1 else { return config.metric.higherIsBetter ? a.1 > b.1 : a.1 < b.1 }
      return a.0 < b.0
    }
    var counts: [String: Int] = [:]
    for outcome in outcomes.values { counts[outcome.status.rawValue, default: 0] += 1 }
    counts["pending"] = trials.count - outcomes.count
    return Summary(
      metric: config.metric, stage: config.system == .ensemble ? config.stage : nil,
      trials: trials.count, counts: counts,
      best: best.map { Row(trial: trials[$0.0], outcome: outcomes[$0.0]!) })
  }

  /// The best trial among those that did not fail, and how many trials ended how.
  struct Summary: Encodable {
    let metric: SweepConfig.Metric
    /// The ensemble stage the metric follows (absent for classical sweeps).
    let stage: String?
    let trials: Int
    let counts: [String: Int]
    let best: Row?
  }

  /// A trial's parameters beside its outcome, as one JSON object.
  struct Row: Encodable {
    let trial: Trial
    let outcome: TrialOutcome

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: NamedKey.self)
      try container.encode(trial.index, forKey: NamedKey("trial"))
      var parameters = container.nestedContainer(
        keyedBy: NamedKey.self, forKey: NamedKey("parameters"))
      for (key, value) in trial.values { try parameters.encode(value, forKey: NamedKey(key)) }
      try outcome.encode(to: encoder)
    }

  }

  private static func json(_ value: some Encodable, pretty: Bool = false) throws(SweepError)
    -> String
  {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty
      ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      : [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw SweepError("cannot encode a results row: \(error)")
    }
  }

  private func save(_ text: String, as name: String) throws(SweepError) {
    let path = (directory as NSString).appendingPathComponent(name)
    do {
      try AtomicFile.write(Data(text.utf8), to: path)
    } catch {
      throw SweepError("\(path): \(error.message)")
    }
  }
}

extension SweepConfig.Metric: Encodable {}
