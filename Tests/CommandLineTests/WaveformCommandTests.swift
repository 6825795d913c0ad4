import Foundation
import TestSupport
import Testing

/// `landslide waveform …` end to end on a tiny scenario and network (seconds in a debug build).
@Suite struct WaveformCommandTests {
  static let tiny = [
    "--set", "scenario.sites=80", "--set", "scenario.samples=128", "--set",
    "scenario.sample_rate=4", "--set", "scenario.magnitude=6", "--set",
    "scenario.max_distance_km=30", "--set", "model.encoder_blocks=1", "--set",
    "model.static_blocks=2", "--set", "model.static_output=16", "--set", "model.head_widths=[16]",
    "--set", "training.batch_size=8", "--set", "training.max_epochs=1", "--threads", "2",
  ]

  @Test func benchmarkJSONLinesCarryTheDocumentedKeys() throws {
    let out = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try Launcher.run(
      Launcher.landslidePath,
      ["waveform", "benchmark", "--out", out.path, "--json"] + Self.tiny)
    #expect(result.status == 0, "\(result.standardError)")
    let lines = result.standardOutput.split(separator: "\n")
    #expect(lines.count == 6)
    var variants: [String] = []
    for line in lines {
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(Set(object.keys) == ["variant", "auc", "accuracy", "iou", "f1"])
      variants.append(try #require(object["variant"] as? String))
    }
    #expect(variants == ["mod1", "mod2", "mod3", "mod4", "arias", "lowpass"])
    let table = try String(
      contentsOf: out.appendingPathComponent("benchmark.csv"), encoding: .utf8)
    #expect(table.hasPrefix("variant,input,auc,accuracy,iou,f1,epochs,seconds\n"))
    let figure = try String(contentsOf: out.appendingPathComponent("roc.svg"), encoding: .utf8)
    #expect(figure.contains("lowpass"))
  }

  @Test func synthTrainAndExplainChain() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let data = directory.appendingPathComponent("data").path
    let run = directory.appendingPathComponent("run").path
    let explained = directory.appendingPathComponent("explained").path
    let synth = try Launcher.run(
      Launcher.landslidePath,
      ["waveform", "synth", "--out", data] + Self.tiny.filter { $0 != "--threads" && $0 != "2" })
    #expect(synth.status == 0, "\(synth.standardError)")
    let train = try Launcher.run(
      Launcher.landslidePath,
      ["waveform", "train", "--variant", "mod3", "--data", data, "--run-dir", run] + Self.tiny)
    #expect(train.status == 0, "\(train.standardError)")
    #expect(train.standardOutput.contains("test split (24 sites): AUC"))
    let explain = try Launcher.run(
      Launcher.landslidePath,
      [
        "waveform", "explain", "--checkpoint", run + "/checkpoints/final.safetensors",
        "--series", data + "/series.npy", "--static", data + "/static.npy", "--sites", "0", "5",
        "--out", explained,
      ])
    #expect(explain.status == 0, "\(explain.standardError)")
    for name in ["scores.npy", "probability.npy", "pgv_time.npy", "explanation.svg"] {
      #expect(FileManager.default.fileExists(atPath: explained + "/" + name), "\(name)")
    }
    let missingStatic = try Launcher.run(
      Launcher.landslidePath,
      [
        "waveform", "explain", "--checkpoint", run + "/checkpoints/final.safetensors",
        "--series", data + "/series.npy", "--out", explained,
      ])
    #expect(missingStatic.status != 0)
    #expect(
      missingStatic.standardError.contains("--static: variant mod3 reads 5 static covariates"))
  }
}

/// The transformer under mpirun: two ranks of half a batch each average the same
/// gradients as one process over the whole batch.
@Suite struct WaveformDataParallelTests {
  /// mod1 (waveform only: layer norms, no batch norm) without dropout, so that nothing
  /// depends on the rank: the training and validation losses of one process and of two
  /// ranks agree to float rounding, epoch by epoch.
  @Test func twoRanksTrainLikeOneProcess() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    var tiny = WaveformCommandTests.tiny
    tiny.removeLast(2)  // --threads 2: one thread per rank below
    let arguments =
      ["waveform", "train", "--variant", "mod1", "--threads", "1"] + tiny + [
        "--set", "training.max_epochs=3", "--set", "model.encoder_dropout=0", "--set",
        "model.head_dropout=0",
      ]
    func losses(_ run: URL) throws -> [[Double]] {
      try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        .split(separator: "\n").map { line in
          let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
          return [
            try #require(object["train_loss"] as? Double),
            try #require(object["validation_loss"] as? Double),
          ]
        }
    }
    let single = root.appendingPathComponent("single")
    let one = try Launcher.run(Launcher.landslidePath, arguments + ["--run-dir", single.path])
    #expect(one.status == 0, "\(one.standardError)")
    let pair = root.appendingPathComponent("pair")
    let two = try Launcher.run(
      "/usr/bin/env",
      ["mpirun", "--oversubscribe", "-np", "2", Launcher.landslidePath] + arguments + [
        "--run-dir", pair.path,
      ], environment: DataParallelTests.mpiEnvironment, deadline: Launcher.Deadline.mpi)
    #expect(two.status == 0, "\(two.standardError)")
    let expected = try losses(single)
    let actual = try losses(pair)
    #expect(expected.count == 3 && actual.count == 3)
    for (a, b) in zip(expected.joined(), actual.joined()) {
      #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "one process \(expected), two ranks \(actual)")
    }
  }
}
