import Testing

@testable import TensorEngine

/// A two-level network for naming: stem, an array of blocks, a head.
final class TinyNet: Module {
  final class Block: Module {
    let conv: Conv2D
    let norm: BatchNorm
    init(_ channels: Int, random: inout RandomGenerator) {
      conv = Conv2D(channels, channels, kernel: (3, 3), padding: Padding2D(1), random: &random)
      norm = BatchNorm(channels)
    }
  }

  let stem: Conv2D
  let blocks: [Block]
  let dropout = Dropout(0.5)
  let head: Linear

  init(random: inout RandomGenerator) {
    stem = Conv2D(2, 4, kernel: (1, 1), bias: false, random: &random)
    blocks = [Block(4, random: &random), Block(4, random: &random)]
    head = Linear(4, 1, random: &random)
  }
}

@Suite struct ModuleTests {
  @Test func parametersHaveStableDottedNames() {
    var random = RandomGenerator(seed: 1)
    let net = TinyNet(random: &random)
    #expect(
      net.namedParameters.map(\.name) == [
        "stem.weight",
        "blocks.0.conv.weight", "blocks.0.conv.bias", "blocks.0.norm.gamma", "blocks.0.norm.beta",
        "blocks.1.conv.weight", "blocks.1.conv.bias", "blocks.1.norm.gamma", "blocks.1.norm.beta",
        "head.weight", "head.bias",
      ])
    #expect(
      net.namedStates.map(\.name) == [
        "blocks.0.norm.runningMean", "blocks.0.norm.runningVariance",
        "blocks.1.norm.runningMean", "blocks.1.norm.runningVariance",
      ])
    // 2·4 + 2·(3·3·4·4 + 4 + 4 + 4) + 4 + 1 = 8 + 2·156 + 5.
    #expect(net.parameterCount == 325)
  }

  @Test func trainModeReachesEveryDescendant() {
    var random = RandomGenerator(seed: 1)
    let net = TinyNet(random: &random)
    #expect(net.blocks[1].norm.isTraining && net.dropout.isTraining)
    net.train(false)
    #expect(!net.isTraining && !net.blocks[1].norm.isTraining && !net.blocks[0].conv.isTraining)
    #expect(!net.dropout.isTraining)
    let x = Tensor([1, 2, 3, 4], shape: Shape(4))
    #expect(net.dropout(x, Tape()) === x, "dropout is the identity in inference mode")
  }

  @Test func sameSeedSameWeights() {
    var first = RandomGenerator(seed: 42)
    var second = RandomGenerator(seed: 42)
    #expect(TinyNet(random: &first).head.weight.array == TinyNet(random: &second).head.weight.array)
  }

  @Test func glorotUniformAndHeNormalHaveTheirSpread() {
    var random = RandomGenerator(seed: 5)
    // Conv 3×3, 32 → 64: fan_in = 288, fan_out = 576.
    let glorot = parameter(Shape(3, 3, 32, 64), .glorotUniform, random: &random).array
    let limit = (6.0 / Float(288 + 576)).squareRoot()
    #expect(glorot.allSatisfy { abs($0) <= limit })
    #expect(
      abs(glorot.map { $0 * $0 }.reduce(0, +) / Float(glorot.count) - limit * limit / 3) < 0.02
        * limit * limit)
    let he = parameter(Shape(3, 3, 32, 64), .heNormal, random: &random).array
    let variance = he.map { $0 * $0 }.reduce(0, +) / Float(he.count)
    #expect(abs(variance - 2.0 / 288) < 0.03 * 2.0 / 288)
    #expect(abs(he.reduce(0, +) / Float(he.count)) < 0.005)
  }

  @Test func inferenceTapeRecordsNothing() {
    var random = RandomGenerator(seed: 1)
    let layer = Linear(3, 2, random: &random)
    let tape = Tape(recording: false)
    let y = layer(Tensor([1, 2, 3], shape: Shape(1, 3)), tape)
    #expect(!y.requiresGradient)
    #expect(tape.operations.isEmpty)
  }
}
