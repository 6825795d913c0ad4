import Foundation
import Models
import TensorEngine
import Waveform

/// The per-time-step explanation score of SPEC.md §2,
/// S = (x − x₀) · ∇ᵢ / (∇ᵢ − ∇₀), element by element (time step and component), where ∇ᵢ
/// and ∇₀ are the gradients of P(landslide) with respect to the waveform at the input x and
/// at the all-zero baseline x₀ (static covariates unchanged). The gradients are taken with
/// respect to the record in m/s as the files hold it, so S is in m/s too.
///
/// Where ∇ᵢ = ∇₀ the ratio is undefined; S is 0 there (no change of gradient between
/// baseline and input, so nothing to attribute), which also makes S exactly 0 wherever the
/// input equals the baseline.
public struct WaveformExplanation {
  /// [sites, samples, 3].
  public let scores: [Float]
  /// ∂p/∂x at the input and at the baseline, [sites, samples, 3].
  public let inputGradients: [Float]
  public let baselineGradients: [Float]
  /// P(landslide) per site.
  public let probabilities: [Float]
  public let sites: Int
  public let samples: Int

  /// Explains `records` (raw velocities, the checkpoint's rate and length) with their
  /// `statics` ([sites, features] as the data files hold them, before normalisation; empty
  /// when the variant has no static covariates). The `lowpass` variant filters the
  /// records as its training did.
  public init(
    model: WaveformTransformer, description: WaveformDescription, records: GroundMotionRecords,
    statics: [Float], batchSize: Int = 16
  ) throws(TrainingError) {
    guard description.variant.readsWaveform else {
      throw TrainingError(
        "variant \(description.variant.rawValue) reads no waveform; only mod1, mod3 and "
          + "lowpass can be explained per time step")
    }
    guard records.samples == description.length else {
      throw TrainingError(
        "records of \(records.samples) samples; the checkpoint was trained on \(description.length)"
      )
    }
    guard records.sampleRate == description.sampleRate else {
      throw TrainingError(
        "records at \(records.sampleRate) Hz; the checkpoint was trained at \(description.sampleRate) Hz"
      )
    }
    let features = description.normalisation.staticMean.count
    guard statics.count == records.sites * features else {
      throw TrainingError(
        "\(statics.count / max(records.sites, 1)) static values per site; the checkpoint "
          + "expects \(features)")
    }
    var input = records
    if description.variant.motion == .lowPassedWaveform {
      input = records.lowPassed(
        ButterworthLowPass(
          order: description.lowPassOrder, cutoff: description.lowPassHz,
          sampleRate: description.sampleRate))
    }
    sites = records.sites
    samples = records.samples
    let stride = samples * 3
    let scale = description.normalisation.waveformScale
    var scores = [Float](repeating: 0, count: sites * stride)
    var atInput = scores
    var atBaseline = scores
    var probabilities = [Float](repeating: 0, count: sites)
    model.train(false)
    let tape = Tape()
    for start in Swift.stride(from: 0, to: sites, by: batchSize) {
      let count = min(batchSize, sites - start)
      let series = Tensor(zeros: Shape(count, samples, 3), requiresGradient: true)
      let covariates: Tensor? =
        features > 0 ? Tensor(zeros: Shape(count, features)) : nil
      for row in 0..<count {
        for feature in 0..<features {
          let value = statics[(start + row) * features + feature]
          covariates![row * features + feature] =
            (value - description.normalisation.staticMean[feature])
            * description.normalisation.staticScale[feature]
        }
      }
      // Each site's p depends on its own row only (inference mode), so one backward pass
      // from the sum of the batch's probabilities gives every site's gradient.
      func gradient(into target: inout [Float]) -> [Float] {
        series.gradient?.fill(0)
        tape.reset()
        let probability = model(series: series, static: covariates, tape)
        tape.backward(from: probability)
        let gradient = series.gradient!
        for index in 0..<(count * stride) {
          target[start * stride + index] = gradient[index] * scale
        }
        return probability.array
      }
      _ = gradient(into: &atBaseline)
      input.values.withUnsafeBufferPointer { values in
        for index in 0..<(count * stride) {
          series.data[index] = values[start * stride + index] * scale
        }
      }
      let p = gradient(into: &atInput)
      for row in 0..<count { probabilities[start + row] = p[row] }
    }
    for index in scores.indices {
      let difference = atInput[index] - atBaseline[index]
      scores[index] = difference == 0 ? 0 : input.values[index] * atInput[index] / difference
    }
    self.scores = scores
    inputGradients = atInput
    baselineGradients = atBaseline
    self.probabilities = probabilities
  }

  /// The time step of each site's peak ground velocity: where the three-component vector
  /// |v(t)| is largest (the geometric-mean PGV has no single time).
  public static func peakTimes(_ records: GroundMotionRecords) -> [Int] {
    (0..<records.sites).map { site in
      var (peak, time) = (Float(-1), 0)
      for t in 0..<records.samples {
        let base = (site * records.samples + t) * 3
        let (e, n, u) = (records.values[base], records.values[base + 1], records.values[base + 2])
        let magnitude = e * e + n * n + u * u
        if magnitude > peak { (peak, time) = (magnitude, t) }
      }
      return time
    }
  }

  /// The distribution of S against time relative to each site's PGV arrival: bins of
  /// `binSeconds`, per component the 10th, 50th and 90th percentile of the scores of every
  /// site and time step in the bin.
  public func distribution(peakTimes: [Int], sampleRate: Double, binSeconds: Double)
    -> [ScoreQuantiles]
  {
    let samplesPerBin = max(1, Int((binSeconds * sampleRate).rounded()))
    var bins: [Int: [[Float]]] = [:]
    for site in 0..<sites {
      for t in 0..<samples {
        let bin = Int((Double(t - peakTimes[site]) / Double(samplesPerBin)).rounded(.down))
        for component in 0..<3 {
          bins[bin, default: [[], [], []]][component].append(
            scores[(site * samples + t) * 3 + component])
        }
      }
    }
    return bins.keys.sorted().map { bin in
      let values = bins[bin]!
      func quantile(_ sorted: [Float], _ q: Double) -> Float {
        sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
      }
      let sorted = values.map { $0.sorted() }
      return ScoreQuantiles(
        seconds: (Double(bin) + 0.5) * Double(samplesPerBin) / sampleRate,
        low: sorted.map { quantile($0, 0.1) }, median: sorted.map { quantile($0, 0.5) },
        high: sorted.map { quantile($0, 0.9) })
    }
  }
}

/// One time bin of an explanation's score distribution: per component (E–W, N–S, U–D).
public struct ScoreQuantiles: Equatable, Sendable {
  /// Bin centre, seconds after the PGV arrival.
  public var seconds: Double
  public var low: [Float]
  public var median: [Float]
  public var high: [Float]
}
