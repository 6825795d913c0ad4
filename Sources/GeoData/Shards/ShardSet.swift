import Foundation
import TensorEngine

/// Prepared shards, memory-mapped: one sample is one (patch, period), assembled as a
/// normalised [S, S, C] input (static channels, time-varying channels, monsoons) and its
/// [n, n, 3] labels, copying only the sample itself.
public final class ShardSet {
  public let prepared: PreparedStudy
  private let files: [SafeTensorsFile]
  /// 1 / (max − min) per channel (0 for a constant channel), computed once.
  private let scale: [Float]
  /// (shard, patch within it, period) of each sample, per side.
  public let samples: [SplitSide: [(shard: Int, patch: Int, period: Int)]]

  public init(directory: String) throws(SafeTensorsError) {
    let manifestPath = (directory as NSString).appendingPathComponent("shards.json")
    do {
      prepared = try JSONDecoder().decode(
        PreparedStudy.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
    } catch {
      throw SafeTensorsError(
        path: manifestPath, message: "cannot read the shard manifest (\(error))")
    }
    var files: [SafeTensorsFile] = []
    var samples: [SplitSide: [(shard: Int, patch: Int, period: Int)]] = [:]
    for (index, shard) in prepared.shards.enumerated() {
      files.append(
        try SafeTensorsFile(path: (directory as NSString).appendingPathComponent(shard.file)))
      for patch in shard.patches.indices {
        for period in 0..<prepared.periods {
          samples[shard.side, default: []].append((index, patch, period))
        }
      }
    }
    self.files = files
    self.samples = samples
    scale = zip(prepared.minimum, prepared.maximum).map { low, high in
      high > low ? 1 / (high - low) : 0
    }
  }

  public var inputShape: Shape {
    let side = prepared.patchCells * prepared.cellPixels
    return Shape(side, side, prepared.channels.count)
  }

  /// Writes sample `index` of `side`: the normalised input into `input` (S·S·C floats) and
  /// the labels into `labels` (n·n·3 floats: presence, absence, area density per cell).
  public func assemble(
    _ side: SplitSide, _ index: Int, input: UnsafeMutablePointer<Float>,
    labels: UnsafeMutablePointer<Float>
  ) throws(SafeTensorsError) {
    let sample = samples[side]![index]
    let (file, side) = (files[sample.shard], inputShape[0])
    try normalise(sample, x0: 0, y0: 0, size: side, into: input)
    let labelCount = prepared.patchCells * prepared.patchCells * 3
    let labelBase = (sample.patch * prepared.periods + sample.period) * labelCount
    let stored = try file.floats("labels")
    for index in 0..<labelCount { labels[index] = stored[labelBase + index] }
  }

  /// Writes one mapping unit of sample `index`: cell `cell` (row-major in the patch) as a
  /// normalised [P, P, C] input, P = cell pixels; returns its area density label.
  public func assembleCell(
    _ side: SplitSide, _ index: Int, cell: Int, input: UnsafeMutablePointer<Float>
  ) throws(SafeTensorsError) -> Float {
    let sample = samples[side]![index]
    let (n, pixels) = (prepared.patchCells, prepared.cellPixels)
    try normalise(
      sample, x0: (cell % n) * pixels, y0: (cell / n) * pixels, size: pixels, into: input)
    let labelBase = (sample.patch * prepared.periods + sample.period) * n * n * 3
    return try files[sample.shard].floats("labels")[labelBase + cell * 3 + 2]
  }

  /// Area density labels of sample `index`, n·n per cell (row-major), without its inputs.
  public func densities(_ side: SplitSide, _ index: Int) throws(SafeTensorsError) -> [Float] {
    let sample = samples[side]![index]
    let count = prepared.patchCells * prepared.patchCells
    let labelBase = (sample.patch * prepared.periods + sample.period) * count * 3
    let stored = try files[sample.shard].floats("labels")
    return (0..<count).map { stored[labelBase + $0 * 3 + 2] }
  }

  /// Normalises the `size`² window at (x0, y0) of a sample's patch into `input`, channels
  /// last: static predictors, time-varying predictors of the sample's period, monsoons.
  private func normalise(
    _ sample: (shard: Int, patch: Int, period: Int), x0: Int, y0: Int, size: Int,
    into input: UnsafeMutablePointer<Float>
  ) throws(SafeTensorsError) {
    let file = files[sample.shard]
    let statics = try file.floats("static")
    let varying = try file.floats("varying")
    let channels = prepared.channels.count
    // Channels per kind, from the shapes: static [K, S, S, Cs], varying [K, P, S, S, Cv].
    let staticCount = file.tensors["static"]!.shape[3]
    let varyingCount = file.tensors["varying"]!.shape[4]
    let patchSide = inputShape[0]
    let area = patchSide * patchSide
    let staticBase = sample.patch * area * staticCount
    let varyingBase = (sample.patch * prepared.periods + sample.period) * area * varyingCount
    let monsoons =
      (Float(prepared.monsoons[sample.period]) - prepared.minimum[channels - 1])
      * scale[channels - 1]
    for y in 0..<size {
      for x in 0..<size {
        let pixel = (y0 + y) * patchSide + x0 + x
        let out = input + (y * size + x) * channels
        for channel in 0..<staticCount {
          out[channel] =
            (statics[staticBase + pixel * staticCount + channel] - prepared.minimum[channel])
            * scale[channel]
        }
        for predictor in 0..<varyingCount {
          let channel = staticCount + predictor
          out[channel] =
            (varying[varyingBase + pixel * varyingCount + predictor] - prepared.minimum[channel])
            * scale[channel]
        }
        out[channels - 1] = monsoons
      }
    }
  }
}
