import Foundation
import TensorEngine
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Stopping training from outside: politely (SIGTERM, as SLURM does before a time limit)
/// and brutally (SIGKILL of one MPI rank).
@Suite struct SignalTests {
  /// Starts `landslide` (under mpirun on `mpiRanks` ranks) in the background, its output
  /// in `log`. The handle stops the whole tree if the test ends without waiting for it.
  static func start(_ arguments: [String], mpiRanks: Int? = nil, log: URL) throws -> ChildProcess {
    if let mpiRanks {
      return try ChildProcess.start(
        "/usr/bin/env",
        ["mpirun", "--oversubscribe", "-np", "\(mpiRanks)", Launcher.landslidePath] + arguments,
        environment: DataParallelTests.mpiEnvironment, standardOutput: log)
    }
    return try ChildProcess.start(Launcher.landslidePath, arguments, standardOutput: log)
  }

  /// Waits (up to `seconds`) until `directory` holds a step checkpoint.
  static func waitForCheckpoint(in directory: URL, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
      if names.contains(where: { $0.hasPrefix("step-") }) { return true }
      usleep(100_000)
    }
    return false
  }

  /// SIGTERM mid-run: the run checkpoints after its current step and exits 75; resumed, it
  /// ends with exactly the weights of a run that was never stopped.
  @Test func terminationCheckpointsAndResumesExactly() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let data = root.appendingPathComponent("data")
    let common = [
      "train", "--config", "configs/tiny.yaml", "--data", data.path, "--set",
      "training.checkpoint_steps=3",
    ]
    let whole = root.appendingPathComponent("whole")
    let reference = try Launcher.run(Launcher.landslidePath, common + ["--run-dir", whole.path])
    #expect(reference.status == 0, "\(reference.standardError)")

    let stopped = root.appendingPathComponent("stopped")
    let log = root.appendingPathComponent("log")
    let process = try Self.start(common + ["--run-dir", stopped.path], log: log)
    #expect(
      Self.waitForCheckpoint(in: stopped.appendingPathComponent("checkpoints"), seconds: 60))
    process.signal(SIGTERM)
    let status = try process.wait(deadline: 120)
    let output = try String(contentsOf: log, encoding: .utf8)
    #expect(status == 75, "\(output)")
    #expect(output.contains("stopped on request after step"))

    let resumed = try Launcher.run(
      Launcher.landslidePath, common + ["--run-dir", stopped.path, "--resume", "auto"])
    #expect(resumed.status == 0, "\(resumed.standardError)")
    #expect(resumed.standardOutput.contains("resuming from"))
    try ResumeTests.expectSameFinalWeights(whole, stopped, count: 100)
  }

  /// One of two ranks killed outright: the other does not wait forever in a collective;
  /// the whole job ends with an error well within a minute.
  @Test func killedRankEndsTheJob() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let run = root.appendingPathComponent("run")
    let process = try Self.start(
      [
        "train", "--config", "configs/tiny.yaml", "--run-dir", run.path, "--threads", "1",
        "--set", "training.max_epochs=1000", "--set", "training.patience=1000",
      ], mpiRanks: 2, log: root.appendingPathComponent("log"))
    #expect(Self.waitForCheckpoint(in: run.appendingPathComponent("checkpoints"), seconds: 120))
    // The ranks are the `landslide` processes whose parent is mpirun.
    let ranks = try Launcher.run(
      "/usr/bin/pgrep", ["-P", "\(process.pid)", "landslide"], deadline: Launcher.Deadline.tool
    )
    .standardOutput.split(separator: "\n").compactMap { Int32($0) }
    #expect(ranks.count == 2)
    let killed = Date()
    kill(ranks.last!, SIGKILL)
    let deadline = Date().addingTimeInterval(60)
    while process.isRunning && Date() < deadline { usleep(100_000) }
    let seconds = Date().timeIntervalSince(killed)
    if process.isRunning { process.signal(SIGINT) }
    let status = try process.wait(deadline: 60)
    #expect(seconds < 60, "the job still ran \(seconds) s after a rank was killed")
    #expect(status != 0)
  }
}

/// SLURM's warning signal (SIGUSR1, `--signal=USR1@…`) on two MPI ranks, for each trained
/// model: it reaches one rank only, both stop after the same step with a checkpoint and
/// exit 75, and `--resume auto` ends with the weights of a two-rank run never stopped.
@Suite struct TwoRankInterruptionTests {
  enum Model: String, CaseIterable, Sendable {
    case ensemble, transformer

    func arguments(data: URL) -> [String] {
      switch self {
      case .ensemble:
        [
          "train", "--config", "configs/tiny.yaml", "--data", data.path, "--threads", "1",
          "--set", "training.checkpoint_steps=1", "--set", "training.keep_checkpoints=1000",
        ]
      case .transformer:
        ["waveform", "train", "--variant", "mod3"] + WaveformCommandTests.tiny.dropLast(4) + [
          "--set", "training.max_epochs=8", "--set", "training.patience=8", "--set",
          "training.checkpoint_steps=1", "--set", "training.keep_checkpoints=1000", "--threads",
          "1",
        ]
      }
    }
  }

  @Test(arguments: Model.allCases)
  func usr1OnOneRankStopsBothAndResumesBitwise(_ model: Model) throws {
    let root = try TestPaths.temporaryDirectory("two-rank-usr1-\(model.rawValue)")
    defer { try? FileManager.default.removeItem(at: root) }
    let common = model.arguments(data: root.appendingPathComponent("data"))
    func mpirun(_ run: URL, _ extra: [String] = []) throws -> Launcher.Result {
      try Launcher.run(
        "/usr/bin/env",
        ["mpirun", "--oversubscribe", "-np", "2", Launcher.landslidePath] + common
          + ["--run-dir", run.path] + extra,
        environment: DataParallelTests.mpiEnvironment, deadline: Launcher.Deadline.mpi)
    }
    let whole = root.appendingPathComponent("whole")
    let reference = try mpirun(whole)
    #expect(reference.status == 0, "\(reference.standardError)")

    let stopped = root.appendingPathComponent("stopped")
    let log = root.appendingPathComponent("log")
    let process = try SignalTests.start(
      common + ["--run-dir", stopped.path], mpiRanks: 2, log: log)
    #expect(
      SignalTests.waitForCheckpoint(in: stopped.appendingPathComponent("checkpoints"), seconds: 120)
    )
    let ranks = try Launcher.run(
      "/usr/bin/pgrep", ["-P", "\(process.pid)", "landslide"], deadline: Launcher.Deadline.tool
    ).standardOutput.split(separator: "\n").compactMap { Int32($0) }
    #expect(ranks.count == 2)
    kill(try #require(ranks.last), SIGUSR1)
    let status = try process.wait(deadline: 300)
    let output = try String(contentsOf: log, encoding: .utf8)
    #expect(status == 75, "\(output)")
    #expect(output.contains("stopped on request after step"))

    let resumed = try mpirun(stopped, ["--resume", "auto"])
    #expect(resumed.status == 0, "\(resumed.standardError)")
    #expect(resumed.standardOutput.contains("resuming from"))
    try ResumeTests.expectSameFinalWeights(whole, stopped, count: 20)
  }
}
