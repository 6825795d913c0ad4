import Configuration
import Distributed
import Foundation
import TensorEngine

/// The one training loop of every trained model (the ensemble's stages, the transformer's
/// variants, a tabular network): Adam with exponential decay, a fresh shuffle each epoch
/// from the seed, early stopping on the validation loss with patience, and at the end of
/// each stage the weights of its minimum validation loss.
///
/// Data parallel over the ranks of a communicator: every rank starts from rank 0's weights,
/// shuffles the same way and takes its own slice of each global batch (`batch_size` is the
/// global batch, a multiple of the rank count); gradients are averaged with bucketed
/// all-reduces before each optimiser step, so the ranks' weights stay identical (checked at
/// the end of each stage). Batch norm uses each rank's own batch statistics unless
/// `sync_batch_norm`. Validation is split between the ranks by the task.
///
/// Rank 0 writes a step checkpoint (weights, Adam moments, best weights, every rank's
/// running statistics and dropout generator, the position) after every epoch, every
/// `checkpoint_steps` steps and when SIGTERM or SIGUSR1 asks training to stop, and keeps
/// the newest `keep_checkpoints`; `best.safetensors` at each new minimum. A resumed run
/// continues bitwise as the uninterrupted one would have.
public final class TrainingLoop {
  public let settings: TrainingConfig
  let communicator: Communicator?
  /// Decisions and writes the ranks make together.
  let agreement: RankAgreement
  var rank: Int { agreement.rank }
  var ranks: Int { agreement.ranks }
  /// The training tape: its generator is this rank's dropout stream, carried across stages
  /// and checkpoints.
  let tape: Tape
  private let model: any CheckpointedModel
  /// The metadata key of the position in step checkpoints.
  private let positionKey: String
  private var progress: ProgressReporter
  let log: (String) -> Void
  private let metrics: MetricsLog<EpochRecord>?
  public private(set) var records: [EpochRecord] = []
  /// The first failure of a synchronised batch-norm all-reduce in the current step.
  private var synchronisationFailure: String?

  /// Where rank 0 writes `step-NNNNNNNN.safetensors` and `best.safetensors`; nil: nowhere.
  public var checkpointDirectory: String?
  /// Identifies the config; a checkpoint made with another is refused on resume.
  public var configHash = ""
  /// Called on every rank after each epoch (its checkpoint written); returning false ends
  /// training with a `.pruned` error. A sweep stops losing trials with it, so every rank
  /// of a group must return the same answer.
  public var epochEnded: ((EpochRecord) throws(TrainingError) -> Bool)?
  /// Optimiser steps over all stages so far (names the checkpoints).
  public private(set) var globalStep = 0
  /// The newest checkpoint this run wrote.
  public private(set) var latestCheckpoint: String?

  static let configKey = "config_hash"
  static let stepKey = "global_step"

  /// Every rank's `model` takes rank 0's initial weights here.
  /// - Parameters:
  ///   - positionKey: the metadata key of the training position in step checkpoints.
  ///   - metricsPath: where rank 0 appends one JSON line per epoch (nil: nowhere).
  ///   - communicator: the ranks to train with (nil: this process alone). Only rank 0 logs.
  public init(
    settings: TrainingConfig, model: any CheckpointedModel, positionKey: String,
    metricsPath: String?, communicator: Communicator?, log: @escaping (String) -> Void
  ) throws(TrainingError) {
    self.settings = settings
    self.model = model
    self.positionKey = positionKey
    self.communicator = communicator
    agreement = RankAgreement(communicator: communicator)
    let rank = communicator?.rank ?? 0
    let ranks = communicator?.size ?? 1
    guard settings.batchSize % ranks == 0 else {
      throw TrainingError(
        "training.batch_size \(settings.batchSize) is the global batch and must be a multiple "
          + "of the \(ranks) ranks", kind: .invalidSetup)
    }
    tape = Tape(seed: UInt64(settings.seed) &+ 1 &+ UInt64(rank))
    let quiet: (String) -> Void = { _ in }
    self.log = rank == 0 ? log : quiet
    progress = ProgressReporter(
      interval: settings.progressInterval, output: rank == 0 ? log : quiet)
    metrics =
      rank == 0
      ? try metricsPath.map { path throws(TrainingError) in try MetricsLog(path: path) } : nil
    if let communicator, settings.syncBatchNorm {
      tape.crossReplicaSum = { [unowned self] buffer in
        do { try communicator.allReduce(buffer, .sum) } catch {
          synchronisationFailure = synchronisationFailure ?? "\(error)"
        }
      }
    }
    if let communicator {
      for (name, tensor) in model.namedTensors {
        do { try communicator.broadcast(tensor.buffer, root: 0) } catch {
          throw TrainingError("broadcasting \(name): \(error)")
        }
      }
    }
  }

  // MARK: Starting and resuming

  /// A fresh run: empties the metrics file and removes step checkpoints of an earlier run
  /// in the checkpoint directory.
  public func start() throws(TrainingError) {
    try metrics?.rewrite([])
    discardCheckpoints(after: 0)
  }

  /// Reads a checkpoint written by this loop: the model's tensors and every rank's running
  /// statistics now, the position (the task's own part in `Context`) for the trainer to
  /// pass back to `run`. Checkpoints with higher step numbers are removed (see
  /// `discardCheckpoints`).
  /// - Parameter force: accept a checkpoint made with another config.
  public func resume<Context>(from path: String, force: Bool, as: Context.Type)
    throws(TrainingError)
    -> Resumption<Context>
  {
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(path: path) } catch { throw TrainingError(error) }
    guard let json = file.metadata[positionKey] else {
      throw TrainingError(
        "\(path): not a checkpoint of this training (no \(positionKey) in its metadata)",
        kind: .badInput(path: path))
    }
    let position: TrainingPosition<Context>
    do {
      position = try JSONDecoder().decode(TrainingPosition<Context>.self, from: Data(json.utf8))
    } catch {
      throw TrainingError(
        "\(path): unreadable \(positionKey) (\(error))", kind: .badInput(path: path))
    }
    let hash = file.metadata[Self.configKey] ?? ""
    guard hash == configHash || force else {
      throw TrainingError(
        "\(path): made with a different config (hash \(hash), this run's \(configHash)); "
          + "pass --force to continue from it anyway", kind: .invalidSetup)
    }
    do {
      try model.load(file)
      try agreement.loadRow(file, StageCheckpoint.rankStatesKey, into: stateTensors)
    } catch {
      throw TrainingError(error)
    }
    records = position.records
    globalStep = Int(file.metadata[Self.stepKey] ?? "0") ?? 0
    if position.dropout.indices.contains(rank) {
      tape.random = RandomGenerator(words: position.dropout[rank])
    }
    try metrics?.rewrite(records)
    discardCheckpoints(after: globalStep)
    return Resumption(position: position, file: file)
  }

  /// A checkpoint read by `resume`, waiting for its stage to run.
  public struct Resumption<Context: Codable & Equatable> {
    let position: TrainingPosition<Context>
    let file: SafeTensorsFile
  }

  /// The model's running statistics (batch norm), in a fixed order.
  private var stateTensors: [Tensor] {
    model.namedTensors.map(\.tensor).filter { !$0.requiresGradient }
  }

  // MARK: The loop

  /// Trains `task` for at most `epochs` epochs with early stopping and leaves its best
  /// weights in place; continues `resumed` when given (its stage's checkpoint).
  /// - Parameters:
  ///   - shuffleStream: which stream of the seed shuffles this stage (one per stage).
  ///   - context: the trainer's part of the positions written during the stage.
  public func run<Context>(
    _ task: some TrainingTask, epochs: Int, shuffleStream: UInt64, context: Context,
    resumed: Resumption<Context>?
  ) throws(TrainingError) {
    let units = task.trainingUnits
    // Units each rank takes per step: its share of a global batch (or of all the data, when
    // that is smaller than one batch).
    let perRank = min(task.unitsPerBatch, units.count) / ranks
    guard perRank >= 1 else {
      throw TrainingError(
        "\(task.label): \(units.count) training \(task.unitName) cannot be shared by \(ranks) "
          + "ranks", kind: .invalidSetup)
    }
    let t = settings
    let module = task.module
    let adam = Adam(
      parameters: module.parameters, beta1: Float(t.adamBeta1), beta2: Float(t.adamBeta2),
      epsilon: Float(t.adamEpsilon))
    let schedule = ExponentialDecay(
      initial: Float(t.learningRate), rate: Float(t.decayRate), decaySteps: t.decaySteps,
      staircase: t.staircase)
    let snapshot = WeightSnapshot(module)
    let reducer = communicator.map {
      GradientReducer($0, parameters: module.parameters, bucketFloats: t.bucketMegabytes << 18)
    }
    tape.backwardObserver = reducer
    defer { tape.backwardObserver = nil }
    var best = Double.infinity
    var sinceBest = 0
    var order = units
    var random = RandomGenerator(seed: UInt64(t.seed) &* 1_000_003 &+ shuffleStream)
    var firstEpoch = 1
    var resumedSteps = 0
    var resumedLoss = 0.0
    if let resumed, resumed.position.completedEpochs > 0 || resumed.position.stepsDone > 0 {
      let position = resumed.position
      try StageCheckpoint.restore(
        resumed.file, adam: adam, snapshot: snapshot, agreement: agreement)
      adam.step = position.adamStep
      order = position.order
      random = RandomGenerator(words: position.shuffle)
      best = position.best ?? .infinity
      sinceBest = position.sinceBest
      firstEpoch = position.completedEpochs + 1
      resumedSteps = position.stepsDone
      resumedLoss = position.lossSums.indices.contains(rank) ? position.lossSums[rank] : 0
    }
    func position(epochs: Int, steps: Int) -> TrainingPosition<Context> {
      TrainingPosition(
        context: context, completedEpochs: epochs, stepsDone: steps, order: order,
        shuffle: random.words, best: best.isFinite ? best : nil, sinceBest: sinceBest,
        adamStep: adam.step, records: records)
    }
    log("\(task.summary), at most \(epochs) epochs")
    for epoch in stride(from: firstEpoch, through: epochs, by: 1) where sinceBest < t.patience {
      // An epoch resumed part-way already has its order.
      if resumedSteps == 0 { order.shuffle(using: &random) }
      let steps = order.count / (perRank * ranks)
      let start = ContinuousClock.now
      let firstStep = resumedSteps
      var lossSum = resumedLoss
      (resumedSteps, resumedLoss) = (0, 0)
      for step in firstStep..<steps {
        let first = (step * ranks + rank) * perRank
        tape.reset()
        let loss = try task.loss(Array(order[first..<(first + perRank)]), tape: tape)
        if let failure = synchronisationFailure {
          throw TrainingError("rank \(rank): synchronised batch norm: \(failure)")
        }
        try reducer?.averageGradients()
        adam.update(learningRate: schedule.learningRate(at: adam.step))
        globalStep += 1
        guard try agreement.allFinite(loss) else {
          throw TrainingError(
            "\(task.label) epoch \(epoch) step \(step + 1): the training loss is not finite ("
              + (ranks > 1 ? "on at least one rank; here \(loss)" : "\(loss)")
              + "); training diverged (try a lower training.learning_rate)", kind: .diverged
          ).onEveryRank()
        }
        lossSum += loss
        progress.update(
          label: task.label, epoch: epoch, maxEpochs: epochs, step: step + 1, steps: steps,
          loss: lossSum / Double(step + 1), units: (step + 1 - firstStep) * perRank * ranks,
          elapsed: (ContinuousClock.now - start).seconds)
        // Mid-epoch checkpoints: when due, or when asked to stop (at an epoch's last
        // step the epoch's own checkpoint follows instead).
        guard step + 1 < steps else { continue }
        let stop = try agreement.stopRequested()
        if stop || (t.checkpointSteps > 0 && globalStep % t.checkpointSteps == 0) {
          try writeCheckpoint(
            position(epochs: epoch - 1, steps: step + 1), lossSum: lossSum, adam: adam,
            snapshot: snapshot)
        }
        if stop { throw interruption() }
      }
      lossSum = try agreement.sum(lossSum) / Double(ranks)
      let seconds = (ContinuousClock.now - start).seconds
      let validation = try task.validate(agreement)
      guard validation.loss.isFinite else {
        throw TrainingError(
          "\(task.label) epoch \(epoch): the validation loss is \(validation.loss); training "
            + "diverged (try a lower training.learning_rate)", kind: .diverged
        ).onEveryRank()
      }
      let improved = validation.loss < best
      if improved {
        best = validation.loss
        sinceBest = 0
        snapshot.save()
      } else {
        sinceBest += 1
      }
      let record = EpochRecord(
        stage: task.stage, epoch: epoch, step: adam.step, trainLoss: lossSum / Double(steps),
        validationLoss: validation.loss, validationAUC: validation.auc,
        learningRate: Double(schedule.learningRate(at: adam.step)),
        samplesPerSecond: Double(steps * perRank * ranks) / seconds, seconds: seconds,
        best: improved, validationTiedShare: validation.tiedShare)
      records.append(record)
      try agreement.onRankZero { () throws(TrainingError) in try metrics?.append(record) }
      log(
        "\(task.label) epoch \(epoch): train loss " + String(format: "%.4f", record.trainLoss)
          + ", validation loss " + String(format: "%.4f", validation.loss)
          + (record.validationAUC.map { String(format: ", validation AUC %.3f", $0) } ?? "")
          + String(format: ", %.1f %@/s", record.samplesPerSecond, task.unitName)
          + (improved ? " (best)" : "") + Self.tiedNote(record.validationTiedShare))
      try task.check(record)
      try writeCheckpoint(
        position(epochs: epoch, steps: 0), lossSum: 0, adam: adam, snapshot: snapshot)
      if improved { try writeBest() }
      if let epochEnded, try !epochEnded(record) {
        throw TrainingError(
          "\(task.label) stopped after epoch \(epoch) by the sweep", kind: .pruned
        )
        .onEveryRank()
      }
      if try agreement.stopRequested() { throw interruption() }
    }
    snapshot.restore()
    if let reducer {
      let seconds = records.filter { $0.stage == task.stage }.reduce(0) { $0 + $1.seconds }
      log(
        "\(task.label): waited for the gradient all-reduce "
          + String(
            format: "%.2f s of %.1f s training (%.1f %%)", reducer.waitSeconds, seconds,
            100 * reducer.waitSeconds / max(seconds, 1e-9)))
    }
    try verifyRanksAgree(module)
  }

  /// What the progress line says of tied validation scores: nothing for a working network.
  static func tiedNote(_ share: Double?) -> String {
    guard let share, share >= 0.5 else { return "" }
    return share == 1
      ? "; COLLAPSED: every validation cell has the same score"
      : String(format: "; %.0f %% of validation cells tied at one score", 100 * share)
  }

  /// Every rank must hold the same trainable weights (running statistics are per rank):
  /// a cheap check, once per stage, that gradient averaging kept them in step.
  private func verifyRanksAgree(_ module: Module) throws(TrainingError) {
    guard let communicator else { return }
    var sum = 0.0
    var squares = 0.0
    for parameter in module.parameters {
      for index in 0..<parameter.count {
        let value = Double(parameter[index])
        sum += value
        squares += value * value
      }
    }
    var highest = [sum, squares]
    var lowest = highest
    do {
      try communicator.allReduce(&highest, .max)
      try communicator.allReduce(&lowest, .min)
    } catch {
      throw TrainingError(error.description)
    }
    guard highest == lowest else {
      throw TrainingError(
        "rank \(rank): the ranks' weights diverged (sum \(lowest[0])…\(highest[0])); "
          + "gradients were not averaged identically"
      ).onEveryRank()
    }
  }

  private func interruption() -> TrainingError {
    TrainingError(
      "stopped on request after step \(globalStep); checkpoint "
        + (latestCheckpoint ?? "(none: no checkpoint directory)"),
      kind: .interrupted(checkpoint: latestCheckpoint)
    ).onEveryRank()
  }

  // MARK: Checkpoints

  /// A checkpoint at a stage boundary: the next stage (named in `context`) has not begun,
  /// so no optimiser state goes with it.
  func checkpointStageStart<Context: Codable & Equatable>(_ context: Context) throws(TrainingError)
  {
    try writeCheckpoint(
      TrainingPosition(
        context: context, completedEpochs: 0, order: [], shuffle: [0, 0, 0, 0], best: nil,
        sinceBest: 0, adamStep: 0, records: records),
      lossSum: 0, adam: nil, snapshot: nil)
  }

  /// Rank 0 writes `position` with the model, the stage's Adam moments and best weights,
  /// then keeps only the newest `keep_checkpoints` step files. Every rank takes part: the
  /// ranks' dropout generators, loss sums and running statistics are gathered first.
  private func writeCheckpoint<Context>(
    _ position: TrainingPosition<Context>, lossSum: Double, adam: Adam?,
    snapshot: WeightSnapshot?
  ) throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    var position = position
    var words = tape.random.words.map { Int64(bitPattern: $0) }
    position.lossSums = [lossSum]
    var states = RankAgreement.flatten(stateTensors)
    var bestStates = snapshot.map { RankAgreement.flatten($0.stateCopies) }
    if let communicator {
      do {
        words = try communicator.gather(words)
        position.lossSums = try communicator.gather([lossSum])
        states = try communicator.gather(states)
        if let best = bestStates { bestStates = try communicator.gather(best) }
      } catch {
        throw TrainingError(error.description)
      }
    }
    try agreement.onRankZero { () throws(TrainingError) in
      position.dropout = StageCheckpoint.dropoutStreams(words)
      let extra = StageCheckpoint.tensors(
        adam: adam, snapshot: snapshot, states: states, bestStates: bestStates, ranks: ranks)
      let json: Data
      do {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        json = try encoder.encode(position)
      } catch {
        throw TrainingError("cannot encode the training position (\(error))")
      }
      let path = CheckpointFiles.step(globalStep, in: directory)
      try write(
        to: path, extra: extra,
        metadata: [
          positionKey: String(decoding: json, as: UTF8.self), Self.configKey: configHash,
          Self.stepKey: "\(globalStep)",
        ])
      latestCheckpoint = path
      for old in CheckpointFiles.steps(in: directory).dropFirst(settings.keepCheckpoints) {
        CheckpointFiles.remove(old, warn: log)
      }
    }
  }

  /// Rank 0 writes the model as it stands at a new minimum validation loss (earlier stages
  /// already hold their best weights): `best.safetensors`.
  private func writeBest() throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    try agreement.onRankZero { () throws(TrainingError) in
      try write(
        to: (directory as NSString).appendingPathComponent("best.safetensors"), extra: [],
        metadata: [Self.configKey: configHash, Self.stepKey: "\(globalStep)"])
    }
  }

  /// Writes the model with `extra` tensors to `path` atomically, making its folder.
  func write(to path: String, extra: [(String, Tensor)], metadata: [String: String])
    throws(TrainingError)
  {
    do {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    } catch {
      throw TrainingError("\(path): cannot make its folder (\(error.localizedDescription))")
    }
    do { try model.write(to: path, extra: extra, metadata: metadata) } catch {
      throw TrainingError(error.description)
    }
  }

  /// Rank 0, on resuming from step `step`: checkpoints with higher step numbers belong to
  /// the abandoned continuation (or are corrupt) and would outrank this run's own in
  /// `--resume auto` and in pruning; leftover temporary files of killed writers go too.
  private func discardCheckpoints(after step: Int) {
    guard rank == 0, let directory = checkpointDirectory else { return }
    CheckpointFiles.discard(after: step, in: directory, warn: log)
  }
}
