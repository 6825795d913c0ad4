import Foundation
import TensorEngine
import TestSupport
import Testing

/// A training run restarted from its checkpoints ends exactly where the uninterrupted run
/// ends.
@Suite struct ResumeTests {
  static func train(_ run: URL, data: URL, _ extra: [String] = []) throws -> Launcher.Result {
    try Launcher.run(
      Launcher.landslidePath,
      [
        "train", "--config", "configs/tiny.yaml", "--run-dir", run.path, "--data", data.path,
        "--set", "training.keep_checkpoints=100",
      ] + extra)
  }

  /// Expects the final checkpoints of two run directories to hold bitwise the same tensors
  /// (at least `count` of them).
  static func expectSameFinalWeights(_ expectedRun: URL, _ actualRun: URL, count: Int) throws {
    let final = "checkpoints/final.safetensors"
    let expected = try tensors(expectedRun.appendingPathComponent(final))
    let actual = try tensors(actualRun.appendingPathComponent(final))
    let differing = expected.keys.filter { expected[$0] != actual[$0] }.sorted()
    #expect(expected.count > count && differing.isEmpty, "tensors that differ: \(differing)")
  }

  static func tensors(_ path: URL) throws -> [String: [Float]] {
    let file = try SafeTensorsFile(path: path.path)
    var result: [String: [Float]] = [:]
    for name in file.tensors.keys { result[name] = Array(try file.floats(name)) }
    return result
  }

  /// The uninterrupted run keeps every checkpoint; a second run directory holds two of them
  /// (mid-way through the density curriculum), the newer one corrupted: `--resume auto`
  /// reports it by name, continues from the older one, and its final weights are bitwise
  /// those of the uninterrupted run. A checkpoint made with another config is refused
  /// unless `--force`.
  @Test func resumedRunEndsBitwiseIdentical() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let data = root.appendingPathComponent("data")
    let whole = root.appendingPathComponent("whole")
    let first = try Self.train(whole, data: data)
    #expect(first.status == 0, "\(first.standardError)")
    let steps = try FileManager.default.contentsOfDirectory(
      atPath: whole.appendingPathComponent("checkpoints").path
    ).filter { $0.hasPrefix("step-") }.sorted()
    #expect(steps.count >= 6)

    let resumed = root.appendingPathComponent("resumed")
    let checkpoints = resumed.appendingPathComponent("checkpoints")
    try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
    let (older, newer) = (steps[steps.count / 2 - 1], steps[steps.count / 2])
    for name in [older, newer] {
      try FileManager.default.copyItem(
        at: whole.appendingPathComponent("checkpoints/\(name)"),
        to: checkpoints.appendingPathComponent(name))
    }
    var bytes = try Data(contentsOf: checkpoints.appendingPathComponent(newer))
    bytes[bytes.count - 5] ^= 0x40
    try bytes.write(to: checkpoints.appendingPathComponent(newer))

    let refused = try Self.train(
      resumed, data: data, ["--resume", "auto", "--set", "training.learning_rate=0.01"])
    #expect(refused.status != 0)
    #expect(refused.standardError.contains("made with a different config"))

    let second = try Self.train(resumed, data: data, ["--resume", "auto"])
    #expect(second.status == 0, "\(second.standardError)")
    #expect(second.standardError.contains(newer) && second.standardError.contains("checksum"))
    #expect(second.standardOutput.contains("resuming from \(checkpoints.path)/\(older)"))
    try Self.expectSameFinalWeights(whole, resumed, count: 100)
  }
}
