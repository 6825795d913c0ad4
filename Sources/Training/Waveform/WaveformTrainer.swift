import Configuration
import Distributed
import Evaluation
import Foundation
import Models
import TensorEngine

/// Trains one variant of the full-waveform transformer (SPEC.md §2) as a task of the one
/// `TrainingLoop`: weighted binary cross-entropy (class weights from the config), Adam with
/// staircase exponential decay, a fresh shuffle of the training sites each epoch, early
/// stopping on the validation loss with patience, and at the end the weights of the
/// minimum validation loss; data parallel, checkpointed and resumable like every model.
public final class WaveformTrainer: LoopTrainer {
  public let model: WaveformTransformer
  public let description: WaveformDescription
  public let inputs: WaveformInputs
  public let split: WaveformSplit
  let config: WaveformTrainingConfig
  public let loop: TrainingLoop
  var rank: Int { loop.rank }
  var ranks: Int { loop.ranks }
  private let inference = Tape(recording: false)
  private let loss: Loss
  private var pending: TrainingLoop.Resumption<SingleStage>?
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
    inputs = try WaveformInputs(
      data, variant: variant, trainingSites: split.train,
      lowPass: (config.model.lowPassHz, config.model.lowPassOrder))
    guard inputs.staticCount > 0 || inputs.records != nil else {
      throw TrainingError(
        "variant \(variant.rawValue) needs static covariates, but the data has none",
        kind: .invalidSetup)
    }
    description = WaveformDescription(
      inputs, sampleRate: data.records.sampleRate, model: config.model)
    model = description.makeModel(seed: UInt64(config.training.seed))
    loss = .binaryCrossEntropyWithLogits(
      positiveWeight: Float(config.training.positiveWeight),
      negativeWeight: Float(config.training.negativeWeight))
    loop = try TrainingLoop(
      settings: config.training.loop,
      model: TransformerCheckpoint(model, description),
      positionKey: "waveform_position", metricsPath: metricsPath, communicator: communicator,
      log: log)
  }

  /// Loads a checkpoint written by this trainer; `train()` continues from it.
  /// - Parameter force: accept a checkpoint made with another config.
  public func resume(from path: String, force: Bool = false) throws(TrainingError) {
    let resumption = try loop.resume(from: path, force: force, as: SingleStage.self)
    pending = resumption
    loop.log("resuming from \(path): \(resumption.position.completedEpochs) epoch(s) done")
  }

  /// Trains until early stopping or `max_epochs`; the model then holds the weights of the
  /// minimum validation loss.
  public func train() throws(TrainingError) {
    let resumed = pending
    pending = nil
    if resumed == nil { try loop.start() }
    try loop.run(
      WaveformTask(self), epochs: config.maxEpochs, shuffleStream: 17, context: SingleStage(),
      resumed: resumed)
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
    try loop.agreement.sum(&scores)
    return scores
  }

  /// The weighted validation loss (the early-stopping criterion) and AUC.
  fileprivate func validate() throws(TrainingError) -> Validation {
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
    // Undefined (one class only among the validation sites): recorded as absent.
    let auc = try? ROCCurve(labels: labels, scores: scores).auc
    return Validation(loss: total / Double(sites.count), auc: auc)
  }

  /// Forward and backward of one training step on `sites`.
  fileprivate func trainStep(_ sites: [Int], tape: Tape) -> Double {
    model.train(true)
    let batch = self.batch(sites.count)
    inputs.fill(batch, sites: sites)
    let value = tape.loss(loss, prediction: logits(batch, tape), target: batch.labels)
    tape.backward(from: value)
    return Double(value.scalar)
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

  /// Writes the model (its current weights) to `path`, atomically.
  public func write(to path: String, metadata: [String: String] = [:]) throws(TrainingError) {
    try loop.write(to: path, extra: [], metadata: metadata)
  }
}

/// A variant of the transformer as a task of the training loop: the training sites, the
/// weighted BCE of a batch, and the validation loss and AUC.
private final class WaveformTask: TrainingTask {
  private unowned let trainer: WaveformTrainer

  init(_ trainer: WaveformTrainer) { self.trainer = trainer }

  var label: String { trainer.description.variant.rawValue }
  var module: Module { trainer.model }
  var trainingUnits: [Int] { trainer.split.train }
  var unitsPerBatch: Int { trainer.config.batchSize }
  var summary: String {
    let variant = trainer.description.variant
    return "\(variant.rawValue) (\(variant.summary)): \(trainer.split.train.count) training, "
      + "\(trainer.split.validation.count) validation sites, \(trainer.model.parameterCount) "
      + "parameters"
  }

  func loss(_ units: [Int], tape: Tape) throws(TrainingError) -> Double {
    trainer.trainStep(units, tape: tape)
  }

  func validate(_ ranks: RankAgreement) throws(TrainingError) -> Validation {
    try trainer.validate()
  }
}
