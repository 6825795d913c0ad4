import Foundation
import TensorEngine

/// Collects patches per split side and writes them as safetensors shards of
/// `patchesPerShard` patches: `static` [K, S, S, C_static] (once per patch), `varying`
/// [K, P, S, S, C_varying] and `labels` [K, P, n, n, 3] (presence, absence, density %),
/// channels last. Values are raw; the prepared manifest holds the min–max to normalise.
struct ShardWriter {
  let output: String
  let side, periods, staticCount, varyingCount, patchCells, patchesPerShard: Int
  private(set) var shards: [PreparedStudy.Shard] = []
  private var pending:
    [SplitSide: (patches: [Patch], statics: [Float], varying: [Float], labels: [Float])] = [:]

  init(
    output: String, side: Int, periods: Int, staticCount: Int, varyingCount: Int, patchCells: Int,
    patchesPerShard: Int
  ) {
    self.output = output
    self.side = side
    self.periods = periods
    self.staticCount = staticCount
    self.varyingCount = varyingCount
    self.patchCells = patchCells
    self.patchesPerShard = patchesPerShard
  }

  /// `staticValues[channel]` and `varying[predictor][period]` are row-major S × S planes.
  mutating func add(
    _ patch: Patch, side splitSide: SplitSide, staticValues: [[Float]], varying: [[[Float]]],
    labels: [Float]
  ) throws(RasterError) {
    var entry = pending[splitSide] ?? ([], [], [], [])
    entry.patches.append(patch)
    let area = side * side
    for pixel in 0..<area {
      for channel in 0..<staticCount { entry.statics.append(staticValues[channel][pixel]) }
    }
    for period in 0..<periods {
      for pixel in 0..<area {
        for predictor in 0..<varyingCount {
          entry.varying.append(varying[predictor][period][pixel])
        }
      }
    }
    entry.labels += labels
    pending[splitSide] = entry
    if entry.patches.count == patchesPerShard { try flush(splitSide) }
  }

  mutating func finish() throws(RasterError) {
    for splitSide in SplitSide.allCases where pending[splitSide] != nil { try flush(splitSide) }
  }

  private mutating func flush(_ splitSide: SplitSide) throws(RasterError) {
    guard let entry = pending.removeValue(forKey: splitSide), !entry.patches.isEmpty else { return }
    let number = shards.filter { $0.side == splitSide }.count
    let file = "\(splitSide.rawValue)-\(String(format: "%04d", number)).safetensors"
    let path = (output as NSString).appendingPathComponent(file)
    let k = entry.patches.count
    do {
      try entry.statics.withUnsafeBufferPointer { statics in
        try entry.varying.withUnsafeBufferPointer { varying in
          try entry.labels.withUnsafeBufferPointer { labels in
            try SafeTensors.write(
              [
                .init(name: "static", shape: [k, side, side, staticCount], values: statics),
                .init(
                  name: "varying", shape: [k, periods, side, side, varyingCount], values: varying),
                .init(
                  name: "labels", shape: [k, periods, patchCells, patchCells, 3], values: labels),
              ], metadata: ["side": splitSide.rawValue], to: path)
          }
        }
      }
    } catch {
      throw RasterError(path: path, message: "\(error)")
    }
    shards.append(PreparedStudy.Shard(file: file, side: splitSide, patches: entry.patches))
  }
}
