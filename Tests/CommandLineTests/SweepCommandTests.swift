import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `landslide sweep` end to end under mpirun: groups, interruption and resumption, failed
/// trials, and the checks made before any training.
@Suite(.serialized) struct SweepCommandTests {
  /// One row of results.jsonl, the fields these tests compare.
  struct Row: Decodable, Equatable {
    let trial: Int
    let status: String
    let seconds: Double
    let epochs: Int
    let checkpoint: String?
    let error: String?
    let bestValidationLoss: Double?
    let bestValidationAuc: Double?
    let foldAucs: [Double]?
    let testAuc: Double?
  }

  static func rows(_ runDirectory: URL) throws -> [Row] {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let text = try String(
      contentsOf: runDirectory.appendingPathComponent("sweep/results.jsonl"), encoding: .utf8)
    return try text.split(separator: "\n").map { try decoder.decode(Row.self, from: Data($0.utf8)) }
  }

  static func sweep(_ arguments: [String], ranks: Int) throws -> Launcher.Result {
    let command = ["sweep", "--threads", "1"] + arguments
    guard ranks > 0 else {
      return try Launcher.run(Launcher.landslidePath, command, deadline: Launcher.Deadline.sweep)
    }
    return try Launcher.run(
      "/usr/bin/env",
      ["mpirun", "--oversubscribe", "-np", "\(ranks)", Launcher.landslidePath] + command,
      environment: DataParallelTests.mpiEnvironment, deadline: Launcher.Deadline.sweep)
  }

  /// configs/sweep-tiny.yaml on three ranks (three groups): once straight through, and once
  /// stopped with SIGUSR1 when the first trial has ended, then run again. The second run
  /// leaves the trials that had ended untouched, resumes the others from their checkpoints,
  /// and ends with the same results as the uninterrupted sweep.
  @Test func interruptedSweepResumesToTheSameResults() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let data = root.appendingPathComponent("data")
    let whole = root.appendingPathComponent("whole")
    let common = ["--config", "configs/sweep-tiny.yaml", "--data", data.path]
    let reference = try Self.sweep(common + ["--run-dir", whole.path], ranks: 3)
    #expect(reference.status == 0, "\(reference.standardError)")
    let expected = try Self.rows(whole)
    #expect(expected.map(\.trial) == [0, 1, 2, 3])
    #expect(expected.allSatisfy { $0.status == "completed" && $0.epochs == 2 })
    for row in expected {
      #expect(FileManager.default.fileExists(atPath: row.checkpoint ?? ""))
    }
    let csv = try String(
      contentsOf: whole.appendingPathComponent("sweep/results.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 5)
    #expect(csv.hasPrefix("trial,status,susceptibility.blocks_total,training.learning_rate,"))
    #expect(reference.standardOutput.contains("on 3 group(s) of 1 rank(s)"))
    // Three groups trained side by side: trials 0–2 were handed out before any ended.
    let lines = reference.standardOutput.split(separator: "\n")
    let firstEnd = lines.firstIndex { $0.contains(" completed after ") } ?? 0
    #expect(
      lines[..<firstEnd].filter { $0.hasPrefix("trial ") && $0.contains(" on group ") }.count == 3)

    let stopped = root.appendingPathComponent("stopped")
    let log = root.appendingPathComponent("log")
    let process = try SignalTests.start(
      ["sweep", "--threads", "1", "--run-dir", stopped.path] + common, mpiRanks: 3, log: log)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline,
      !((try? Self.rows(stopped)) ?? []).contains(where: { $0.status == "completed" })
    {
      usleep(50_000)
    }
    // Every rank is signalled, as SLURM does (mpirun here inherits the test runner's
    // signal mask, with SIGUSR1 blocked, so it would not pass the signal on).
    let ranks = try Launcher.run(
      "/usr/bin/pgrep", ["-P", "\(process.pid)", "landslide"], deadline: Launcher.Deadline.tool
    )
    .standardOutput.split(separator: "\n").compactMap { Int32($0) }
    #expect(ranks.count == 3)
    for rank in ranks { kill(rank, SIGUSR1) }
    let status = try process.wait(deadline: 300)
    let output = try String(contentsOf: log, encoding: .utf8)
    #expect(status == 75, "\(output)")
    let before = try Self.rows(stopped)
    let ended = before.filter { $0.status == "completed" }
    #expect(!ended.isEmpty && ended.count < 4, "\(output)")
    // Trials 2 and 3 (six blocks) run longest: at least one was stopped mid-way.
    let resumable = before.filter { $0.status == "interrupted" && $0.checkpoint != nil }
    #expect(!resumable.isEmpty, "\(before)")

    let again = try Self.sweep(common + ["--run-dir", stopped.path], ranks: 3)
    #expect(again.status == 0, "\(again.standardError)")
    #expect(again.standardOutput.contains("\(ended.count) ended in an earlier run"))
    let after = try Self.rows(stopped)
    // Ended trials were not trained again: their rows are unchanged.
    for row in ended { #expect(after[row.trial] == row) }
    for row in resumable {
      let trialLog = try String(
        contentsOf: stopped.appendingPathComponent(
          String(format: "sweep/trials/%04d/log.txt", row.trial)),
        encoding: .utf8)
      #expect(trialLog.contains("resuming from"), "trial \(row.trial)")
    }
    #expect(after.map(\.status) == Array(repeating: "completed", count: 4))
    #expect(after.map(\.bestValidationLoss) == expected.map(\.bestValidationLoss))
    #expect(after.map(\.bestValidationAuc) == expected.map(\.bestValidationAuc))
  }

  /// Four ranks as two groups of two (rank 0's coordinator thread serving the other group
  /// while rank 0 trains data-parallel in its own), with successive halving: a trial whose
  /// checkpoint folder cannot be made fails on both ranks of its group alike, is recorded
  /// as failed with the reason, and the sweep goes on.
  @Test func failedTrialIsRecordedAndTheSweepGoesOn() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("sweep.yaml")
    try """
    base: \(TestPaths.repositoryRoot.path)/configs/tiny.yaml
    set: {density.stage_epochs: [0, 0, 0], density.joint_epochs: 0}
    groups: 2
    successive_halving: {min_epochs: 1, reduction_factor: 2}
    space:
      training.learning_rate: [1.0e-3, 1.0e-2, 3.0e-3]
    """.write(to: file, atomically: true, encoding: .utf8)
    let run = root.appendingPathComponent("run")
    let blocked = run.appendingPathComponent("sweep/trials/0001")
    try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(
      atPath: blocked.appendingPathComponent("checkpoints").path, contents: Data())
    let result = try Self.sweep(["--config", file.path, "--run-dir", run.path], ranks: 4)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("on 2 group(s) of 2 rank(s)"))
    #expect(result.standardOutput.contains(" on group 1: "))
    let rows = try Self.rows(run)
    #expect(rows.map(\.trial) == [0, 1, 2])
    #expect(rows[0].status == "completed")
    #expect(rows[1].status == "failed")
    #expect(rows[1].error?.contains("sweep/trials/0001/checkpoints") ?? false, "\(rows[1])")
    #expect(rows[2].status != "failed")
    let summary = try String(
      contentsOf: run.appendingPathComponent("sweep/summary.json"), encoding: .utf8)
    #expect(summary.contains("\"failed\" : 1"))
  }

  /// One process, trials one after another, so successive halving decides in trial order:
  /// on sweep-tiny's grid with η = 2 each trial goes past epoch 1 only while fewer than
  /// max(1, ⌊n/2⌋) of the n epoch-1 AUCs recorded so far (its own included) beat it, and a
  /// trial that goes on trains to the end. The expected statuses are worked out here from
  /// the AUCs the trials logged, not from a training trajectory. A trial left `running` by
  /// a process that died is resumed until it has done so `max_crashes` times, then
  /// recorded as failed.
  @Test func successiveHalvingStopsLosersAndCrashesAreCounted() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let tiny = try String(
      contentsOf: TestPaths.repositoryRoot.appendingPathComponent("configs/sweep-tiny.yaml"),
      encoding: .utf8)
    let file = root.appendingPathComponent("sweep.yaml")
    try tiny.replacingOccurrences(
      of: "base: tiny.yaml", with: "base: \(TestPaths.repositoryRoot.path)/configs/tiny.yaml"
    )
    .appending("successive_halving: {min_epochs: 1, reduction_factor: 2}\nmax_crashes: 2\n")
    .write(to: file, atomically: true, encoding: .utf8)
    let run = root.appendingPathComponent("run")
    let arguments = ["--config", file.path, "--run-dir", run.path]
    let first = try Self.sweep(arguments, ranks: 0)
    #expect(first.status == 0, "\(first.standardError)")
    let rows = try Self.rows(run)
    #expect(rows.map(\.trial) == [0, 1, 2, 3])
    var rung: [Double] = []
    var expected: [String] = []
    for row in rows {
      let metrics = try String(
        contentsOf: run.appendingPathComponent(
          String(format: "sweep/trials/%04d/metrics.jsonl", row.trial)), encoding: .utf8)
      let firstEpoch = try #require(metrics.split(separator: "\n").first)
      let record = try JSONSerialization.jsonObject(with: Data(firstEpoch.utf8)) as! [String: Any]
      let auc = try #require(record["validation_auc"] as? Double)
      rung.append(auc)
      let better = rung.filter { $0 > auc }.count
      expected.append(better < max(1, rung.count / 2) ? "completed" : "pruned")
    }
    #expect(rows.map(\.status) == expected, "epoch-1 AUCs \(rung): \(first.standardOutput)")
    #expect(rows[0].status == "completed")
    for row in rows {
      #expect(row.epochs == (row.status == "pruned" ? 1 : 2))
      #expect(FileManager.default.fileExists(atPath: row.checkpoint ?? ""))
    }
    if expected.contains("pruned") {
      #expect(first.standardOutput.contains("stopped by successive halving"))
    }

    // Trial 1 as a process that died would leave it: still running, once crashed before.
    let result = run.appendingPathComponent("sweep/trials/0001/result.json")
    let text = try String(contentsOf: result, encoding: .utf8)
      .replacingOccurrences(of: "\"\(rows[1].status)\"", with: "\"running\"")
      .replacingOccurrences(of: "\"crashes\" : 0", with: "\"crashes\" : 1")
    try text.write(to: result, atomically: true, encoding: .utf8)
    let second = try Self.sweep(arguments, ranks: 0)
    #expect(second.status == 0, "\(second.standardError)")
    #expect(
      second.standardOutput.contains("4 ended in an earlier run, 0 to run"),
      "\(second.standardOutput)")
    let after = try Self.rows(run)
    #expect(after[1].status == "failed")
    #expect(after[1].error?.contains("ended without a result in 2 runs") ?? false, "\(after[1])")
  }

  /// A dry run checks the sweep against the planned job size and lists what each trial
  /// will override, without writing anything.
  @Test func dryRunListsTrialsAndWritesNothing() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let run = root.appendingPathComponent("run")
    let listed = try Launcher.landslide(
      "sweep", "--config", "configs/sweep-tiny.yaml", "--run-dir", run.path, "--dry-run",
      "--ranks", "4")
    #expect(listed.status == 0, "\(listed.standardError)")
    #expect(listed.standardOutput.contains("4 trials (grid) on 4 group(s) of 1 rank(s)"))
    #expect(
      listed.standardOutput.contains(
        "trial 2: --set susceptibility.blocks_per_stage=[1, 2, 2, 1] --set training.learning_rate=0.001"
      ), "\(listed.standardOutput)")
    #expect(!FileManager.default.fileExists(atPath: run.path))
  }

  /// A classical sweep (a random forest over a 2 × 2 grid, 3 folds, on a 200 × 200 area)
  /// on one process, on two ranks as two groups, and on two ranks as one group (each
  /// forest's trees split over them): the same fold AUCs, test AUCs and model files. A
  /// model the base config lacks is refused before anything is written.
  @Test func classicalSweepIsTheSameOnAnyLayoutOfRanks() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let data = root.appendingPathComponent("data")
    try ClassicalCommandTests.synth(data, width: 200, height: 200)
    _ = try ClassicalCommandTests.config(
      "tables: {random_rows: 3000}\nmodels: {random_forest: {trees: 6}}\n", in: root,
      name: "base.yaml")
    let sweep = """
      system: classical
      base: base.yaml
      model: random_forest
      folds: 3
      space:
        models.random_forest.trees: [3, 6]
        models.random_forest.min_samples_leaf: [1, 5]

      """
    let twoGroups = try ClassicalCommandTests.config(sweep, in: root, name: "sweep.yaml")
    let oneGroup = try ClassicalCommandTests.config(
      sweep + "groups: 1\n", in: root, name: "one-group.yaml")
    var results: [[Row]] = []
    for (name, file, ranks) in [
      ("one", twoGroups, 0), ("two", twoGroups, 2), ("pair", oneGroup, 2),
    ] {
      let run = root.appendingPathComponent(name)
      let result = try Self.sweep(
        ["--config", file, "--run-dir", run.path, "--data", data.path], ranks: ranks)
      try #require(result.status == 0, "\(name): \(result.standardError)")
      results.append(try Self.rows(run))
    }
    let reference = results[0]
    #expect(reference.map(\.trial) == [0, 1, 2, 3])
    for row in reference {
      #expect(row.status == "completed" && row.epochs == 3 && row.foldAucs?.count == 3)
      let mean = (row.foldAucs ?? []).reduce(0, +) / 3
      #expect(abs((row.bestValidationAuc ?? 0) - mean) < 1e-12)
      #expect((row.testAuc ?? 0) > 0.75, "trial \(row.trial): \(row)")
    }
    for rows in results.dropFirst() {
      #expect(rows.map(\.foldAucs) == reference.map(\.foldAucs))
      #expect(rows.map(\.testAuc) == reference.map(\.testAuc))
      for (row, first) in zip(rows, reference) {
        let model = try Data(contentsOf: URL(fileURLWithPath: try #require(row.checkpoint)))
        #expect(model == (try Data(contentsOf: URL(fileURLWithPath: first.checkpoint!))))
      }
    }

    let wrong = try ClassicalCommandTests.config(
      sweep.replacingOccurrences(of: "model: random_forest", with: "model: knn"), in: root,
      name: "wrong.yaml")
    let run = root.appendingPathComponent("wrong")
    let refused = try Self.sweep(
      ["--config", wrong, "--run-dir", run.path, "--data", data.path], ranks: 0)
    #expect(refused.status != 0)
    #expect(
      refused.standardError.contains("model: \(root.path)/base.yaml configures no model 'knn'"),
      "\(refused.standardError)")
    #expect(!FileManager.default.fileExists(atPath: run.path))

    // The shipped classical grid: every trial's config checked against classical.yaml.
    let classical = try Launcher.landslide(
      "sweep", "--config", "configs/sweep-classical.yaml", "--run-dir", run.path, "--dry-run")
    #expect(classical.status == 0, "\(classical.standardError)")
    #expect(classical.standardOutput.contains("12 trials (grid) on 1 group(s) of 1 rank(s)"))
    #expect(!FileManager.default.fileExists(atPath: run.path))
  }

  /// Mistakes that would waste an allocation are refused before any data or training.
  @Test func invalidSweepsStopBeforeTraining() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    func attempt(_ text: String, ranks: Int) throws -> String {
      let file = root.appendingPathComponent("sweep.yaml")
      try ("base: \(TestPaths.repositoryRoot.path)/configs/tiny.yaml\n" + text)
        .write(to: file, atomically: true, encoding: .utf8)
      let run = root.appendingPathComponent("run")
      let result = try Self.sweep(["--config", file.path, "--run-dir", run.path], ranks: ranks)
      #expect(result.status != 0)
      #expect(
        !FileManager.default.fileExists(atPath: run.path), "a refused sweep wrote \(run.path)")
      return result.standardError
    }
    #expect(try attempt("space: {}\n", ranks: 0).contains("the search space is empty"))
    #expect(
      try attempt("groups: 2\nspace: {training.seed: [1, 2]}\n", ranks: 0)
        .contains("groups: 2 groups need at least 2 ranks; this job has 1"))
    #expect(
      try attempt("groups: 1\nspace: {training.batch_size: [4, 6]}\n", ranks: 4)
        .contains(
          "trial 1 (training.batch_size=6): training.batch_size 6 is a group's global batch and must be a multiple of its 4 ranks"
        ))
  }
}
