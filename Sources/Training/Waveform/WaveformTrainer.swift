import Configuration
import Distributed
import Evaluation
import Foundation
import Models
import TensorEngine

/// One epoch of transformer training, as `metrics.jsonl` records it.
public struct WaveformEpochRecord: Codable, Equatable, Sendable {
  public var epoch: Int
  /// Optimiser steps so far.
  public var step: Int
  public var trainLoss: Double
  public var validationLoss: Double
  public var validationAUC: Double?
  public var learningRate: Double
  public var samplesPerSecond: Double
  public var seconds: Double
  /// Whether this epoch set a new minimum validation loss (its weights are kept).
  public var best: Bool

  enum CodingKeys: String, CodingKey {
    case epoch, step, best, seconds
    case trainLoss = "train_loss"
    case validationLoss = "validation_loss"
    case validationAUC = "validation_auc"
    case learningRate = "learning_rate"
    case samplesPerSecond = "samples_per_s"
  }
}

/// Where transformer training stands: everything besides tensors that a resumed run needs to
/// continue as the uninterrupted one would have.
struct WaveformPosition: Codable, Equatable {
  var completedEpochs: Int
  /// Steps done in the next epoch (a checkpoint taken on a stop request) and each rank's
  /// running loss sum over them.
  var stepsDone: Int
  var lossSums: [Double]
  /// The training order after the last shuffle and the shuffling generator's state.
  var order: [Int]
  var shuffle: [UInt64]
  var best: Double?
  var sinceBest: Int
  var adamStep: Int
  var records: [WaveformEpochRecord]
  /// Each rank's dropout generator.
  var dropout: [[UInt64]]

  enum CodingKeys: String, CodingKey {
    case order, shuffle, best, records, dropout
    case completedEpochs = "completed_epochs"
    case stepsDone = "steps_done"
    case lossSums = "loss_sums"
    case sinceBest = "since_best"
    case adamStep = "adam_step"
  }
}

/// Trains one variant of the full-waveform transformer (SPEC.md §2): weighted binary
/// cross-entropy (class weights from the config), Adam with staircase exponential decay,
/// a fresh shuffle of the training sites each epoch, early stopping on the validation loss
/// with patience, and at the end the weights of the minimum validation loss.
///
/// Data parallel like the ensemble's trainer: every rank starts from rank 0's weights,
/// shuffles alike and takes its slice of each global batch; `GradientReducer` averages the
/// gradients before each step. Rank 0 writes a checkpoint (weights, Adam moments, best
/// weights, every rank's batch-norm statistics and dropout generator, the position) after
/// every epoch and when SIGTERM or SIGUSR1 asks training to stop.
public final class WaveformTrainer {
  public let model: WaveformTransformer
  public let description: WaveformDescription
  public let inputs: WaveformInputs
  public let split: WaveformSplit
  let config: WaveformTrainingConfig
  let communicator: Communicator?
  /// Decisions and writes the ranks make together.
  private var agreement: RankAgreement { RankAgreement(communicator: communicator) }
  var rank: Int { communicator?.rank ?? 0 }
  var ranks: Int { communicator?.size ?? 1 }
  private let tape: Tape
  private let inference = Tape(recording: false)
  private let loss: Loss
  private var progress: ProgressReporter
  private let log: (String) -> Void
  private let metrics: MetricsLog<WaveformEpochRecord>?
  public private(set) var records: [WaveformEpochRecord] = []
  /// Where rank 0 writes `step-NNNNNNNN.safetensors` (the newest `keep_checkpoints` kept)
  /// and `best.safetensors`; nil: nowhere.
  public var checkpointDirectory: String?
  /// Identifies the config; a checkpoint made with another is refused on resume.
  public var configHash = ""
  public private(set) var latestCheckpoint: String?
  private var globalStep = 0
  private var pending: (position: WaveformPosition, file: SafeTensorsFile)?
  private var batches: [Int: WaveformBatch] = [:]

  /// - Parameters:
  ///   - metricsPath: where rank 0 writes one JSON line per epoch (nil: nowhere).
  ///   - communicator: the ranks to train with (nil: this process alone).
  public init(
    config: WaveformConfig, variant: WaveformVariant, data: WaveformDataset,
    split: WaveformSplit, metricsPath: String?, communicator: Communicator? = nil,
    log: @escaping (String) -> Void
  ) throws(TrainingError) {
    self.config = config.training
    self.split = split
    self.communicator = communicator
    let ranks = communicator?.size ?? 1
    guard config.training.batchSize % ranks == 0 else {
      throw TrainingError(
        "training.batch_size \(config.training.batchSize) is the global batch and must be a "
          + "multiple of the \(ranks) ranks")
    }
    inputs = try WaveformInputs(
      data, variant: variant, trainingSites: split.train,
      lowPass: (config.model.lowPassHz, config.model.lowPassOrder))
    guard inputs.staticCount > 0 || inputs.records != nil else {
      throw TrainingError(
        "variant \(variant.rawValue) needs static covariates, but the data has none")
    }
    description = WaveformDescription(
      inputs, sampleRate: data.records.sampleRate, model: config.model)
    model = description.makeModel(seed: UInt64(config.training.seed))
    let rank = communicator?.rank ?? 0
    tape = Tape(seed: UInt64(config.training.seed) &+ 1 &+ UInt64(rank))
    loss = .binaryCrossEntropyWithLogits(
      positiveWeight: Float(config.training.positiveWeight),
      negativeWeight: Float(config.training.negativeWeight))
    let quiet: (String) -> Void = { _ in }
    self.log = rank == 0 ? log : quiet
    progress = ProgressReporter(
      interval: config.training.progressInterval, output: rank == 0 ? log : quiet)
    metrics =
      rank == 0
      ? try metricsPath.map { path throws(TrainingError) in try MetricsLog(path: path) }
      : nil
    if let communicator {
      for (name, tensor) in model.namedTensors {
        do { try communicator.broadcast(tensor.buffer, root: 0) } catch {
          throw TrainingError("broadcasting \(name): \(error)")
        }
      }
    }
  }

  static let positionKey = "waveform_position"
  static let configKey = "config_hash"
  static let stepKey = "global_step"

  /// Loads a checkpoint written by this trainer; `train()` continues from it.
  /// - Parameter force: accept a checkpoint made with another config.
  public func resume(from path: String, force: Bool = false) throws(TrainingError) {
    do {
      let file = try SafeTensorsFile(path: path)
      guard let json = file.metadata[Self.positionKey],
        let position = try? JSONDecoder().decode(WaveformPosition.self, from: Data(json.utf8))
      else {
        throw TrainingError("\(path): not a waveform training checkpoint (no training position)")
      }
      let stored = try WaveformCheckpoint.description(file)
      guard stored.variant == description.variant else {
        throw TrainingError(
          "\(path): a checkpoint of variant \(stored.variant.rawValue), not "
            + description.variant.rawValue)
      }
      let hash = file.metadata[Self.configKey] ?? ""
      guard hash == configHash || force else {
        throw TrainingError(
          "\(path): made with a different config (hash \(hash), this run's \(configHash)); "
            + "pass --force to continue from it anyway")
      }
      try WaveformCheckpoint.load(file, into: model)
      try agreement.loadRow(file, StageCheckpoint.rankStatesKey, into: stateTensors)
      records = position.records
      globalStep = Int(file.metadata[Self.stepKey] ?? "0") ?? 0
      if position.dropout.indices.contains(rank) {
        tape.random = RandomGenerator(words: position.dropout[rank])
      }
      try metrics?.rewrite(records)
      pending = (position, file)
      log("resuming from \(path): \(position.completedEpochs) epoch(s) done")
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError("\(error)")
    }
  }

  private var stateTensors: [Tensor] {
    model.namedTensors.map(\.tensor).filter { !$0.requiresGradient }
  }

  /// Trains until early stopping or `max_epochs`; the model then holds the weights of the
  /// minimum validation loss.
  public func train() throws(TrainingError) {
    let t = config
    let resumed = pending
    pending = nil
    if resumed == nil { try metrics?.rewrite([]) }
    let perRank = min(t.batchSize, split.train.count) / ranks
    guard perRank >= 1 else {
      throw TrainingError("\(split.train.count) training sites cannot be shared by \(ranks) ranks")
    }
    let adam = Adam(
      parameters: model.parameters, beta1: Float(t.adamBeta1), beta2: Float(t.adamBeta2),
      epsilon: Float(t.adamEpsilon))
    let schedule = ExponentialDecay(
      initial: Float(t.learningRate), rate: Float(t.decayRate), decaySteps: t.decaySteps,
      staircase: t.staircase)
    let snapshot = WeightSnapshot(model)
    let reducer = communicator.map {
      GradientReducer($0, parameters: model.parameters, bucketFloats: t.bucketMegabytes << 18)
    }
    var best = Double.infinity
    var sinceBest = 0
    var order = split.train
    var random = RandomGenerator(seed: UInt64(t.seed) &* 1_000_003 &+ 17)
    var firstEpoch = 1
    var resumedSteps = 0
    var resumedLoss = 0.0
    if let (position, file) = resumed {
      try StageCheckpoint.restore(file, adam: adam, snapshot: snapshot, agreement: agreement)
      adam.step = position.adamStep
      order = position.order
      random = RandomGenerator(words: position.shuffle)
      best = position.best ?? .infinity
      sinceBest = position.sinceBest
      firstEpoch = position.completedEpochs + 1
      resumedSteps = position.stepsDone
      resumedLoss = position.lossSums.indices.contains(rank) ? position.lossSums[rank] : 0
    }
    log(
      "\(description.variant.rawValue) (\(description.variant.summary)): "
        + "\(split.train.count) training, \(split.validation.count) validation sites, "
        + "\(model.parameterCount) parameters, at most \(t.maxEpochs) epochs")
    func position(epochs: Int, steps: Int) -> WaveformPosition {
      WaveformPosition(
        completedEpochs: epochs, stepsDone: steps, lossSums: [], order: order,
        shuffle: random.words, best: best.isFinite ? best : nil, sinceBest: sinceBest,
        adamStep: adam.step, records: records, dropout: [])
    }
    for epoch in stride(from: firstEpoch, through: t.maxEpochs, by: 1) where sinceBest < t.patience
    {
      if resumedSteps == 0 { order.shuffle(using: &random) }
      let steps = order.count / (perRank * ranks)
      let start = ContinuousClock.now
      let firstStep = resumedSteps
      var lossSum = resumedLoss
      (resumedSteps, resumedLoss) = (0, 0)
      model.train(true)
      for step in firstStep..<steps {
        let first = (step * ranks + rank) * perRank
        let batch = self.batch(perRank)
        inputs.fill(batch, sites: Array(order[first..<(first + perRank)]))
        tape.reset()
        let value = tape.loss(loss, prediction: logits(batch, tape), target: batch.labels)
        tape.backward(from: value)
        let stepLoss = Double(value.scalar)
        try reducer?.averageGradients()
        adam.update(learningRate: schedule.learningRate(at: adam.step))
        globalStep += 1
        guard try agreement.allFinite(stepLoss) else {
          throw TrainingError(
            "epoch \(epoch) step \(step + 1): the loss is \(stepLoss); training diverged "
              + "(try a lower training.learning_rate)")
        }
        lossSum += stepLoss
        progress.update(
          label: description.variant.rawValue, epoch: epoch, maxEpochs: t.maxEpochs, step: step + 1,
          steps: steps, loss: lossSum / Double(step + 1),
          units: (step + 1 - firstStep) * perRank * ranks,
          elapsed: (ContinuousClock.now - start).seconds)
        guard step + 1 < steps else { continue }
        if try agreement.stopRequested() {
          try writeCheckpoint(
            position(epochs: epoch - 1, steps: step + 1), lossSum: lossSum, adam: adam,
            snapshot: snapshot)
          throw interruption()
        }
      }
      lossSum = try agreement.sum(lossSum) / Double(ranks)
      let seconds = (ContinuousClock.now - start).seconds
      let (validation, auc) = try validate()
      let improved = validation < best
      if improved {
        best = validation
        sinceBest = 0
        snapshot.save()
      } else {
        sinceBest += 1
      }
      let record = WaveformEpochRecord(
        epoch: epoch, step: adam.step, trainLoss: lossSum / Double(steps),
        validationLoss: validation, validationAUC: auc,
        learningRate: Double(schedule.learningRate(at: adam.step)),
        samplesPerSecond: Double(steps * perRank * ranks) / seconds, seconds: seconds,
        best: improved)
      records.append(record)
      try agreement.onRankZero { () throws(TrainingError) in try metrics?.append(record) }
      log(
        "\(description.variant.rawValue) epoch \(epoch): train loss "
          + String(format: "%.4f", record.trainLoss) + ", validation loss "
          + String(format: "%.4f", validation)
          + (auc.map { String(format: ", validation AUC %.3f", $0) } ?? "")
          + String(format: ", %.1f samples/s", record.samplesPerSecond)
          + (improved ? " (best)" : ""))
      try writeCheckpoint(
        position(epochs: epoch, steps: 0), lossSum: 0, adam: adam, snapshot: snapshot)
      if improved { try writeBest() }
      if try agreement.stopRequested() { throw interruption() }
    }
    snapshot.restore()
    model.train(false)
  }

  /// P(landslide) of `sites` in inference mode; every rank scores its share of the batches
  /// and a summing all-reduce gives every rank all of them.
  public func predict(_ sites: [Int]) throws(TrainingError) -> [Float] {
    model.train(false)
    var scores = [Float](repeating: 0, count: sites.count)
    for (index, start) in stride(from: 0, to: sites.count, by: config.batchSize).enumerated()
    where index % ranks == rank {
      let slice = Array(sites[start..<min(sites.count, start + config.batchSize)])
      let batch = self.batch(slice.count)
      inputs.fill(batch, sites: slice)
      inference.reset()
      let probability = inference.sigmoid(logits(batch, inference))
      for row in slice.indices { scores[start + row] = probability[row] }
    }
    if let communicator {
      do { try communicator.allReduce(&scores, .sum) } catch {
        throw TrainingError(error.description)
      }
    }
    return scores
  }

  /// The weighted validation loss (the early-stopping criterion) and AUC.
  private func validate() throws(TrainingError) -> (loss: Double, auc: Double?) {
    let sites = split.validation
    let scores = try predict(sites)
    let labels = sites.map { inputs.labels[$0] }
    guard case .binaryCrossEntropyWithLogits(let positive, let negative) = loss else {
      preconditionFailure("the transformer trains with weighted BCE on logits")
    }
    var total = 0.0
    for (score, label) in zip(scores, labels) {
      let p = min(max(Double(score), 1e-7), 1 - 1e-7)
      total -=
        label == 1 ? Double(positive) * Foundation.log(p) : Double(negative) * Foundation.log(1 - p)
    }
    return (total / Double(sites.count), try? ROCCurve(labels: labels, scores: scores).auc)
  }

  private func logits(_ batch: WaveformBatch, _ tape: Tape) -> Tensor {
    model.logits(series: batch.series, static: batch.statics, tape)
  }

  private func batch(_ count: Int) -> WaveformBatch {
    if let batch = batches[count] { return batch }
    let batch = WaveformBatch(count: count, inputs: inputs)
    batches[count] = batch
    return batch
  }

  // MARK: Checkpoints

  private func writeCheckpoint(
    _ position: WaveformPosition, lossSum: Double, adam: Adam, snapshot: WeightSnapshot
  ) throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    var position = position
    var words = tape.random.words.map { Int64(bitPattern: $0) }
    position.lossSums = [lossSum]
    var states = RankAgreement.flatten(stateTensors)
    var bestStates = RankAgreement.flatten(snapshot.stateCopies)
    if let communicator {
      do {
        words = try communicator.gather(words)
        position.lossSums = try communicator.gather([lossSum])
        states = try communicator.gather(states)
        bestStates = try communicator.gather(bestStates)
      } catch {
        throw TrainingError(error.description)
      }
    }
    try agreement.onRankZero { () throws(TrainingError) in
      position.dropout = StageCheckpoint.dropoutStreams(words)
      let extra = StageCheckpoint.tensors(
        adam: adam, snapshot: snapshot, states: states, bestStates: bestStates, ranks: ranks)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      guard let json = try? encoder.encode(position) else {
        throw TrainingError("cannot encode the training position")
      }
      let path = (directory as NSString).appendingPathComponent(
        String(format: "step-%08d.safetensors", globalStep))
      try write(
        to: path, extra: extra,
        metadata: [
          Self.positionKey: String(decoding: json, as: UTF8.self), Self.configKey: configHash,
          Self.stepKey: "\(globalStep)",
        ])
      latestCheckpoint = path
      for old in EnsembleTrainer.stepCheckpoints(in: directory).dropFirst(config.keepCheckpoints) {
        try? FileManager.default.removeItem(atPath: old)
      }
    }
  }

  /// Rank 0 writes the model as it stands at a new minimum validation loss.
  private func writeBest() throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    try agreement.onRankZero { () throws(TrainingError) in
      try write(
        to: (directory as NSString).appendingPathComponent("best.safetensors"), extra: [],
        metadata: [Self.configKey: configHash, Self.stepKey: "\(globalStep)"])
    }
  }

  /// Writes the model (its current weights) with `extra` tensors to `path`, atomically.
  public func write(
    to path: String, extra: [(String, Tensor)] = [], metadata: [String: String] = [:]
  ) throws(TrainingError) {
    do {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try WaveformCheckpoint.write(
        model, description: description, extra: extra, to: path, metadata: metadata)
    } catch let error as SafeTensorsError {
      throw TrainingError(error.description)
    } catch {
      throw TrainingError("\(path): \(error.localizedDescription)")
    }
  }

  private func interruption() -> TrainingError {
    var error = TrainingError(
      "stopped on request after step \(globalStep); checkpoint "
        + (latestCheckpoint ?? "(none: no checkpoint directory)"))
    error.isInterruption = true
    error.isOnEveryRank = true
    return error
  }
}
