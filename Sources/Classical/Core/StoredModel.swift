import Foundation
import TensorEngine

/// A fitted classical model as plain arrays and settings, so that any model (a tree as
/// its node arrays, a forest as its trees, stacking as its base models and meta-model)
/// is one safetensors file that Python can read: the arrays are named tensors
/// (`parts.3.feature` for a part's), and the kind, settings and parts are JSON in the
/// metadata under `model`.
public struct StoredModel: Sendable, Equatable {
  /// One array: integer arrays (tree children, feature indices) are stored as Float32,
  /// exact below 2²⁴.
  public struct StoredArray: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
      precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) for \(shape)")
      self.name = name
      self.shape = shape
      self.values = values
    }
  }

  /// The `Classifier.name` of the model this rebuilds.
  public var kind: String
  /// The hyperparameters and any scalar state, as a JSON object.
  public var settings: String
  public var arrays: [StoredArray]
  /// Models inside this one (trees, base models), in order.
  public var parts: [StoredModel]

  public init<Settings: Encodable>(
    kind: String, settings: Settings, arrays: [StoredArray] = [], parts: [StoredModel] = []
  ) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Settings are plain structs of numbers and strings: encoding cannot fail.
    self.kind = kind
    self.settings = String(decoding: try! encoder.encode(settings), as: UTF8.self)
    self.arrays = arrays
    self.parts = parts
  }

  init(kind: String, settingsJSON: String, arrays: [StoredArray], parts: [StoredModel]) {
    self.kind = kind
    self.settings = settingsJSON
    self.arrays = arrays
    self.parts = parts
  }

  /// The settings as `Settings`; names the model when they do not decode.
  public func decodeSettings<Settings: Decodable>(_ type: Settings.Type) throws(ClassicalError)
    -> Settings
  {
    do { return try JSONDecoder().decode(type, from: Data(settings.utf8)) } catch {
      throw ClassicalError(kind, "unreadable stored settings (\(error))")
    }
  }

  /// The array called `name`, which must hold `count` values when given.
  public func array(_ name: String, count: Int? = nil) throws(ClassicalError) -> [Float] {
    guard let array = arrays.first(where: { $0.name == name }) else {
      throw ClassicalError(kind, "stored model has no array '\(name)'")
    }
    if let count, array.values.count != count {
      throw ClassicalError(
        kind, "stored array '\(name)' holds \(array.values.count) values; expected \(count)")
    }
    return array.values
  }

  /// An integer array stored as Float32 (see `StoredArray`).
  public func indices(_ name: String, count: Int? = nil) throws(ClassicalError) -> [Int] {
    try array(name, count: count).map { Int($0) }
  }

  /// Float32 values for integers, refused above 2²⁴ where Float32 stops being exact.
  public static func exactFloats(_ values: [Int], model: String) throws(ClassicalError) -> [Float] {
    guard values.allSatisfy({ abs($0) < 1 << 24 }) else {
      throw ClassicalError(model, "an index above 2^24 cannot be stored exactly as Float32")
    }
    return values.map(Float.init)
  }

  // MARK: Files

  static let metadataKey = "model"

  /// The kind, settings and parts without arrays, as written in the metadata.
  private struct Outline: Codable {
    var kind: String
    var settings: String
    var arrays: [String]
    var parts: [Outline]
  }

  private var outline: Outline {
    Outline(kind: kind, settings: settings, arrays: arrays.map(\.name), parts: parts.map(\.outline))
  }

  private func flattened(prefix: String) -> [StoredArray] {
    arrays.map { StoredArray(name: prefix + $0.name, shape: $0.shape, values: $0.values) }
      + parts.enumerated().flatMap { $0.element.flattened(prefix: "\(prefix)parts.\($0.offset).") }
  }

  /// Writes the model, with `metadata` beside it (the table's columns and scaling),
  /// atomically and checksummed.
  public func write(to path: String, metadata: [String: String] = [:]) throws(ClassicalError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var all = metadata
    all[Self.metadataKey] = String(decoding: try! encoder.encode(outline), as: UTF8.self)
    let arrays = flattened(prefix: "")
    // SafeTensors reads the buffers while writing; keep them alive and contiguous.
    let buffers = arrays.map { array in
      let pointer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(array.values.count, 1))
      _ = pointer.initialize(from: array.values)
      return pointer
    }
    defer { for buffer in buffers { buffer.deallocate() } }
    let items = zip(arrays, buffers).map { array, buffer in
      SafeTensors.Item(
        name: array.name, shape: array.shape,
        values: UnsafeBufferPointer(rebasing: buffer[0..<array.values.count]))
    }
    do { try SafeTensors.write(items, metadata: all, to: path) } catch {
      throw ClassicalError(path, error.message)
    }
  }

  /// Reads a model file written by `write`, and its metadata.
  public static func read(_ path: String) throws(ClassicalError) -> (
    model: StoredModel, metadata: [String: String]
  ) {
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(path: path) } catch {
      throw ClassicalError(path, error.message)
    }
    guard let json = file.metadata[metadataKey],
      let outline = try? JSONDecoder().decode(Outline.self, from: Data(json.utf8))
    else {
      throw ClassicalError(path, "no readable '\(metadataKey)' outline; not a classical model file")
    }
    func rebuild(_ outline: Outline, prefix: String) throws(ClassicalError) -> StoredModel {
      var arrays: [StoredArray] = []
      for name in outline.arrays {
        guard let info = file.tensors[prefix + name] else {
          throw ClassicalError(path, "tensor '\(prefix + name)' is missing")
        }
        let values: UnsafeBufferPointer<Float>
        do { values = try file.floats(prefix + name) } catch {
          throw ClassicalError(path, error.message)
        }
        arrays.append(StoredArray(name: name, shape: info.shape, values: Array(values)))
      }
      var parts: [StoredModel] = []
      for (index, part) in outline.parts.enumerated() {
        parts.append(try rebuild(part, prefix: "\(prefix)parts.\(index)."))
      }
      return StoredModel(
        kind: outline.kind, settingsJSON: outline.settings, arrays: arrays, parts: parts)
    }
    var metadata = file.metadata
    metadata[metadataKey] = nil
    return (try rebuild(outline, prefix: ""), metadata)
  }
}
