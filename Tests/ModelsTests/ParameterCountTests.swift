import Testing

@testable import Models
@testable import TensorEngine

@Suite struct ParameterCountTests {
  @Test func susceptibilityNetworkHasThePapersParameterCount() {
    var random = RandomGenerator(seed: 1)
    let network = SusceptibilityNetwork(random: &random)
    #expect(network.parameterCount == 23_556_931)
    #expect(network.namedParameters.first?.name == "stem.weight")
    #expect(network.namedParameters.contains { $0.name == "stages.2.1.conv2.weight" })
    #expect(network.namedParameters.contains { $0.name == "stages.3.0.shortcut.weight" })
    #expect(!network.namedParameters.contains { $0.name == "stages.3.1.shortcut.weight" })
  }

  @Test func blocksPerStageAreConfigurable() {
    var random = RandomGenerator(seed: 1)
    let small = SusceptibilityNetwork(
      SusceptibilityArchitecture(blocksPerStage: [1, 1, 1, 1]), random: &random)
    #expect(small.stages.map(\.count) == [1, 1, 1, 1])
    // Each extra identity block of stage 1 adds 1×1 256→64, 3×3 64→64, 1×1 64→256 with
    // biases and three batch norms: 16448 + 36928 + 16640 + 128 + 128 + 512 = 70784.
    let wider = SusceptibilityNetwork(
      SusceptibilityArchitecture(blocksPerStage: [2, 1, 1, 1]), random: &random)
    #expect(wider.parameterCount - small.parameterCount == 70_784)
  }

  @Test func densityNetworkParameterCount() {
    var random = RandomGenerator(seed: 1)
    let network = DensityNetwork(random: &random)
    // stem 4·4·13·64 + 64, BN 128; 1×1 64→128 + 128, BN 256; dense 1152→512→128→32→1.
    let expected =
      (13_312 + 64) + 128 + (8192 + 128) + 256 + (1152 * 512 + 512) + (512 * 128 + 128)
      + (128 * 32 + 32) + (32 + 1)
    #expect(network.parameterCount == expected)
  }

  @Test func transformerParameterCountAndBranches() {
    var random = RandomGenerator(seed: 1)
    let length = 100
    let network = WaveformTransformer(length: length, random: &random)
    // Encoder block: 2 LN (6 + 6), MHA q/k/v 3·(3·2 + 2) + o (2·3 + 3), ff 3·4 + 4, 4·3 + 3.
    let block = 12 + 24 + 9 + 16 + 15
    // Static: 3·(5·32 + 32) … first block 5→32, seven 32→32, each with BN (64); then 32→512.
    let staticBranch = (5 * 32 + 32 + 64) + 7 * (32 * 32 + 32 + 64) + (32 * 512 + 512)
    let head = ((length + 512) * 128 + 128) + (128 * 128 + 128) + (128 + 1)
    #expect(network.parameterCount == 2 * block + staticBranch + head)

    let waveformOnly = WaveformTransformer(
      TransformerArchitecture(staticFeatures: 0), length: length, random: &random)
    #expect(waveformOnly.staticBlocks.isEmpty && waveformOnly.staticOutput == nil)
    let tape = Tape(recording: false)
    let p = waveformOnly(series: Tensor(zeros: Shape(2, length, 3)), static: nil, tape)
    #expect(p.shape == Shape(2, 1))
    let staticOnly = WaveformTransformer(
      TransformerArchitecture(components: 0), length: length, random: &random)
    #expect(staticOnly.encoder.isEmpty)
    #expect(staticOnly(series: nil, static: Tensor(zeros: Shape(2, 5)), tape).shape == Shape(2, 1))
  }

  @Test func outputShapes() {
    var random = RandomGenerator(seed: 1)
    let tape = Tape(recording: false)
    let susceptibility = SusceptibilityNetwork(
      SusceptibilityArchitecture(blocksPerStage: [1, 1, 1, 1]), random: &random)
    #expect(susceptibility(Tensor(zeros: Shape(2, 128, 128, 13)), tape).shape == Shape(2, 4, 4, 1))
    let density = DensityNetwork(random: &random)
    #expect(density(Tensor(zeros: Shape(3, 32, 32, 13)), tape).shape == Shape(3, 1))
  }
}
