import Evaluation
import Foundation
import GeoData
import TensorEngine

/// The ensemble's predictions for every cell of one split side, beside the observed labels
/// and, for a synthetic study, the truth the labels were drawn from: what `evaluate`
/// scores, saved as `.npy` in the layouts the paper's code publishes.
public struct SplitPredictions: Sendable {
  /// Landslide presence (0/1), per sample and cell: [N, n, n].
  public var labels: [Float] = []
  /// [N, n, n, 1]
  public var probabilities: [Float] = []
  /// [N·n·n, 1]
  public var observedDensity: [Float] = []
  /// [N·n·n, 1]
  public var predictedDensity: [Float] = []
  /// The synthetic truth at the same cells (nil for real data): probability and expected
  /// density of new landslides.
  public var trueProbabilities: [Float]?
  public var trueDensity: [Float]?
  public let patchCells: Int

  /// Runs `ensemble` over `side` of `shards` in batches. With `study` holding
  /// `truth_probability.tif` and `truth_density.tif` (synthetic areas), the truth at each
  /// sample's cells is read too.
  public init(
    _ ensemble: Ensemble, shards: ShardSet, side: SplitSide, study: String?, batchSize: Int = 16
  ) throws(TrainingError) {
    let prepared = shards.prepared
    let n = prepared.patchCells
    patchCells = n
    let patchSide = n * prepared.cellPixels
    let channels = prepared.channels.count
    let samples = shards.samples[side] ?? []
    let tape = Tape(recording: false)
    let labelBuffer = Tensor(zeros: Shape(n * n * 3))
    do {
      for start in stride(from: 0, to: samples.count, by: batchSize) {
        let count = min(batchSize, samples.count - start)
        let patches = Tensor(zeros: Shape(count, patchSide, patchSide, channels))
        let cells = Tensor(
          zeros: Shape(count * n * n, prepared.cellPixels, prepared.cellPixels, channels))
        for slot in 0..<count {
          try shards.assemble(
            side, start + slot, input: patches.data + slot * patchSide * patchSide * channels,
            labels: labelBuffer.data)
          for cell in 0..<(n * n) {
            labels.append(labelBuffer[cell * 3])
            observedDensity.append(labelBuffer[cell * 3 + 2])
          }
        }
        tape.reset()
        let (p, d) = ensemble.predict(patches: patches, cells: cells, tape: tape)
        probabilities += p.array
        predictedDensity += d.array
      }
      if let study {
        let probabilityPath = (study as NSString).appendingPathComponent("truth_probability.tif")
        let densityPath = (study as NSString).appendingPathComponent("truth_density.tif")
        if FileManager.default.fileExists(atPath: probabilityPath),
          FileManager.default.fileExists(atPath: densityPath)
        {
          let truthP = try RasterDataset(path: probabilityPath)
          let truthD = try RasterDataset(path: densityPath)
          var byPeriod: [Int: ([Float], [Float])] = [:]
          var (p, d): ([Float], [Float]) = ([], [])
          for sample in samples {
            let patch = prepared.shards[sample.shard].patches[sample.patch]
            if byPeriod[sample.period] == nil {
              byPeriod[sample.period] = (
                try truthP.read(band: sample.period).values,
                try truthD.read(band: sample.period).values
              )
            }
            let (probability, density) = byPeriod[sample.period]!
            for cell in 0..<(n * n) {
              let index = (patch.row + cell / n) * truthP.grid.width + patch.column + cell % n
              p.append(probability[index])
              d.append(density[index])
            }
          }
          (trueProbabilities, trueDensity) = (p, d)
        }
      }
    } catch let error as SafeTensorsError {
      throw TrainingError(error.description)
    } catch let error as RasterError {
      throw TrainingError(error.description)
    } catch {
      throw TrainingError("\(error)")
    }
  }

  /// Writes labels.npy, probabilities.npy, observed_density.npy, predicted_density.npy (and
  /// truth_probabilities.npy, truth_density.npy when known) into `directory`.
  public func write(to directory: String) throws(TrainingError) {
    let n = patchCells
    let count = labels.count / (n * n)
    var arrays: [(String, [Int], [Float])] = [
      ("labels", [count, n, n], labels),
      ("probabilities", [count, n, n, 1], probabilities),
      ("observed_density", [count * n * n, 1], observedDensity),
      ("predicted_density", [count * n * n, 1], predictedDensity),
    ]
    if let trueProbabilities, let trueDensity {
      arrays.append(("truth_probabilities", [count, n, n, 1], trueProbabilities))
      arrays.append(("truth_density", [count * n * n, 1], trueDensity))
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      for (name, shape, values) in arrays {
        try NumPyArray(shape: shape, values: values).write(
          to: (directory as NSString).appendingPathComponent("\(name).npy"))
      }
    } catch let error as NumPyError {
      throw TrainingError(error.description)
    } catch {
      throw TrainingError("\(directory): \(error.localizedDescription)")
    }
  }

  /// The test metrics, plus `oracle_auc` and `oracle_pearson_r_positive` (the same metrics
  /// of the synthetic truth, the best any model can do on these labels) when known.
  public func metrics(threshold: Float = 0.5) throws(TrainingError) -> [String: Double] {
    do {
      let evaluation = try EnsembleMetrics.evaluate(
        labels: labels, probabilities: probabilities, observedDensity: observedDensity,
        predictedDensity: predictedDensity, threshold: threshold)
      var result = evaluation.metrics.numbers
      if let trueProbabilities, let trueDensity {
        let oracle = try EnsembleMetrics.evaluate(
          labels: labels, probabilities: trueProbabilities, observedDensity: observedDensity,
          predictedDensity: trueDensity, threshold: threshold)
        result["oracle_auc"] = oracle.metrics.auc
        result["oracle_pearson_r_positive"] = oracle.metrics.pearsonRPositive
      }
      return result
    } catch {
      throw TrainingError("test metrics: \(error)")
    }
  }
}

extension MetricsSummary {
  /// Every metric by its JSON key.
  var numbers: [String: Double] {
    guard let data = try? JSONEncoder().encode(self),
      let numbers = try? JSONDecoder().decode([String: Double].self, from: data)
    else { preconditionFailure("metrics are plain numbers") }
    return numbers
  }
}
