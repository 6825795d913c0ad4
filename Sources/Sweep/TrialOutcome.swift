import Configuration
import Foundation
import TensorEngine

/// How a trial ended, as written to its folder (`result.json`) and to the sweep's tables.
public struct TrialOutcome: Codable, Equatable, Sendable {
  public enum Status: String, Codable, Sendable {
    /// Trained to the end of every stage; `checkpoint` is its final weights.
    case completed
    /// Stopped by successive halving; `checkpoint` is its last step checkpoint.
    case pruned
    /// Training threw (diverged, bad data, …); `error` says why. Re-runs skip it unless
    /// asked to retry failed trials.
    case failed
    /// Stopped by SIGTERM or SIGUSR1 after a checkpoint; a re-run resumes it.
    case interrupted
    /// Handed to a group and not ended yet; found so by a later run, its process died.
    case running

    /// Whether a re-run leaves the trial alone.
    func isFinal(retryingFailed: Bool) -> Bool {
      self == .completed || self == .pruned || (self == .failed && !retryingFailed)
    }
  }

  public var status: Status
  /// Best validation loss and AUC over the epochs of the sweep's stage (AUC: the
  /// susceptibility stage only).
  public var bestValidationLoss: Double?
  public var bestValidationAUC: Double?
  /// Classical trials: the AUC of each cross-validation fold (their mean is
  /// `bestValidationAUC`), and the test table's AUC of the model refitted on the whole
  /// training table (reported, never used to rank: that would tune on the test table).
  public var foldAUCs: [Double]?
  public var testAUC: Double?
  /// Epochs trained in the sweep's stage (classical trials: folds scored).
  public var epochs: Int
  /// Wall time over every attempt.
  public var seconds: Double
  public var checkpoint: String?
  public var error: String?
  /// Runs of the sweep whose process died while training this trial.
  public var crashes = 0

  enum CodingKeys: String, CodingKey {
    case status, epochs, seconds, checkpoint, error, crashes
    case bestValidationLoss = "best_validation_loss"
    case bestValidationAUC = "best_validation_auc"
    case foldAUCs = "fold_aucs"
    case testAUC = "test_auc"
  }

  /// The trial's score under `metric` (nil when undefined).
  func score(_ metric: SweepConfig.Metric) -> Double? {
    metric == .validationAUC ? bestValidationAUC : bestValidationLoss
  }

  static func read(path: String) -> TrialOutcome? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(TrialOutcome.self, from: data)
  }

  func write(to path: String) throws(SweepError) {
    do {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    } catch {
      throw SweepError("\(path): cannot make its folder (\(error.localizedDescription))")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
      try AtomicFile.write(try encoder.encode(self), to: path)
    } catch {
      throw SweepError("\(path): cannot write the trial's result (\(error))")
    }
  }
}

/// A sweep that cannot start or go on, with a message that names the file or key at fault.
public struct SweepError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
