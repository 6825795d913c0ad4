import Foundation
import TensorEngine

/// What `prepare` wrote: the channels, their training min–max, the shards and the counts.
public struct PreparedStudy: Codable, Equatable, Sendable {
  public struct Shard: Codable, Equatable, Sendable {
    public var file: String
    public var side: SplitSide
    public var patches: [Patch]
  }

  public var patchCells: Int
  public var cellPixels: Int
  public var periods: Int
  /// Channel names in sample order: static predictors, time-varying ones, monsoons.
  public var channels: [String]
  /// Per-channel minimum and maximum over the training patches.
  public var minimum: [Float]
  public var maximum: [Float]
  public var monsoons: [Int]
  public var shards: [Shard]
  public var droppedForNoData: Int
  public var droppedAtSplitBoundaries: Int

  enum CodingKeys: String, CodingKey {
    case channels, minimum, maximum, monsoons, shards, periods
    case patchCells = "patch_cells"
    case cellPixels = "cell_pixels"
    case droppedForNoData = "dropped_for_nodata"
    case droppedAtSplitBoundaries = "dropped_at_split_boundaries"
  }
}

/// Turns a study directory (`study.json`, `predictors/`, `inventory.tif`) into training
/// shards: the inventory differenced between periods (decreases, re-vegetation, become 0),
/// patches of the normal and shifted grids, a spatial-block split, per-channel min–max of
/// the training side, and safetensors shards per side holding each patch's static
/// predictors once, its time-varying predictors and labels per period. The area is read
/// one row of patches at a time, so memory does not grow with its size.
public enum StudyPreparation {
  public struct Options: Sendable {
    public var patchCells = 4
    public var shiftedGrid = true
    public var blockCells = 8
    public var validationFraction = 0.15
    public var testFraction = 0.15
    public var randomSplit = false
    public var seed: UInt64 = 1
    public var patchesPerShard = 32

    public init() {}
  }

  /// - Parameter inventory: the inventory GeoTIFF; `directory/inventory.tif` by default.
  public static func prepare(
    study directory: String, inventory inventoryPath: String? = nil, into output: String,
    options: Options = .init()
  ) throws(RasterError) -> PreparedStudy {
    let manifest = try StudyManifest.read(study: directory)
    let periods = manifest.periods
    let stack = try manifest.predictorStack(study: directory)
    let inventoryPath =
      inventoryPath ?? (directory as NSString).appendingPathComponent("inventory.tif")
    let inventory = try RasterDataset(path: inventoryPath)
    let pixels = manifest.cellPixels
    let (cellsWide, cellsHigh) = (inventory.grid.width, inventory.grid.height)
    guard inventory.bandCount == periods, cellsWide * pixels == stack.grid.width,
      cellsHigh * pixels == stack.grid.height
    else {
      throw RasterError(
        path: inventoryPath,
        message:
          "expected \(periods) bands of \(stack.grid.width / pixels) × \(stack.grid.height / pixels) cells "
          + "matching the predictors, found \(inventory.bandCount) bands of \(cellsWide) × \(cellsHigh)"
      )
    }

    // Labels: increases of the cumulative inventory.
    var cumulative: [[Float]] = []
    for band in 0..<periods { cumulative.append(try inventory.read(band: band).values) }
    let increase = { (period: Int, cell: Int) -> Float in
      let before = period == 0 ? 0 : cumulative[period - 1][cell]
      return max(0, cumulative[period][cell] - before)
    }

    let staticCount = manifest.staticPredictors.count
    let varyingCount = manifest.timeVaryingPredictors.count
    let channels = manifest.staticPredictors + manifest.timeVaryingPredictors + ["monsoons"]
    var minimum = [Float](repeating: .infinity, count: channels.count)
    var maximum = [Float](repeating: -.infinity, count: channels.count)
    minimum[channels.count - 1] = Float(manifest.monsoons.min() ?? 0)
    maximum[channels.count - 1] = Float(manifest.monsoons.max() ?? 0)

    let candidates = PatchIndex.candidates(
      cellsWide: cellsWide, cellsHigh: cellsHigh, patchCells: options.patchCells,
      shiftedGrid: options.shiftedGrid)
    let side = options.patchCells * pixels
    var writer = ShardWriter(
      output: output, side: side, periods: periods, staticCount: staticCount,
      varyingCount: varyingCount, patchCells: options.patchCells,
      patchesPerShard: options.patchesPerShard)
    do {
      try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: output, message: "cannot create the output directory (\(error.localizedDescription))")
    }
    var dropped = (noData: 0, boundary: 0)
    for top in Set(candidates.map(\.row)).sorted() {
      // One row of patches: every band over the patch height.
      let window = RasterWindow(x: 0, y: top * pixels, width: stack.grid.width, height: side)
      var bands: [BandWindow] = []
      for (index, raster) in stack.rasters.enumerated() {
        for band in 0..<(index < staticCount ? 1 : periods) {
          bands.append(try raster.read(band: band, window: window))
        }
      }
      let row = candidates.filter { $0.row == top }
      func pixelsValid(_ patch: Patch) -> Bool {
        let x0 = patch.column * pixels
        for band in bands {
          for y in 0..<side
          where !band.valid[y * stack.grid.width + x0..<(y * stack.grid.width + x0 + side)]
            .allSatisfy({ $0 })
          {
            return false
          }
        }
        for period in 0..<periods {
          for r in patch.row..<(patch.row + options.patchCells) {
            for c in patch.column..<(patch.column + options.patchCells)
            where cumulative[period][r * cellsWide + c].isNaN {
              return false
            }
          }
        }
        return true
      }
      let index = PatchIndex(
        patches: row, patchCells: options.patchCells, blockCells: options.blockCells,
        validationFraction: options.validationFraction, testFraction: options.testFraction,
        seed: options.seed,
        random: options.randomSplit, isValid: pixelsValid)
      dropped.noData += index.droppedForNoData
      dropped.boundary += index.droppedAtSplitBoundaries
      for (patch, patchSide) in zip(index.patches, index.sides) {
        let x0 = patch.column * pixels
        func values(_ band: Int) -> [Float] {
          (0..<side).flatMap { y in
            bands[band].values[(y * stack.grid.width + x0)..<(y * stack.grid.width + x0 + side)]
          }
        }
        let staticValues = (0..<staticCount).map(values)
        let varying = (0..<varyingCount).map { predictor in
          (0..<periods).map { values(staticCount + predictor * periods + $0) }
        }
        if patchSide == .train {
          for channel in 0..<staticCount {
            minimum[channel] = min(minimum[channel], staticValues[channel].min()!)
            maximum[channel] = max(maximum[channel], staticValues[channel].max()!)
          }
          for predictor in 0..<varyingCount {
            for period in 0..<periods {
              minimum[staticCount + predictor] = min(
                minimum[staticCount + predictor], varying[predictor][period].min()!)
              maximum[staticCount + predictor] = max(
                maximum[staticCount + predictor], varying[predictor][period].max()!)
            }
          }
        }
        var labels: [Float] = []
        for period in 0..<periods {
          for r in patch.row..<(patch.row + options.patchCells) {
            for c in patch.column..<(patch.column + options.patchCells) {
              let density = increase(period, r * cellsWide + c)
              labels += [density > 0 ? 1 : 0, density > 0 ? 0 : 1, density]
            }
          }
        }
        try writer.add(
          patch, side: patchSide, staticValues: staticValues, varying: varying, labels: labels)
      }
    }
    try writer.finish()
    guard writer.shards.contains(where: { $0.side == .train }) else {
      throw RasterError(
        path: directory,
        message:
          "no training patches: \(candidates.count) candidate patches, \(dropped.noData) dropped at "
          + "nodata, \(dropped.boundary) at split boundaries, none dealt to training; use a larger area or "
          + "smaller split blocks")
    }
    let prepared = PreparedStudy(
      patchCells: options.patchCells, cellPixels: pixels, periods: periods, channels: channels,
      minimum: minimum,
      maximum: maximum, monsoons: manifest.monsoons, shards: writer.shards,
      droppedForNoData: dropped.noData,
      droppedAtSplitBoundaries: dropped.boundary)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let manifestOut = (output as NSString).appendingPathComponent("shards.json")
    do {
      try AtomicFile.write(try encoder.encode(prepared), to: manifestOut)
    } catch let failure as AtomicFile.Failure {
      throw RasterError(path: manifestOut, message: failure.message)
    } catch {
      throw RasterError(path: manifestOut, message: "cannot write (\(error.localizedDescription))")
    }
    return prepared
  }
}
