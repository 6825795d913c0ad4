import Foundation
import GeoData
import TensorEngine
import Testing

@testable import Training

@Suite struct HazardMapTests {
  /// Maps sit on the inventory's 1 km grid (the predictors' origin and CRS), and each cell
  /// holds what the ensemble predicts for the patch that covers it: predicting from the
  /// rasters agrees with predicting from the shards, cell for cell.
  @Test func mapsAlignWithTheInputGrid() throws {
    let study = try TinyStudy()
    defer { study.remove() }
    let ensemble = Ensemble(try study.trainer().ensemble.description, seed: 9)
    let maps = try HazardMaps.predict(ensemble, study: study.data.study, batchSize: 3)
    let inventory = try RasterDataset(path: study.data.inventory)
    #expect(maps.grid == inventory.grid)
    let predictors = try RasterDataset(
      path: study.data.study + "/predictors/\(study.data.manifest.staticPredictors[0]).tif")
    #expect(maps.grid.geoTransform.originX == predictors.grid.geoTransform.originX)
    #expect(maps.grid.geoTransform.originY == predictors.grid.geoTransform.originY)
    #expect(maps.grid.geoTransform.pixelWidth == predictors.grid.geoTransform.pixelWidth * 32)
    #expect(maps.probability.allSatisfy { band in band.allSatisfy { !$0.isNaN } })

    let split = try SplitPredictions(
      ensemble, shards: study.shards, side: .train, study: nil, batchSize: 5)
    let n = study.shards.prepared.patchCells
    var compared = 0
    for (index, sample) in study.shards.samples[.train]!.enumerated() {
      let patch = study.shards.prepared.shards[sample.shard].patches[sample.patch]
      // Normal-grid patches are the ones the maps are predicted from.
      guard !patch.shifted else { continue }
      for cell in 0..<(n * n) {
        let mapIndex = (patch.row + cell / n) * maps.grid.width + patch.column + cell % n
        let p = maps.probability[sample.period][mapIndex]
        let d = maps.density[sample.period][mapIndex]
        #expect(abs(p - split.probabilities[index * n * n + cell]) < 1e-5)
        #expect(abs(d - split.predictedDensity[index * n * n + cell]) < 1e-4 * max(1, abs(d)))
        compared += 1
      }
    }
    #expect(compared >= 16)
  }

  @Test func patchOriginsCoverTheEdge() {
    #expect(HazardMaps.edgeAligned(count: 16, step: 4) == [0, 4, 8, 12])
    #expect(HazardMaps.edgeAligned(count: 10, step: 4) == [0, 4, 6])
    #expect(HazardMaps.edgeAligned(count: 4, step: 4) == [0])
  }

  /// Checkpoints round-trip every weight and running statistic, and a checkpoint whose
  /// tensors do not fit is refused by name.
  @Test func checkpointsRoundTrip() throws {
    let study = try TinyStudy()
    defer { study.remove() }
    let ensemble = try study.trainer().ensemble
    for (_, tensor) in ensemble.namedTensors {
      for index in 0..<tensor.count { tensor[index] = Float(index % 97) * 0.01 - 0.3 }
    }
    let path = study.directory.appendingPathComponent("ensemble.safetensors").path
    try EnsembleCheckpoint.write(ensemble, to: path)
    let loaded = try EnsembleCheckpoint.read(path)
    #expect(loaded.description == ensemble.description)
    for ((name, a), (_, b)) in zip(ensemble.namedTensors, loaded.namedTensors) {
      #expect(a.array == b.array, "\(name)")
    }
    var other = ensemble.description
    other.denseWidths = [16]
    let mismatched = Ensemble(other, seed: 1)
    #expect(throws: SafeTensorsError.self) {
      try EnsembleCheckpoint.format(mismatched).load(try SafeTensorsFile(path: path))
    }
  }
}
