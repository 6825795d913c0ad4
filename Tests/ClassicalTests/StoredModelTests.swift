import Foundation
import TestSupport
import Testing

@testable import Classical

@Suite struct StoredModelTests {
  struct Settings: Codable, Equatable {
    var depth: Int
    var criterion: String
  }

  /// A model with parts round-trips through its file: kinds, settings, arrays by name
  /// (the parts' under their prefixes) and the metadata beside it.
  @Test func aNestedModelRoundTripsThroughItsFile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tree = { (depth: Int) in
      StoredModel(
        kind: "decision_tree", settings: Settings(depth: depth, criterion: "gini"),
        arrays: [.init(name: "feature", shape: [3], values: [2, -1, Float(depth)])])
    }
    let forest = StoredModel(
      kind: "random_forest", settings: Settings(depth: 0, criterion: "gini"),
      arrays: [.init(name: "classes", shape: [2, 1], values: [0, 1])], parts: [tree(1), tree(2)])
    let path = directory.appendingPathComponent("forest.safetensors").path
    try forest.write(to: path, metadata: ["columns": "[\"slope\"]"])
    let (read, metadata) = try StoredModel.read(path)
    #expect(read == forest)
    #expect(metadata["columns"] == "[\"slope\"]")
    #expect(
      try read.parts[1].decodeSettings(Settings.self) == Settings(depth: 2, criterion: "gini"))
    #expect(try read.parts[1].indices("feature") == [2, -1, 2])
    #expect(throws: ClassicalError.self) { try read.array("threshold") }
  }

  @Test func aFileOfAnotherKindIsNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("other.safetensors").path
    try "not a model".write(toFile: path, atomically: true, encoding: .utf8)
    let error = #expect(throws: ClassicalError.self) { try StoredModel.read(path) }
    #expect(error?.subject == path)
  }
}
