import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `rainfall train` across MPI ranks and across runs: rank 0 hands the protocol's fits
/// out, every finished fit is recorded, and a stopped run resumes where it stopped, all
/// with the figures of one uninterrupted process.
@Suite struct RainfallRanksTests {
  /// The small country's events and a grid of 4 XGBoost points (2 repetitions: 40 fits
  /// with the others' 30).
  static func prepare(in root: URL) throws -> (events: URL, config: URL) {
    let events = try RainfallCommandTests.events(in: root)
    let config = try RainfallCommandTests.trainingConfig(
      in: root, repetitions: 2, xgboost: "{n_estimators: [20, 40], max_depth: [3, 6]}")
    return (events, config)
  }

  static func figures(_ output: String) throws -> [[String: Double]] {
    try output.split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      // Wall times differ from run to run; every figure must not.
      return object.compactMapValues { $0 as? Double }.filter { $0.key != "seconds" }
    }
  }

  static func recordedFits(_ run: URL) -> Int {
    let text =
      (try? String(contentsOf: run.appendingPathComponent("fits.jsonl"), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").count
  }

  @Test func twoRanksAndAStoppedRunGiveTheFiguresOfOne() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let (events, config) = try Self.prepare(in: root)
    func arguments(_ run: String) -> [String] {
      [
        "rainfall", "train", "--config", config.path, "--events", events.path, "--run-dir",
        root.appendingPathComponent(run).path, "--json", "--threads", "1",
      ]
    }
    let alone = try Launcher.run(Launcher.landslidePath, arguments("alone"))
    try #require(alone.status == 0, "\(alone.standardError)")
    let reference = try Self.figures(alone.standardOutput)
    #expect(reference.count == 5)
    #expect(Self.recordedFits(root.appendingPathComponent("alone")) == 70)

    let ranks = try ClassicalCommandTests.landslide(arguments("ranks"), ranks: 2)
    try #require(ranks.status == 0, "\(ranks.standardError)")
    #expect(ranks.standardError.contains("2 rank(s) × 1 thread(s)"), "\(ranks.standardError)")
    #expect(try Self.figures(ranks.standardOutput) == reference)
    #expect(Self.recordedFits(root.appendingPathComponent("ranks")) == 70)
    for model in ["xgboost", "random_forest"] {
      let file = "models/\(model).safetensors"
      #expect(
        try Data(contentsOf: root.appendingPathComponent("alone/\(file)"))
          == Data(contentsOf: root.appendingPathComponent("ranks/\(file)")), "\(file)")
    }

    // SIGTERM once a few fits are recorded: the fits running end, the job exits 75, and
    // the same command fits only what is left.
    let stopped = root.appendingPathComponent("stopped")
    let log = root.appendingPathComponent("log")
    let process = try SignalTests.start(arguments("stopped"), log: log)
    let deadline = Date().addingTimeInterval(120)
    while Self.recordedFits(stopped) < 3 && Date() < deadline && process.isRunning {
      usleep(20_000)
    }
    process.signal(SIGTERM)
    let status = try process.wait(deadline: 120)
    let output = try String(contentsOf: log, encoding: .utf8)
    let recorded = Self.recordedFits(stopped)
    #expect(status == 75, "\(output)")
    #expect(output.contains("stopped on request with \(recorded) of 70 fits recorded"), "\(output)")
    #expect(recorded >= 3 && recorded < 70)
    #expect(
      !FileManager.default.fileExists(atPath: stopped.appendingPathComponent("results.csv").path))
    let resumed = try Launcher.run(Launcher.landslidePath, arguments("stopped"))
    try #require(resumed.status == 0, "\(resumed.standardError)")
    #expect(
      resumed.standardError.contains(
        "70 fits: \(recorded) recorded by an earlier run, \(70 - recorded) to run"),
      "\(resumed.standardError)")
    #expect(try Self.figures(resumed.standardOutput) == reference)

    // Another protocol in the same run directory is refused, naming its plan.
    let other = try Launcher.run(
      Launcher.landslidePath, arguments("stopped") + ["--set", "training.seed=9"])
    #expect(other.status != 0)
    #expect(other.standardError.contains("fits_plan.json: the run directory holds the fits of"))
  }
}

extension SlurmJobTests {
  /// `sbatch --wait jobs/rainfall.sbatch` as two tasks on the small country: events, the
  /// protocol's fits on both ranks, the explanations and the threshold maps.
  @Test func rainfallJobRunsTheWholeChainOnTwoRanks() throws {
    let cluster = try Cluster()
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let country = try RainfallCommandTests.country(in: root)
    let config = try RainfallCommandTests.trainingConfig(
      in: root, repetitions: 1, xgboost: "{n_estimators: [20, 40], max_depth: [3]}")
    let run = root.appendingPathComponent("run")
    let output = root.appendingPathComponent("rainfall.out")
    let finished = try cluster.run(
      "sbatch",
      [
        "--ntasks-per-node=2", "--cpus-per-task=1", "--output=\(output.path)", "--wait",
        "--export=ALL,LANDSLIDE_BIN=\(Launcher.landslidePath),CONFIG=\(config.path),"
          + "DATA=\(country.path),RUN_DIR=\(run.path)",
        "jobs/rainfall.sbatch",
      ], deadline: Launcher.Deadline.slurmJob)
    let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    #expect(finished.status == 0, "\(finished.standardError)\n\(log)")
    #expect(log.contains("2 rank(s) × 1 thread(s)"), "\(log)")
    // Rank 0 alone reports each model once.
    #expect(log.components(separatedBy: "xgboost: AUC").count == 2, "\(log)")
    #expect(RainfallRanksTests.recordedFits(run) == 25, "\(log)")
    for name in [
      "events/events.safetensors", "results.csv", "models/xgboost.safetensors",
      "explain/shap.npy", "thresholds/thresholds.csv", "thresholds/threshold_p50.tif",
      "thresholds/threshold_p90.png",
    ] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path),
        "\(name)\n\(log)")
    }
  }
}
