import Foundation
import GeoData
import TensorEngine

/// Susceptibility, density and hazard per 1 km cell and period over a whole study area,
/// predicted patch by patch: the predictors are read one row of patches at a time, so
/// memory grows with the area's width, never its height; only the 1 km maps are held.
public struct HazardMaps: Sendable {
  /// The 1 km grid of the maps: the predictors' origin and CRS, `cellPixels` times coarser.
  public let grid: RasterGrid
  /// Per period, per cell (row-major); NaN where a patch touched no data.
  public var probability: [[Float]]
  public var density: [[Float]]
  public var hazard: [[Float]] {
    zip(probability, density).map { p, d in zip(p, d).map { $0 * $1 } }
  }

  /// Predicts every cell of the study in `directory` (`study.json`, `predictors/`). Cells are
  /// covered by the patch grid; a last row or column of patches is aligned with the far
  /// edge where the area is not a whole number of patches. `progress` hears the rows of
  /// patches done and their number after each row (a national area takes minutes).
  public static func predict(
    _ ensemble: Ensemble, study directory: String, batchSize: Int = 16,
    progress: (_ rowsDone: Int, _ rows: Int) -> Void = { _, _ in }
  ) throws(TrainingError) -> HazardMaps {
    let manifest: StudyManifest
    do { manifest = try StudyManifest.read(study: directory) } catch {
      throw TrainingError(error.description)
    }
    let manifestPath = (directory as NSString).appendingPathComponent("study.json")
    let description = ensemble.description
    let channels = manifest.staticPredictors + manifest.timeVaryingPredictors + ["monsoons"]
    guard channels == description.channels, manifest.cellPixels == description.cellPixels else {
      throw TrainingError(
        "\(manifestPath): the study's channels \(channels) at \(manifest.cellPixels) pixels per "
          + "cell differ from the checkpoint's \(description.channels) at "
          + "\(description.cellPixels)")
    }
    let periods = manifest.periods
    do {
      let stack = try manifest.predictorStack(study: directory)
      let (n, pixels) = (description.patchCells, description.cellPixels)
      let (cellsWide, cellsHigh) = (stack.grid.width / pixels, stack.grid.height / pixels)
      guard cellsWide >= n, cellsHigh >= n else {
        throw TrainingError(
          "\(directory)/predictors: \(cellsWide) × \(cellsHigh) cells is smaller than one \(n) × \(n) patch"
        )
      }
      var transform = stack.grid.geoTransform
      transform.pixelWidth *= Double(pixels)
      transform.pixelHeight *= Double(pixels)
      let grid = RasterGrid(
        width: cellsWide, height: cellsHigh, geoTransform: transform, crsWKT: stack.grid.crsWKT)
      var maps = HazardMaps(
        grid: grid,
        probability: Array(
          repeating: [Float](repeating: .nan, count: cellsWide * cellsHigh), count: periods),
        density: Array(
          repeating: [Float](repeating: .nan, count: cellsWide * cellsHigh), count: periods))
      var reader = PatchReader(
        stack: stack, description: description, staticCount: manifest.staticPredictors.count,
        periods: periods, monsoons: manifest.monsoons)
      let side = n * pixels
      let patches = Tensor(zeros: Shape(batchSize, side, side, channels.count))
      let cells = Tensor(zeros: Shape(batchSize * n * n, pixels, pixels, channels.count))
      let tape = Tape(recording: false)
      let rows = edgeAligned(count: cellsHigh, step: n)
      for (done, top) in rows.enumerated() {
        defer { progress(done + 1, rows.count) }
        try reader.load(rowOfPatchesAt: top)
        let columns = edgeAligned(count: cellsWide, step: n)
        for period in 0..<periods {
          var pending: [Int] = []  // columns of the patches in the batch
          func flush() {
            guard !pending.isEmpty else { return }
            tape.reset()
            let (p, d) = ensemble.predict(patches: patches, cells: cells, tape: tape)
            for (slot, left) in pending.enumerated() {
              for cell in 0..<(n * n) {
                let index = (top + cell / n) * cellsWide + left + cell % n
                maps.probability[period][index] = p[slot * n * n + cell]
                maps.density[period][index] = d[slot * n * n + cell]
              }
            }
            pending.removeAll(keepingCapacity: true)
          }
          for left in columns {
            let slot = pending.count
            if reader.assemble(
              column: left, period: period,
              into: patches.data + slot * side * side * channels.count)
            {
              pending.append(left)
            }
            if pending.count == batchSize { flush() }
          }
          flush()
        }
      }
      return maps
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError("\(error)")
    }
  }

  /// Patch origins 0, step, 2·step, … plus one flush with the far edge if needed.
  static func edgeAligned(count: Int, step: Int) -> [Int] {
    var origins = Array(stride(from: 0, through: count - step, by: step))
    if let last = origins.last, last + step < count { origins.append(count - step) }
    return origins
  }
}

/// Reads a row of patches from the predictor stack and assembles normalised patches, as
/// `ShardSet` does from shards: static predictors, the period's time-varying ones, monsoons.
struct PatchReader {
  let stack: RasterStack
  let description: EnsembleDescription
  let staticCount: Int
  let periods: Int
  let monsoons: [Int]
  /// The current row of patches: per band (statics, then each varying predictor's periods).
  private var bands: [BandWindow] = []
  private let scale: [Float]

  init(
    stack: RasterStack, description: EnsembleDescription, staticCount: Int, periods: Int,
    monsoons: [Int]
  ) {
    self.stack = stack
    self.description = description
    self.staticCount = staticCount
    self.periods = periods
    self.monsoons = monsoons
    scale = zip(description.minimum, description.maximum).map { low, high in
      high > low ? 1 / (high - low) : 0
    }
  }

  mutating func load(rowOfPatchesAt top: Int) throws(RasterError) {
    let side = description.patchCells * description.cellPixels
    let window = RasterWindow(
      x: 0, y: top * description.cellPixels, width: stack.grid.width, height: side)
    bands.removeAll(keepingCapacity: true)
    for (index, raster) in stack.rasters.enumerated() {
      for band in 0..<(index < staticCount ? 1 : periods) {
        bands.append(try raster.read(band: band, window: window))
      }
    }
  }

  /// Writes the normalised patch whose left cell is `column`; false where it touches no data.
  func assemble(column: Int, period: Int, into input: UnsafeMutablePointer<Float>) -> Bool {
    let side = description.patchCells * description.cellPixels
    let (width, channels) = (stack.grid.width, description.channels.count)
    let x0 = column * description.cellPixels
    let monsoon =
      (Float(monsoons[period]) - description.minimum[channels - 1]) * scale[channels - 1]
    for y in 0..<side {
      for x in 0..<side {
        let source = y * width + x0 + x
        let out = input + (y * side + x) * channels
        for channel in 0..<(channels - 1) {
          let band =
            channel < staticCount
            ? bands[channel] : bands[staticCount + (channel - staticCount) * periods + period]
          guard band.valid[source] else { return false }
          out[channel] = (band.values[source] - description.minimum[channel]) * scale[channel]
        }
        out[channels - 1] = monsoon
      }
    }
    return true
  }
}
