import Foundation
import TensorEngine

/// Ensemble weights and running statistics as a safetensors file, with the
/// `EnsembleDescription` (JSON) in the metadata so that `predict` can rebuild the networks.
public enum EnsembleCheckpoint {
  static let descriptionKey = "ensemble"

  /// Writes `ensemble` atomically; `metadata` adds entries (stage, epoch, config hash, …).
  /// `extra` adds tensors beside the ensemble's (training state: optimiser moments, …).
  public static func write(
    _ ensemble: Ensemble, extra: [(String, Tensor)] = [], to path: String,
    metadata: [String: String] = [:]
  ) throws(SafeTensorsError) {
    try format(ensemble).write(to: path, extra: extra, metadata: metadata)
  }

  /// Rebuilds the ensemble stored at `path`; every tensor must be present with its shape.
  public static func read(_ path: String) throws(SafeTensorsError) -> Ensemble {
    let file = try SafeTensorsFile(path: path)
    let description = try ModuleCheckpoint<EnsembleDescription>.description(
      file, key: descriptionKey)
    let ensemble = Ensemble(description, seed: 0)
    try format(ensemble).load(file)
    return ensemble
  }

  /// The ensemble as the training loop checkpoints it.
  static func format(_ ensemble: Ensemble) -> ModuleCheckpoint<EnsembleDescription> {
    ModuleCheckpoint(ensemble.namedTensors, description: ensemble.description, key: descriptionKey)
  }
}
