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
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let description = try? encoder.encode(ensemble.description) else {
      throw SafeTensorsError(path: path, message: "cannot encode the ensemble description")
    }
    var fullMetadata = metadata
    fullMetadata[descriptionKey] = String(decoding: description, as: UTF8.self)
    let items = (ensemble.namedTensors + extra.map { (name: $0.0, tensor: $0.1) }).map {
      name, tensor in
      SafeTensors.Item(
        name: name, shape: (0..<tensor.shape.rank).map { tensor.shape[$0] },
        values: UnsafeBufferPointer(tensor.buffer))
    }
    try SafeTensors.write(items, metadata: fullMetadata, to: path)
  }

  /// Rebuilds the ensemble stored at `path`; every tensor must be present with its shape.
  public static func read(_ path: String) throws(SafeTensorsError) -> Ensemble {
    let file = try SafeTensorsFile(path: path)
    guard let json = file.metadata[descriptionKey],
      let description = try? JSONDecoder().decode(
        EnsembleDescription.self, from: Data(json.utf8))
    else {
      throw SafeTensorsError(
        path: path, message: "no ensemble description in the metadata; not an ensemble checkpoint")
    }
    let ensemble = Ensemble(description, seed: 0)
    try load(file, into: ensemble)
    return ensemble
  }

  /// Copies every tensor of `file` into `ensemble`, checking names and shapes.
  public static func load(_ file: SafeTensorsFile, into ensemble: Ensemble)
    throws(SafeTensorsError)
  {
    for (name, tensor) in ensemble.namedTensors { try copy(file, name, into: tensor) }
  }

  /// Copies tensor `name` of `file` into `tensor`, which must have its shape.
  static func copy(_ file: SafeTensorsFile, _ name: String, into tensor: Tensor)
    throws(SafeTensorsError)
  {
    guard let info = file.tensors[name] else {
      throw SafeTensorsError(path: file.path, message: "tensor '\(name)' is missing")
    }
    let expected = (0..<tensor.shape.rank).map { tensor.shape[$0] }
    guard info.shape == expected else {
      throw SafeTensorsError(
        path: file.path,
        message: "tensor '\(name)' has shape \(info.shape); the ensemble expects \(expected)")
    }
    tensor.data.update(from: try file.floats(name).baseAddress!, count: tensor.count)
  }
}
