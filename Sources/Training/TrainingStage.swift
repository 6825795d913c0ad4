import Foundation

/// The stages of ensemble training, in order (SPEC.md §1): the susceptibility network, the
/// density network's three-stage curriculum, then the joined ensemble.
public enum TrainingStage: String, CaseIterable, Codable, Sendable {
  /// Focal Tversky (or BCE) on landslide presence per cell.
  case susceptibility
  /// Density on cells with landslides only, against log(1 + density): the easy task first.
  case densityLog = "density_log"
  /// The same cells on the original scale, starting from the previous stage's weights.
  case densityPositive = "density_positive"
  /// All cells, zeros included: the full density distribution.
  case densityAll = "density_all"
  /// The joined ensemble: hazard = probability × density against the observed density over
  /// all cells, which most of all teaches the density of the cells without landslides;
  /// only the density network learns.
  case joint

  /// Whether a stage's units are single 1 km cells (true) or whole patches.
  var trainsOnCells: Bool { self == .densityLog || self == .densityPositive }
}

/// One epoch of one stage, as a line of `metrics.jsonl`.
public struct EpochRecord: Codable, Equatable, Sendable {
  public var stage: TrainingStage
  public var epoch: Int
  /// Optimiser steps taken in this stage so far.
  public var step: Int
  public var trainLoss: Double
  public var validationLoss: Double
  /// Validation AUC of the susceptibility network (its stage only).
  public var validationAUC: Double?
  public var learningRate: Double
  /// Training units (patches, or cells in the cell stages) per second in this epoch.
  public var samplesPerSecond: Double
  public var seconds: Double
  /// Whether this epoch set a new minimum validation loss (its weights are kept).
  public var best: Bool
  /// The share of validation cells holding the most common susceptibility score (its stage
  /// only): near 1/cells for a working network, 1 when the output collapsed to a constant
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
