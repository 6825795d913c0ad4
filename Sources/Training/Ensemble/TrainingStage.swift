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

extension EpochRecord {
  /// The ensemble stage the record belongs to (nil for a model trained in one stage).
  public var trainingStage: TrainingStage? { stage.flatMap(TrainingStage.init(rawValue:)) }
}
