import Foundation
import TensorEngine

/// Named tensors as a safetensors file with a description of what they are (JSON, in the
/// metadata under `key`) so that a reader can rebuild the model: the checkpoint format of
/// every trained model (the ensemble, the transformer, a tabular network).
public struct ModuleCheckpoint<Description: Codable>: CheckpointedModel {
  public let namedTensors: [(name: String, tensor: Tensor)]
  public let description: Description
  /// The metadata key of the description; it also tells one kind of checkpoint from another.
  public let key: String

  public init(
    _ namedTensors: [(name: String, tensor: Tensor)], description: Description, key: String
  ) {
    self.namedTensors = namedTensors
    self.description = description
    self.key = key
  }

  /// Writes the tensors, then `extra` ones (training state), atomically.
  public func write(to path: String, extra: [(String, Tensor)], metadata: [String: String])
    throws(SafeTensorsError)
  {
    let json: Data
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      json = try encoder.encode(description)
    } catch {
      throw SafeTensorsError(path: path, message: "cannot encode the \(key) description: \(error)")
    }
    var fullMetadata = metadata
    fullMetadata[key] = String(decoding: json, as: UTF8.self)
    let items = (namedTensors + extra.map { (name: $0.0, tensor: $0.1) }).map { name, tensor in
      SafeTensors.Item(
        name: name, shape: (0..<tensor.shape.rank).map { tensor.shape[$0] },
        values: UnsafeBufferPointer(tensor.buffer))
    }
    try SafeTensors.write(items, metadata: fullMetadata, to: path)
  }

  /// Copies every tensor from `file`, which must be a checkpoint of this kind.
  public func load(_ file: SafeTensorsFile) throws(SafeTensorsError) {
    _ = try Self.description(file, key: key)
    for (name, tensor) in namedTensors { try Self.copy(file, name, into: tensor) }
  }

  /// The description stored in `file` under `key`.
  public static func description(_ file: SafeTensorsFile, key: String) throws(SafeTensorsError)
    -> Description
  {
    guard let json = file.metadata[key] else {
      throw SafeTensorsError(
        path: file.path, message: "no \(key) description in the metadata; not a \(key) checkpoint")
    }
    do { return try JSONDecoder().decode(Description.self, from: Data(json.utf8)) } catch {
      throw SafeTensorsError(
        path: file.path, message: "unreadable \(key) description in the metadata (\(error))")
    }
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
        message: "tensor '\(name)' has shape \(info.shape); the model expects \(expected)")
    }
    tensor.data.update(from: try file.floats(name).baseAddress!, count: tensor.count)
  }
}

/// Copies one tensor of a checkpoint, whatever its kind (training state: Adam, best weights).
func copyTensor(_ file: SafeTensorsFile, _ name: String, into tensor: Tensor)
  throws(SafeTensorsError)
{
  try ModuleCheckpoint<EmptyDescription>.copy(file, name, into: tensor)
}

/// The description of a checkpoint that needs none.
public struct EmptyDescription: Codable, Equatable, Sendable {
  public init() {}
}
