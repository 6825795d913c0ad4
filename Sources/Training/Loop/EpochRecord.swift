import Foundation

/// One epoch of training, as a line of `metrics.jsonl`; the same record for every model.
public struct EpochRecord: Codable, Equatable, Sendable {
  /// The stage of a model trained in stages (the ensemble's `TrainingStage`); absent for a
  /// model trained in one (the transformer).
  public var stage: String?
  public var epoch: Int
  /// Optimiser steps taken in this stage so far.
  public var step: Int
  public var trainLoss: Double
  public var validationLoss: Double
  /// Validation AUC, for a task that scores a binary outcome (the ensemble's susceptibility
  /// stage, the transformer).
  public var validationAUC: Double?
  public var learningRate: Double
  /// Training units (patches, or cells in the cell stages) per second in this epoch.
  public var samplesPerSecond: Double
  public var seconds: Double
  /// Whether this epoch set a new minimum validation loss (its weights are kept).
  public var best: Bool
  /// The share of validation units holding the most common score (the susceptibility
  /// stage): near 1/cells for a working network, 1 when the output collapsed to a constant
  /// (a dead ReLU head). Absent in records written before it was measured.
  public var validationTiedShare: Double?

  enum CodingKeys: String, CodingKey {
    case stage, epoch, step, best, seconds
    case validationTiedShare = "validation_tied_share"
    case trainLoss = "train_loss"
    case validationLoss = "validation_loss"
    case validationAUC = "validation_auc"
    case learningRate = "learning_rate"
    case samplesPerSecond = "samples_per_s"
  }
}

extension EpochRecord {
  /// The records of a `metrics.jsonl`; empty when the file is missing, and a line that
  /// does not decode (a run killed mid-write) ends the list.
  public static func read(path: String) -> [EpochRecord] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var records: [EpochRecord] = []
    for line in data.split(separator: UInt8(ascii: "\n")) {
      guard let record = try? JSONDecoder().decode(EpochRecord.self, from: Data(line)) else {
        break
      }
      records.append(record)
    }
    return records
  }
}
