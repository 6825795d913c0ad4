import Foundation
import TestSupport
import Testing

/// The batch scripts in jobs/ submitted to a real single-node SLURM (tools/local-slurm),
/// started for these tests in a directory of their own.
@Suite(.serialized) struct SlurmJobTests {
  /// A running local cluster and the environment its clients need.
  final class Cluster {
    let directory: URL
    let environment: [String: String]

    init() throws {
      directory = try TestPaths.temporaryDirectory("slurm")
      // A port of its own, so that a cluster a user started elsewhere is left alone.
      let port = 20_000 + Int(getpid() % 20_000)
      let started = try Launcher.run(
        TestPaths.repositoryRoot.appendingPathComponent("tools/local-slurm").path,
        ["start", directory.path], environment: ["LOCAL_SLURM_PORT": "\(port)"], deadline: 120)
      guard started.status == 0 else {
        throw SlurmTestError("tools/local-slurm start failed: \(started.standardError)")
      }
      environment = ["SLURM_CONF": directory.appendingPathComponent("slurm.conf").path]
    }

    deinit {
      _ = try? Launcher.run(
        TestPaths.repositoryRoot.appendingPathComponent("tools/local-slurm").path,
        ["stop", directory.path], deadline: 120)
      try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a SLURM client (sbatch, scontrol, scancel) against this cluster.
    func run(
      _ command: String, _ arguments: [String], deadline: TimeInterval = Launcher.Deadline.tool
    ) throws -> Launcher.Result {
      try Launcher.run(
        "/usr/bin/env", [command] + arguments, environment: environment, deadline: deadline)
    }

    /// Submits jobs/train.sbatch on tiny.yaml as one rank with two threads.
    func submitTraining(runDirectory: URL, output: URL, wait: Bool, arguments: String = "")
      throws -> Launcher.Result
    {
      var options = [
        "--ntasks-per-node=1", "--cpus-per-task=2", "--output=\(output.path)",
        "--export=ALL,LANDSLIDE_BIN=\(Launcher.landslidePath),CONFIG=configs/tiny.yaml,"
          + "RUN_DIR=\(runDirectory.path),LANDSLIDE_ARGS=\(arguments)",
      ]
      options.append(wait ? "--wait" : "--parsable")
      return try run(
        "sbatch", options + ["jobs/train.sbatch"],
        deadline: wait ? Launcher.Deadline.slurmJob : Launcher.Deadline.tool)
    }

    /// Submits jobs/sweep.sbatch on sweep-tiny.yaml as two ranks (two groups), and waits.
    func submitSweep(runDirectory: URL, output: URL) throws -> Launcher.Result {
      try run(
        "sbatch",
        [
          "--ntasks-per-node=2", "--cpus-per-task=1", "--output=\(output.path)", "--wait",
          "--export=ALL,LANDSLIDE_BIN=\(Launcher.landslidePath),SWEEP=configs/sweep-tiny.yaml,"
            + "RUN_DIR=\(runDirectory.path)",
          "jobs/sweep.sbatch",
        ], deadline: Launcher.Deadline.slurmJob)
    }

    func state(of job: String) throws -> String {
      let shown = try run("scontrol", ["show", "job", "-o", job]).standardOutput
      return shown.split(separator: " ").first { $0.hasPrefix("JobState=") }.map(String.init)
        ?? "unknown"
    }
  }

  struct SlurmTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  /// `sbatch --wait jobs/train.sbatch` trains, checkpoints, scores and maps, and exits 0;
  /// then the same job, its batch shell sent SIGUSR1 mid-run (as `--signal=B:USR1@120` does
  /// before a time limit), checkpoints,
  /// requeues itself, resumes and ends with the uninterrupted job's weights, bit for bit.
  @Test func trainingJobRunsAndSurvivesPreemption() throws {
    let cluster = try Cluster()
    let whole = cluster.directory.appendingPathComponent("whole")
    let finished = try cluster.submitTraining(
      runDirectory: whole, output: cluster.directory.appendingPathComponent("whole.out"),
      wait: true)
    #expect(finished.status == 0, "\(finished.standardError)")
    for name in [
      "checkpoints/final.safetensors", "metrics.json", "metrics.jsonl", "maps/hazard.tif",
      "maps/quicklooks/susceptibility_period0.png",
    ] {
      #expect(
        FileManager.default.fileExists(atPath: whole.appendingPathComponent(name).path), "\(name)")
    }

    let preempted = cluster.directory.appendingPathComponent("preempted")
    let output = cluster.directory.appendingPathComponent("preempted.out")
    let submitted = try cluster.submitTraining(
      runDirectory: preempted, output: output, wait: false,
      arguments: "--set training.checkpoint_steps=3")
    let job = submitted.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(submitted.status == 0 && !job.isEmpty, "\(submitted.standardError)")
    #expect(
      SignalTests.waitForCheckpoint(
        in: preempted.appendingPathComponent("checkpoints"), seconds: 120))
    #expect(try cluster.run("scancel", ["--batch", "--signal=USR1", job]).status == 0)
    let deadline = Date().addingTimeInterval(300)
    var state = try cluster.state(of: job)
    while !["JobState=COMPLETED", "JobState=FAILED"].contains(state) && Date() < deadline {
      usleep(500_000)
      state = try cluster.state(of: job)
    }
    let log = try String(contentsOf: output, encoding: .utf8)
    #expect(state == "JobState=COMPLETED", "\(log)")
    #expect(log.contains("stopped on request"), "\(log)")
    #expect(log.contains("requeueing job \(job)"))
    #expect(log.contains("resuming from"))
    let expected = try ResumeTests.tensors(
      whole.appendingPathComponent("checkpoints/final.safetensors"))
    let actual = try ResumeTests.tensors(
      preempted.appendingPathComponent("checkpoints/final.safetensors"))
    let differing = expected.keys.filter { expected[$0] != actual[$0] }.sorted()
    #expect(expected.count > 100 && differing.isEmpty, "tensors that differ: \(differing)")
  }

  /// `sbatch --wait jobs/sweep.sbatch`: two ranks form two groups, every trial of the grid
  /// ends with a checkpoint, and the results table lists them all.
  @Test func sweepJobRunsEveryTrial() throws {
    let cluster = try Cluster()
    let run = cluster.directory.appendingPathComponent("sweep")
    let output = cluster.directory.appendingPathComponent("sweep.out")
    let finished = try cluster.submitSweep(runDirectory: run, output: output)
    let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    #expect(finished.status == 0, "\(finished.standardError)\n\(log)")
    #expect(log.contains("on 2 group(s) of 1 rank(s)"), "\(log)")
    let rows = try SweepCommandTests.rows(run)
    #expect(rows.map(\.trial) == [0, 1, 2, 3])
    #expect(rows.allSatisfy { $0.status == "completed" }, "\(rows)")
    for row in rows { #expect(FileManager.default.fileExists(atPath: row.checkpoint ?? "")) }
  }

  /// `sbatch --wait jobs/waveform.sbatch` on two ranks (a tiny scenario): the transformer
  /// trains data-parallel, checkpoints and scores its test split.
  @Test func waveformJobTrainsOnTwoRanks() throws {
    let cluster = try Cluster()
    let run = cluster.directory.appendingPathComponent("waveform")
    let output = cluster.directory.appendingPathComponent("waveform.out")
    let tiny = [
      "scenario.sites=80", "scenario.samples=128", "scenario.sample_rate=4",
      "scenario.max_distance_km=30", "model.encoder_blocks=1", "model.static_blocks=2",
      "model.static_output=16", "model.head_widths=[16]", "training.batch_size=8",
      "training.max_epochs=2",
    ].map { "--set \($0)" }.joined(separator: " ")
    let finished = try cluster.run(
      "sbatch",
      [
        "--ntasks-per-node=2", "--cpus-per-task=1", "--output=\(output.path)", "--wait",
        "--export=ALL,LANDSLIDE_BIN=\(Launcher.landslidePath),VARIANT=mod3,"
          + "RUN_DIR=\(run.path),LANDSLIDE_ARGS=\(tiny)",
        "jobs/waveform.sbatch",
      ], deadline: Launcher.Deadline.slurmJob)
    let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    #expect(finished.status == 0, "\(finished.standardError)\n\(log)")
    #expect(log.contains("on 2 rank(s)"), "\(log)")
    for name in ["checkpoints/final.safetensors", "metrics.json", "metrics.jsonl"] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), "\(name)")
    }
  }
}
