import Foundation
import TensorEngine

/// The step checkpoints of a run's checkpoint folder: `step-NNNNNNNN.safetensors`, named by
/// the optimiser step they were written after, so that names sort by age.
public enum CheckpointFiles {
  /// The checkpoint file of optimiser step `step` in `directory`.
  public static func step(_ step: Int, in directory: String) -> String {
    (directory as NSString).appendingPathComponent(String(format: "step-%08d.safetensors", step))
  }

  /// The step number in a `step-NNNNNNNN.safetensors` name.
  public static func stepNumber(of path: String) -> Int? {
    let name = (path as NSString).lastPathComponent
    return Int(name.dropFirst("step-".count).prefix { $0.isNumber })
  }

  /// The step checkpoints of `directory`, newest first (none when it does not exist yet).
  public static func steps(in directory: String) -> [String] {
    names(in: directory).filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }
      .sorted(by: >).map { (directory as NSString).appendingPathComponent($0) }
  }

  /// The newest step checkpoint of `directory` that opens cleanly; a truncated or corrupt
  /// one is reported by name (with what is wrong) through `warn` and the previous one tried.
  public static func newestValid(in directory: String, warn: (String) -> Void) -> String? {
    for candidate in steps(in: directory) {
      do {
        _ = try SafeTensorsFile(path: candidate)
        return candidate
      } catch {
        warn("skipping checkpoint \(error); trying the previous one")
      }
    }
    return nil
  }

  /// The checkpoint a `--resume` argument names: a path as given, or for `auto` the newest
  /// valid step checkpoint of `directory` (nil: none, start afresh).
  public static func toResume(_ argument: String, in directory: String, warn: (String) -> Void)
    -> String?
  {
    argument == "auto" ? newestValid(in: directory, warn: warn) : argument
  }

  /// A run started without `--resume` must not mix its checkpoints with an earlier run's.
  public static func refuseFreshStart(in directory: String) throws(TrainingError) {
    guard steps(in: directory).isEmpty else {
      throw TrainingError(
        "\(directory) already holds checkpoints of a run: pass --resume auto to continue it, or "
          + "remove them to start afresh", kind: .invalidSetup)
    }
  }

  /// Removes the step checkpoints after `step` and temporary files of writers that were
  /// killed (`*.safetensors.tmp-*`). A file that cannot be removed is reported by `warn`.
  static func discard(after step: Int, in directory: String, warn: (String) -> Void) {
    for path in steps(in: directory) where stepNumber(of: path).map({ $0 > step }) ?? false {
      remove(path, warn: warn)
    }
    for name in names(in: directory) where name.contains(".safetensors.tmp-") {
      remove((directory as NSString).appendingPathComponent(name), warn: warn)
    }
  }

  /// Removes a checkpoint that is no longer wanted; failing to is worth a warning, not the
  /// end of a run.
  static func remove(_ path: String, warn: (String) -> Void) {
    do { try FileManager.default.removeItem(atPath: path) } catch {
      warn("warning: cannot remove \(path): \(error.localizedDescription)")
    }
  }

  private static func names(in directory: String) -> [String] {
    // A folder that does not exist (yet) holds no checkpoints; one that cannot be listed
    // shows up as soon as a checkpoint is written into it.
    (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
  }
}
