import Configuration
import Foundation
import TensorEngine
import Waveform

#if canImport(Glibc)
  import Glibc
#endif

/// The sites of a co-seismic study: three-component velocity records, static covariates and
/// landslide labels, from `.npy` files or a synthetic scenario.
public struct WaveformDataset: Sendable {
  public let records: GroundMotionRecords
  /// [sites, staticCount] row-major.
  public let staticValues: [Float]
  public let staticCount: Int
  /// 1 where the slope failed, 0 where it held.
  public let labels: [Float]

  public var sites: Int { records.sites }

  public init(
    records: GroundMotionRecords, staticValues: [Float], staticCount: Int, labels: [Float]
  ) {
    precondition(staticValues.count == records.sites * staticCount && labels.count == records.sites)
    self.records = records
    self.staticValues = staticValues
    self.staticCount = staticCount
    self.labels = labels
  }

  /// The scenario's sites, covariates and labels.
  public init(_ scenario: WaveformScenario) {
    self.init(
      records: scenario.records, staticValues: scenario.staticValues,
      staticCount: WaveformScenario.staticFeatures.count, labels: scenario.labels)
  }

  /// The scenario a config describes, or an error naming the `scenario` key to change.
  public static func synthetic(_ config: WaveformScenarioConfig) throws(TrainingError)
    -> WaveformDataset
  {
    let specification = WaveformScenario.Specification(
      seed: UInt64(config.seed), sites: config.sites, samples: config.samples,
      sampleRate: config.sampleRate, magnitude: config.magnitude,
      distanceKm: config.minDistanceKm...config.maxDistanceKm, positiveRate: config.positiveRate)
    if let problem = specification.problem {
      throw TrainingError("config section scenario: \(problem)", kind: .invalidSetup)
    }
    return WaveformDataset(WaveformScenario(specification))
  }

  /// Reads `series.npy` ([sites, samples, 3] or the paper's [sites, 3, samples]),
  /// `static.npy` ([sites, features]) and `labels.npy` ([sites], 0 or 1) from `directory`
  /// (what `landslide waveform synth` writes).
  public static func read(directory: String, sampleRate: Double) throws(TrainingError)
    -> WaveformDataset
  {
    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    do {
      let records = try GroundMotionRecords.read(path: path("series.npy"), sampleRate: sampleRate)
      let statics = try NumPyArray.read(path: path("static.npy"))
      let labels = try NumPyArray.read(path: path("labels.npy"))
      guard statics.shape.count == 2, statics.shape[0] == records.sites else {
        throw TrainingError(
          "\(path("static.npy")): shape \(statics.shape); expected [\(records.sites), features] "
            + "(one row per site of series.npy)", kind: .badInput(path: path("static.npy")))
      }
      guard labels.values.count == records.sites, labels.shape.count <= 2 else {
        throw TrainingError(
          "\(path("labels.npy")): shape \(labels.shape); expected [\(records.sites)] "
            + "(one label per site of series.npy)", kind: .badInput(path: path("labels.npy")))
      }
      if let bad = labels.values.first(where: { $0 != 0 && $0 != 1 }) {
        throw TrainingError(
          "\(path("labels.npy")): label \(bad); expected 0 or 1",
          kind: .badInput(path: path("labels.npy")))
      }
      if let site = (0..<records.sites).first(where: { site in
        (0..<statics.shape[1]).contains { !statics.values[site * statics.shape[1] + $0].isFinite }
      }) {
        throw TrainingError(
          "\(path("static.npy")): site \(site) has a value that is not finite",
          kind: .badInput(path: path("static.npy")))
      }
      return WaveformDataset(
        records: records, staticValues: statics.values, staticCount: statics.shape[1],
        labels: labels.values)
    } catch let error as TrainingError {
      throw error
    } catch let error as NumPyError {
      throw TrainingError(error.description, kind: .badInput(path: error.path))
    } catch {
      throw TrainingError("\(error)")
    }
  }
}

/// Which sites train, validate (early stopping) and test: the paper's random 70/30 split
/// with 20 % of the training part held out for validation.
public struct WaveformSplit: Equatable, Sendable {
  public let train: [Int]
  public let validation: [Int]
  public let test: [Int]

  public init(sites: Int, config: WaveformSplitConfig) throws(TrainingError) {
    var order = Array(0..<sites)
    var random = RandomGenerator(seed: UInt64(config.seed) &+ 0x5350_4C49_54)
    order.shuffle(using: &random)
    let testCount = Int((Double(sites) * config.testFraction).rounded())
    let validationCount = Int((Double(sites - testCount) * config.validationFraction).rounded())
    test = Array(order[0..<testCount])
    validation = Array(order[testCount..<(testCount + validationCount)])
    train = Array(order[(testCount + validationCount)...])
    for (name, side) in [("training", train), ("validation", validation), ("test", test)]
    where side.isEmpty {
      throw TrainingError(
        "\(sites) sites leave the \(name) split empty (split.test_fraction \(config.testFraction), "
          + "split.validation_fraction \(config.validationFraction)); use more sites",
        kind: .invalidSetup)
    }
  }
}

/// How a checkpoint's inputs were scaled, so that new sites (explanations) are scaled alike:
/// static columns are standardised with the training split's mean and standard deviation,
/// and the waveform is multiplied by one factor (1 / the training split's RMS velocity),
/// which keeps the relative amplitudes between sites and components (they carry PGV) and
/// keeps the zero baseline at zero.
public struct WaveformNormalisation: Codable, Equatable, Sendable {
  public var staticMean: [Float]
  public var staticScale: [Float]
  public var waveformScale: Float

  enum CodingKeys: String, CodingKey {
    case staticMean = "static_mean"
    case staticScale = "static_scale"
    case waveformScale = "waveform_scale"
  }
}

/// A variant's inputs for every site: the (possibly low-passed) records and the static
/// matrix the network reads, normalised with training-split statistics.
///
/// PGV and Arias intensity, scalars per site, are log-scaled, standardised and appended to
/// the static covariates as one more column, so they go through the static dense branch
/// (Mod2: a branch of one input). The alternative, a one-step one-component "waveform",
/// would carry nothing: the encoder's LayerNorm over a single component maps every value
/// to zero.
public struct WaveformInputs: Sendable {
  public let variant: WaveformVariant
  /// The records the encoder reads (nil for the scalar variants), before `waveformScale`.
  public let records: GroundMotionRecords?
  /// [sites, staticCount] normalised.
  public let statics: [Float]
  public let staticCount: Int
  public let labels: [Float]
  public let normalisation: WaveformNormalisation

  public init(
    _ data: WaveformDataset, variant: WaveformVariant, trainingSites: [Int],
    lowPass: (hz: Double, order: Int)
  ) throws(TrainingError) {
    self.variant = variant
    labels = data.labels
    var columns: [[Float]] = []
    if variant.usesStaticCovariates {
      for feature in 0..<data.staticCount {
        columns.append((0..<data.sites).map { data.staticValues[$0 * data.staticCount + feature] })
      }
    }
    switch variant.motion {
    case .waveform:
      records = data.records
    case .lowPassedWaveform:
      guard lowPass.hz < data.records.sampleRate / 2 else {
        throw TrainingError(
          "model.low_pass_hz \(lowPass.hz) must lie below the Nyquist frequency "
            + "\(data.records.sampleRate / 2) Hz of the records", kind: .invalidSetup)
      }
      let filter = ButterworthLowPass(
        order: lowPass.order, cutoff: lowPass.hz, sampleRate: data.records.sampleRate)
      guard data.records.samples > filter.padding else {
        throw TrainingError(
          "records of \(data.records.samples) samples are too short for the low-pass filter's "
            + "padding of \(filter.padding); use longer records", kind: .invalidSetup)
      }
      records = data.records.lowPassed(filter)
    case .peakGroundVelocity:
      records = nil
      columns.append(data.records.peakGroundVelocity().map { Float(log(max(Double($0), 1e-12))) })
    case .ariasIntensity:
      records = nil
      columns.append(
        data.records.ariasIntensity().map { Float(log(max($0.horizontal, 1e-12))) })
    }
    staticCount = columns.count
    var mean: [Float] = []
    var scale: [Float] = []
    for column in columns {
      let values = trainingSites.map { Double(column[$0]) }
      let average = values.reduce(0, +) / Double(values.count)
      let variance =
        values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count)
      mean.append(Float(average))
      // A constant column is centred only.
      scale.append(variance > 0 ? Float(1 / variance.squareRoot()) : 1)
    }
    var statics = [Float](repeating: 0, count: data.sites * columns.count)
    for (feature, column) in columns.enumerated() {
      for site in 0..<data.sites {
        statics[site * columns.count + feature] = (column[site] - mean[feature]) * scale[feature]
      }
    }
    self.statics = statics
    var waveformScale: Float = 1
    if let records {
      var squares = 0.0
      let stride = records.samples * 3
      for site in trainingSites {
        for index in (site * stride)..<((site + 1) * stride) {
          squares += Double(records.values[index]) * Double(records.values[index])
        }
      }
      let rms = (squares / Double(trainingSites.count * stride)).squareRoot()
      waveformScale = rms > 0 ? Float(1 / rms) : 1
    }
    normalisation = WaveformNormalisation(
      staticMean: mean, staticScale: scale, waveformScale: waveformScale)
  }

  /// Copies the inputs of `sites` into the batch tensors (normalised).
  func fill(_ batch: WaveformBatch, sites: [Int]) {
    if let records, let series = batch.series {
      let stride = records.samples * 3
      let scale = normalisation.waveformScale
      records.values.withUnsafeBufferPointer { values in
        for (row, site) in sites.enumerated() {
          let target = series.data + row * stride
          let source = values.baseAddress! + site * stride
          for index in 0..<stride { target[index] = source[index] * scale }
        }
      }
    }
    if let statics = batch.statics {
      for (row, site) in sites.enumerated() {
        for feature in 0..<staticCount {
          statics.data[row * staticCount + feature] = self.statics[site * staticCount + feature]
        }
      }
    }
    for (row, site) in sites.enumerated() { batch.labels.data[row] = labels[site] }
  }
}

/// Reusable input and target tensors of one batch size.
final class WaveformBatch {
  let series: Tensor?
  let statics: Tensor?
  let labels: Tensor

  init(count: Int, inputs: WaveformInputs) {
    series = inputs.records.map { Tensor(zeros: Shape(count, $0.samples, 3)) }
    statics = inputs.staticCount > 0 ? Tensor(zeros: Shape(count, inputs.staticCount)) : nil
    labels = Tensor(zeros: Shape(count, 1))
  }
}
