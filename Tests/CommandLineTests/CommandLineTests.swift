import Foundation
import TestSupport
import Testing

@Suite struct CommandLineTests {
  @Test func versionIsPrinted() throws {
    let result = try Launcher.landslide("--version")
    #expect(result.status == 0)
    #expect(result.standardOutput == "0.1.0\n")
  }

  @Test func helpSummarisesEverySubcommand() throws {
    let result = try Launcher.landslide("--help")
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("info                    Report library versions"))
    #expect(result.standardOutput.contains("config                  Validate YAML run configs."))
  }

  @Test func configCheckAcceptsTheShippedExample() throws {
    let result = try Launcher.landslide("config", "check", "configs/ensemble.yaml")
    #expect(result.status == 0)
    #expect(result.standardOutput.hasPrefix("configs/ensemble.yaml: valid\n"))
    #expect(result.standardOutput.contains("blocks per stage 3-4-6-3 (16 blocks)"))
  }

  @Test func configCheckAppliesOverrides() throws {
    let result = try Launcher.landslide(
      "config", "check", "configs/ensemble.yaml", "--set", "training.batch_size=64", "--set",
      "susceptibility.blocks_per_stage=[1, 1, 2, 2]")
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("training: batch 64,"))
    #expect(result.standardOutput.contains("blocks per stage 1-1-2-2 (6 blocks)"))
  }

  @Test func configCheckReportsTheProblemAndFails() throws {
    let result = try Launcher.landslide(
      "config", "check", "configs/ensemble.yaml", "--set", "training.learning_rate=fast")
    #expect(result.status == 64)
    #expect(
      result.standardError.contains(
        "--set training.learning_rate=fast: training.learning_rate: expected a number > 0 and ≤ 10, found 'fast'"
      ))
  }
}

/// The documented exit statuses: 64 for what the user must fix in the command or config,
/// 1 for other failures (75, interrupted, is the signal tests' part).
@Suite struct ExitStatusTests {
  @Test func usageAndConfigProblemsExit64() throws {
    let missingOption = try Launcher.landslide("train", "--config", "configs/tiny.yaml")
    #expect(missingOption.status == 64, "\(missingOption.standardError)")
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let missingFile = try Launcher.landslide(
      "train", "--config", "configs/none.yaml", "--run-dir", root.path)
    #expect(missingFile.status == 64)
    #expect(missingFile.standardError.contains("configs/none.yaml"))
    // A fresh run into a folder that holds another run's checkpoints.
    let checkpoints = root.appendingPathComponent("checkpoints")
    try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
    #expect(
      FileManager.default.createFile(
        atPath: checkpoints.appendingPathComponent("step-00000007.safetensors").path, contents: nil)
    )
    let occupied = try Launcher.landslide(
      "train", "--config", "configs/tiny.yaml", "--run-dir", root.path)
    #expect(occupied.status == 64)
    #expect(occupied.standardError.contains("already holds checkpoints of a run"))
    // A scenario the config cannot make (records shorter than the waves).
    let tooShort = try Launcher.landslide(
      "waveform", "train", "--variant", "mod4", "--run-dir",
      root.appendingPathComponent("short").path, "--set", "scenario.samples=128")
    #expect(tooShort.status == 64)
    #expect(tooShort.standardError.contains("config section scenario"))
  }

  @Test func aCorruptCheckpointToResumeExits1NamingIt() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let bad = root.appendingPathComponent("bad.safetensors")
    try Data("not a safetensors file".utf8).write(to: bad)
    let result = try Launcher.run(
      Launcher.landslidePath,
      ["waveform", "train", "--variant", "mod4", "--run-dir", root.path, "--resume", bad.path]
        + WaveformCommandTests.tiny)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(result.standardError.contains(bad.path))
  }
}

/// `landslide bench` prints the documented figures (their values are the benchmark's job,
/// on a release build; here the debug build runs a tiny configuration).
@Suite struct BenchCommandTests {
  @Test func jsonLinesCarryTheDocumentedKeys() throws {
    let result = try Launcher.landslide(
      "bench", "--network", "density", "--batch", "4", "--steps", "1", "--warmup", "1",
      "--threads", "2", "--json")
    #expect(result.status == 0, "\(result.standardError)")
    let object =
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
    let keys = Set(object?.keys.map { $0 } ?? [])
    #expect(
      keys.isSuperset(of: [
        "network", "params", "batch", "threads", "samples_per_s", "gflops", "peak_rss_mb",
        "allocs_per_step",
      ]))
    #expect(object?["network"] as? String == "density")
    #expect(object?["params"] as? Int == 682_241)
    #expect(object?["batch"] as? Int == 4)
    #expect((object?["samples_per_s"] as? Double ?? 0) > 0)
    // The counter library is built beside the binary, so allocations are counted (≥ 0), not -1.
    #expect((object?["allocs_per_step"] as? Double ?? -1) >= 0)
  }

  @Test func badBlocksAreRejected() throws {
    let result = try Launcher.landslide("bench", "--blocks", "3,4,6")
    #expect(result.status != 0)
    #expect(result.standardError.contains("--blocks: expected four positive counts"))
  }
}
