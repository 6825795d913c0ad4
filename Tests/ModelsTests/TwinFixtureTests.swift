import Foundation
import Testing

@testable import Models
@testable import TensorEngine

/// Forward passes against the PyTorch twins of tools/bench/twins.py, both sides filling
/// every parameter and running statistic from the same formula of its position
/// (tools/fixtures/models.py writes the expected outputs).
@Suite struct TwinFixtureTests {
  struct Entry: Decodable {
    let shape: [Int]
    let values: [Double]
  }

  static let fixtures: [String: Entry] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/models.json")
    return try! JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))
  }()

  /// sin(a·i + b), the input formula of tools/fixtures/models.py.
  static func wave(_ shape: Shape, _ a: Double, _ b: Double, scale: Double = 1) -> Tensor {
    Tensor((0..<shape.count).map { Float(sin(a * Double($0) + b) * scale) }, shape: shape)
  }

  /// The formula of twins.formula: tensor number k, element i, w = sin(0.37·i + 0.71·k).
  static func setFormulaWeights(_ model: Module) {
    for (index, (name, tensor)) in model.namedTensors.enumerated() {
      let fanIn = tensor.shape.rank >= 2 ? tensor.shape.count(before: tensor.shape.rank - 1) : 1
      for i in 0..<tensor.count {
        let wave = sin(0.37 * Double(i) + 0.71 * Double(index))
        let value: Double
        if name.hasSuffix(".gamma") {
          value = 1 + 0.2 * wave
        } else if name.hasSuffix(".runningVariance") {
          value = 1 + 0.5 * wave * wave
        } else if tensor.shape.rank >= 2 {
          value = wave * (3 / Double(fanIn)).squareRoot()
        } else {
          value = 0.1 * wave
        }
        tensor[i] = Float(value)
      }
    }
  }

  static func expect(
    _ tensor: Tensor, matches name: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let entry = fixtures[name]!
    #expect(tensor.shape.dimensions == entry.shape, sourceLocation: sourceLocation)
    let scale = entry.values.map(abs).max()!
    var worst = 0.0
    for (index, expected) in entry.values.enumerated() {
      worst = max(worst, abs(Double(tensor[index]) - expected) / max(abs(expected), scale))
    }
    #expect(
      worst < 1e-4, "\(name): worst error \(worst) relative to the largest output",
      sourceLocation: sourceLocation)
  }

  @Test func susceptibilityInInferenceMode() {
    var random = RandomGenerator(seed: 1)
    let model = SusceptibilityNetwork(random: &random)
    Self.setFormulaWeights(model)
    model.train(false)
    let x = Self.wave(Shape(2, 128, 128, 13), 0.013, 0.2)
    Self.expect(model.logits(x, Tape(recording: false)), matches: "susceptibility_eval_logits")
  }

  @Test func densityInInferenceMode() {
    var random = RandomGenerator(seed: 1)
    let model = DensityNetwork(random: &random)
    Self.setFormulaWeights(model)
    model.train(false)
    Self.expect(
      model(Self.wave(Shape(3, 32, 32, 13), 0.021, 0.4), Tape(recording: false)),
      matches: "density_eval")
  }

  @Test func densityInTrainingMode() {
    var random = RandomGenerator(seed: 1)
    let model = DensityNetwork(random: &random)
    Self.setFormulaWeights(model)
    Self.expect(
      model(Self.wave(Shape(3, 32, 32, 13), 0.021, 0.4), Tape(recording: false)),
      matches: "density_train")
  }

  @Test func transformerInInferenceMode() {
    var random = RandomGenerator(seed: 1)
    let model = WaveformTransformer(length: 64, random: &random)
    Self.setFormulaWeights(model)
    model.train(false)
    let logits = model.logits(
      series: Self.wave(Shape(2, 64, 3), 0.05, 0.3, scale: 2),
      static: Self.wave(Shape(2, 5), 0.7, 0.1),
      Tape(recording: false))
    Self.expect(logits, matches: "transformer_eval_logits")
  }
}
