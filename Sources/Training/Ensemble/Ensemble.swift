import GeoData
import Models
import TensorEngine

/// What it takes to rebuild a trained ensemble and feed it: both architectures and the
/// inputs' channels with their training min–max. Stored in every checkpoint.
public struct EnsembleDescription: Codable, Equatable, Sendable {
  public var blocksPerStage: [Int]
  public var susceptibilityDropout: Float
  public var headReLU: Bool
  public var denseWidths: [Int]
  public var denseBatchNorm: Bool
  public var densityDropout: Float
  public var patchCells: Int
  public var cellPixels: Int
  /// Channel names in input order: static predictors, time-varying ones, monsoons.
  public var channels: [String]
  /// How many of `channels` are static predictors (the rest but the last vary per period).
  public var staticCount: Int
  public var minimum: [Float]
  public var maximum: [Float]

  enum CodingKeys: String, CodingKey {
    case channels, minimum, maximum
    case blocksPerStage = "blocks_per_stage"
    case susceptibilityDropout = "susceptibility_dropout"
    case headReLU = "head_relu"
    case denseWidths = "dense_widths"
    case denseBatchNorm = "dense_batch_norm"
    case densityDropout = "density_dropout"
    case patchCells = "patch_cells"
    case cellPixels = "cell_pixels"
    case staticCount = "static_count"
  }

  public init(
    susceptibility: SusceptibilityArchitecture, density: DensityArchitecture,
    prepared: PreparedStudy, staticCount: Int
  ) {
    blocksPerStage = susceptibility.blocksPerStage
    susceptibilityDropout = susceptibility.dropout
    headReLU = susceptibility.headReLU
    denseWidths = density.denseWidths
    denseBatchNorm = density.denseBatchNorm
    densityDropout = density.dropout
    patchCells = prepared.patchCells
    cellPixels = prepared.cellPixels
    channels = prepared.channels
    self.staticCount = staticCount
    minimum = prepared.minimum
    maximum = prepared.maximum
  }

  public var susceptibilityArchitecture: SusceptibilityArchitecture {
    SusceptibilityArchitecture(
      blocksPerStage: blocksPerStage, inputChannels: channels.count, dropout: susceptibilityDropout,
      headReLU: headReLU)
  }

  public var densityArchitecture: DensityArchitecture {
    DensityArchitecture(
      inputChannels: channels.count, denseWidths: denseWidths, denseBatchNorm: denseBatchNorm,
      dropout: densityDropout)
  }
}

/// The space-time hazard ensemble (SPEC.md §1): the susceptibility network gives the
/// probability of new landslides per cell of a patch, the density network their expected
/// area density per cell, and hazard is their product.
public final class Ensemble {
  public let description: EnsembleDescription
  public let susceptibility: SusceptibilityNetwork
  public let density: DensityNetwork

  public init(_ description: EnsembleDescription, seed: UInt64) {
    self.description = description
    var random = RandomGenerator(seed: seed)
    susceptibility = SusceptibilityNetwork(description.susceptibilityArchitecture, random: &random)
    density = DensityNetwork(description.densityArchitecture, random: &random)
  }

  /// Every tensor of both networks, named `susceptibility.…` and `density.…`.
  public var namedTensors: [(name: String, tensor: Tensor)] {
    susceptibility.namedTensors.map { ("susceptibility." + $0.name, $0.tensor) }
      + density.namedTensors.map { ("density." + $0.name, $0.tensor) }
  }

  /// Probability and density per cell for a batch of normalised patches [B, S, S, C]:
  /// both [B·n·n] in row-major cell order, inference mode. `cells` is scratch of shape
  /// [B·n·n, P, P, C].
  public func predict(patches: Tensor, cells: Tensor, tape: Tape) -> (
    probability: Tensor, density: Tensor
  ) {
    susceptibility.train(false)
    density.train(false)
    let probability = susceptibility(patches, tape)
    PatchCells.split(patches, cellsPerSide: description.patchCells, into: cells)
    return (probability, density(cells, tape))
  }
}
