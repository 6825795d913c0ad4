import Configuration
import Distributed
import Evaluation
import Foundation
import GeoData
import Models
import TensorEngine

/// Trains the ensemble stage by stage (SPEC.md §1, training protocol): Adam with exponential
/// decay, shuffled each epoch from the seed, early stopping on validation loss with
/// patience, and at the end of each stage the weights of its minimum validation loss.
///
/// Data parallel over the ranks of a communicator: every rank starts from rank 0's weights,
/// shuffles the same way, and takes its own slice of each global batch (`batch_size` is the
/// global batch, a multiple of the rank count); gradients are averaged with bucketed
/// all-reduces before each optimiser step, so the ranks' weights stay identical. Batch norm
/// uses each rank's own batch statistics. Validation is split between the ranks and summed.
public final class EnsembleTrainer {
  public let ensemble: Ensemble
  let config: LandslideConfig
  let shards: ShardSet
  /// The global batch. Epochs take whole global batches; the remainder waits for the next
  /// epoch's shuffle (all of it goes in one step when the data is smaller than a batch).
  let batchSize: Int
  let communicator: Communicator?
  /// Decisions and writes the ranks make together.
  private var agreement: RankAgreement { RankAgreement(communicator: communicator) }
  var rank: Int { communicator?.rank ?? 0 }
  var ranks: Int { communicator?.size ?? 1 }
  private let tape: Tape
  private let inference = Tape(recording: false)
  /// Runs the frozen susceptibility network in the joint stage: no gradient reaches it.
  private let frozen = Tape(recording: false)
  private var progress: ProgressReporter
  private let log: (String) -> Void
  private let metrics: MetricsLog<EpochRecord>?
  public private(set) var records: [EpochRecord] = []

  /// Where rank 0 writes a checkpoint at the end of every epoch and stage
  /// (`step-NNNNNNNN.safetensors`, the last `keep_checkpoints` kept); nil: none.
  public var checkpointDirectory: String?
  /// Identifies the config; a checkpoint made with another is refused on resume.
  public var configHash = ""
  /// Called on every rank after each epoch (its checkpoint written); returning false ends
  /// training with a `TrainingError` whose `isPruned` is set. A sweep stops losing trials
  /// with it, so every rank of a group must return the same answer.
  public var epochEnded: ((EpochRecord) throws(TrainingError) -> Bool)?
  /// Optimiser steps over all stages so far (names the checkpoints).
  private var globalStep = 0
  /// A checkpoint to continue from, set by `resume(from:)`.
  private var pending: (position: TrainingPosition, file: SafeTensorsFile)?

  /// Cells of each side with landslides, as (sample, cell) pairs, for the cell stages.
  private var positiveCells: [SplitSide: [(sample: Int, cell: Int)]] = [:]

  /// - Parameters:
  ///   - metricsPath: where to append one JSON line per epoch (nil: nowhere).
  ///   - log: receives progress and stage lines.
  ///   - communicator: the ranks to train with (nil: this process alone). Only rank 0 logs
  ///     and writes metrics.
  public init(
    config: LandslideConfig, shards: ShardSet, staticCount: Int, metricsPath: String?,
    communicator: Communicator? = nil, log: @escaping (String) -> Void
  ) throws(TrainingError) {
    self.config = config
    self.shards = shards
    self.communicator = communicator
    batchSize = config.training.batchSize
    let ranks = communicator?.size ?? 1
    guard batchSize % ranks == 0 else {
      throw TrainingError(
        "training.batch_size \(batchSize) is the global batch and must be a multiple of the "
          + "\(ranks) ranks")
    }
    let description = EnsembleDescription(
      susceptibility: SusceptibilityArchitecture(
        blocksPerStage: config.susceptibility.blocksPerStage,
        inputChannels: shards.prepared.channels.count,
        dropout: Float(config.susceptibility.dropout),
        headReLU: config.susceptibility.headReLU),
      density: DensityArchitecture(
        inputChannels: shards.prepared.channels.count, denseWidths: config.density.denseWidths,
        denseBatchNorm: config.density.denseBatchNorm, dropout: Float(config.density.dropout)),
      prepared: shards.prepared, staticCount: staticCount)
    ensemble = Ensemble(description, seed: UInt64(config.training.seed))
    let rank = communicator?.rank ?? 0
    tape = Tape(seed: UInt64(config.training.seed) &+ 1 &+ UInt64(rank))
    let quiet: (String) -> Void = { _ in }
    progress = ProgressReporter(
      interval: config.training.progressInterval, output: rank == 0 ? log : quiet)
    self.log = rank == 0 ? log : quiet
    metrics =
      rank == 0
      ? try metricsPath.map { path throws(TrainingError) in try MetricsLog(path: path) } : nil
    if let communicator, config.training.syncBatchNorm {
      let rank = communicator.rank
      tape.crossReplicaSum = { buffer in
        do { try communicator.allReduce(buffer, .sum) } catch {
          fatalError("rank \(rank): synchronised batch norm: \(error)")
        }
      }
    }
    if let communicator {
      for (name, tensor) in ensemble.namedTensors {
        do { try communicator.broadcast(tensor.buffer, root: 0) } catch {
          throw TrainingError("broadcasting \(name): \(error)")
        }
      }
    }
    for side in SplitSide.allCases {
      guard let count = shards.samples[side]?.count else { continue }
      var pairs: [(sample: Int, cell: Int)] = []
      for sample in 0..<count {
        let densities: [Float]
        do { densities = try shards.densities(side, sample) } catch {
          throw TrainingError(error.description)
        }
        for (cell, density) in densities.enumerated() where density > 0 {
          pairs.append((sample, cell))
        }
      }
      positiveCells[side] = pairs
    }
    for side in [SplitSide.train, .validation] where (shards.samples[side] ?? []).isEmpty {
      throw TrainingError(
        "the \(side.rawValue) split has no samples; use a larger study area or smaller split blocks"
      )
    }
  }

  /// Runs every stage in order; the ensemble then holds the kept weights.
  public func train() throws(TrainingError) {
    if pending == nil {
      try metrics?.rewrite([])
      discardCheckpoints(after: 0)
    }
    let stages = TrainingStage.allCases
    for stage in stages {
      if let pending, stages.firstIndex(of: stage)! < stages.firstIndex(of: pending.position.stage)!
      {
        continue
      }
      try run(stage)
    }
  }

  /// Loads a checkpoint written by `checkpointDirectory`: the ensemble's tensors now, and
  /// the stage's optimiser, best weights, shuffle and counters when `train()` reaches it.
  /// - Parameter force: accept a checkpoint made with another config.
  public func resume(from path: String, force: Bool = false) throws(TrainingError) {
    do {
      let file = try SafeTensorsFile(path: path)
      guard let json = file.metadata[Self.positionKey] else {
        throw TrainingError("\(path): not a training checkpoint (no training position)")
      }
      let position: TrainingPosition
      do {
        position = try JSONDecoder().decode(TrainingPosition.self, from: Data(json.utf8))
      } catch {
        throw TrainingError("\(path): unreadable training position (\(error))")
      }
      let hash = file.metadata[Self.configKey] ?? ""
      guard hash == configHash || force else {
        throw TrainingError(
          "\(path): made with a different config (hash \(hash), this run's \(configHash)); "
            + "pass --force to continue from it anyway")
      }
      try EnsembleCheckpoint.load(file, into: ensemble)
      try agreement.loadRow(file, StageCheckpoint.rankStatesKey, into: stateTensors)
      records = position.records
      densityStarted = position.densityStarted
      globalStep = Int(file.metadata[Self.stepKey] ?? "0") ?? 0
      if position.dropout.indices.contains(rank) {
        tape.random = RandomGenerator(words: position.dropout[rank])
      }
      try metrics?.rewrite(records)
      discardCheckpoints(after: globalStep)
      pending = (position, file)
      log(
        "resuming from \(path): \(position.stage.rawValue), \(position.completedEpochs) epoch(s) done"
      )
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError("\(error)")
    }
  }

  static let positionKey = "training_position"

  /// The ensemble's running statistics (batch norm), in a fixed order.
  private var stateTensors: [Tensor] {
    ensemble.namedTensors.map(\.tensor).filter { !$0.requiresGradient }
  }

  static let configKey = "config_hash"
  static let stepKey = "global_step"

  /// Most epochs of a stage (0 skips it).
  public func maxEpochs(_ stage: TrainingStage) -> Int {
    switch stage {
    case .susceptibility: config.training.maxEpochs
    case .densityLog: config.density.stageEpochs[0]
    case .densityPositive: config.density.stageEpochs[1]
    case .densityAll: config.density.stageEpochs[2]
    case .joint: config.density.jointEpochs
    }
  }

  /// Trains one stage with early stopping and leaves its best weights in place.
  public func run(_ stage: TrainingStage) throws(TrainingError) {
    let epochs = maxEpochs(stage)
    guard epochs > 0 else { return }
    let model: Module = stage == .susceptibility ? ensemble.susceptibility : ensemble.density
    let units = try trainingUnits(stage, side: .train)
    let resumed = pending.flatMap { $0.position.stage == stage ? $0 : nil }
    pending = nil
    if stage != .susceptibility, stage != .joint, !densityStarted {
      try startDensityOutput(stage, units)
    }
    let validationUnits = try trainingUnits(stage, side: .validation)
    guard !units.isEmpty, !validationUnits.isEmpty else {
      throw TrainingError(
        "stage \(stage.rawValue): the \(units.isEmpty ? "training" : "validation") split has no "
          + "\(stage.trainsOnCells ? "cells with landslides" : "samples"); use a larger study area")
    }
    let unitsPerBatch = stage.trainsOnCells ? batchSize * cellsPerPatch : batchSize
    // Units each rank takes per step: its share of a global batch (or of all the data, when
    // that is smaller than one batch).
    let perRank = min(unitsPerBatch, units.count) / ranks
    guard perRank >= 1 else {
      throw TrainingError(
        "stage \(stage.rawValue): \(units.count) training units cannot be shared by \(ranks) ranks")
    }
    let t = config.training
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
    var order = Array(0..<units.count)
    var random = RandomGenerator(
      seed: UInt64(t.seed) &* 1_000_003 &+ UInt64(TrainingStage.allCases.firstIndex(of: stage)!))
    var firstEpoch = 1
    var resumedSteps = 0
    var resumedLoss = 0.0
    if let (position, file) = resumed, position.completedEpochs > 0 || position.stepsDone > 0 {
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
      "stage \(stage.rawValue): \(units.count) training and \(validationUnits.count) validation "
        + "\(stage.trainsOnCells ? "cells" : "samples"), at most \(epochs) epochs")
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
        let loss = try trainStep(stage, order[first..<(first + perRank)].map { units[$0] })
        try reducer?.averageGradients()
        adam.update(learningRate: schedule.learningRate(at: adam.step))
        globalStep += 1
        guard try agreement.allFinite(loss) else {
          var error = TrainingError(
            "stage \(stage.rawValue) epoch \(epoch) step \(step + 1): the training loss is not "
              + "finite (\(ranks > 1 ? "on at least one rank; here \(loss)" : "\(loss)")); training "
              + "diverged (try a lower training.learning_rate)")
          error.isOnEveryRank = true
          throw error
        }
        lossSum += loss
        progress.update(
          stage: stage, epoch: epoch, maxEpochs: epochs, step: step + 1, steps: steps,
          loss: lossSum / Double(step + 1), units: (step + 1 - firstStep) * perRank * ranks,
          elapsed: (ContinuousClock.now - start).seconds)
        // Mid-epoch checkpoints: when due, or when asked to stop (at an epoch's last
        // step the epoch's own checkpoint follows instead).
        guard step + 1 < steps else { continue }
        let stop = try agreement.stopRequested()
        if stop || (t.checkpointSteps > 0 && globalStep % t.checkpointSteps == 0) {
          var position = TrainingPosition(
            stage: stage, completedEpochs: epoch - 1, order: order, shuffle: random.words,
            best: best.isFinite ? best : nil, sinceBest: sinceBest, adamStep: adam.step,
            densityStarted: densityStarted, records: records, dropout: [])
          position.stepsDone = step + 1
          try writeCheckpoint(position, lossSum: lossSum, adam: adam, snapshot: snapshot)
        }
        if stop { throw interruption() }
      }
      lossSum = try agreement.sum(lossSum) / Double(ranks)
      let seconds = (ContinuousClock.now - start).seconds
      let validation = try validationLoss(stage, validationUnits)
      guard validation.isFinite else {
        var error = TrainingError(
          "stage \(stage.rawValue) epoch \(epoch): the validation loss is \(validation); training "
            + "diverged (try a lower training.learning_rate)")
        error.isOnEveryRank = true
        throw error
      }
      let improved = validation < best
      if improved {
        best = validation
        sinceBest = 0
        snapshot.save()
      } else {
        sinceBest += 1
      }
      let scores = stage == .susceptibility ? try validationScores() : nil
      let record = EpochRecord(
        stage: stage, epoch: epoch, step: adam.step, trainLoss: lossSum / Double(steps),
        validationLoss: validation, validationAUC: scores?.auc,
        learningRate: Double(schedule.learningRate(at: adam.step)),
        samplesPerSecond: Double(steps * perRank * ranks) / seconds, seconds: seconds,
        best: improved, validationTiedShare: scores?.tiedShare)
      records.append(record)
      try agreement.onRankZero { () throws(TrainingError) in try metrics?.append(record) }
      log(
        "\(stage.rawValue) epoch \(epoch): train loss " + String(format: "%.4f", record.trainLoss)
          + ", validation loss " + String(format: "%.4f", validation)
          + (record.validationAUC.map { String(format: ", validation AUC %.3f", $0) } ?? "")
          + String(
            format: ", %.1f %@/s", record.samplesPerSecond,
            stage.trainsOnCells ? "cells" : "samples")
          + (improved ? " (best)" : "") + Self.tiedNote(record.validationTiedShare))
      try checkCollapse(stage, epoch: epoch)
      try writeCheckpoint(
        TrainingPosition(
          stage: stage, completedEpochs: epoch, order: order, shuffle: random.words,
          best: best.isFinite ? best : nil, sinceBest: sinceBest, adamStep: adam.step,
          densityStarted: densityStarted, records: records, dropout: []),
        lossSum: 0, adam: adam, snapshot: snapshot)
      if improved { try writeBest() }
      if let epochEnded, try !epochEnded(record) {
        var pruned = TrainingError(
          "stage \(stage.rawValue) stopped after epoch \(epoch) by the sweep")
        pruned.isPruned = true
        pruned.isOnEveryRank = true
        throw pruned
      }
      if try agreement.stopRequested() { throw interruption() }
    }
    snapshot.restore()
    if let reducer {
      let stageSeconds = records.filter { $0.stage == stage }.reduce(0) { $0 + $1.seconds }
      log(
        "\(stage.rawValue): gradient all-reduce "
          + String(
            format: "%.2f s of %.1f s training (%.1f %%)", reducer.communicationSeconds,
            stageSeconds, 100 * reducer.communicationSeconds / max(stageSeconds, 1e-9)))
    }
    try verifyRanksAgree(model)
    if let next = TrainingStage.allCases.drop(while: { $0 != stage }).dropFirst().first {
      try writeCheckpoint(
        TrainingPosition(
          stage: next, completedEpochs: 0, order: [], shuffle: [0, 0, 0, 0], best: nil,
          sinceBest: 0, adamStep: 0, densityStarted: densityStarted, records: records,
          dropout: []),
        lossSum: 0, adam: nil, snapshot: nil)
    }
  }

  /// What the progress line says of tied validation scores: nothing for a working network.
  static func tiedNote(_ share: Double?) -> String {
    guard let share, share >= 0.5 else { return "" }
    return share == 1
      ? "; COLLAPSED: every validation cell has the same score"
      : String(format: "; %.0f %% of validation cells tied at one score", 100 * share)
  }

  /// Stops the susceptibility stage when its output collapsed to a constant with the
  /// paper's ReLU head: a ReLU dead on every cell passes no gradient and never comes back.
  /// Without it a collapse (the head's batch-norm scale driven to zero by a large learning
  /// rate) can still recover, so it is only flagged, and early stopping keeps the best
  /// weights. Every rank sees the same scores, so every rank decides the same.
  private func checkCollapse(_ stage: TrainingStage, epoch: Int) throws(TrainingError) {
    guard config.susceptibility.headReLU, records.last?.validationTiedShare == 1 else { return }
    var error = TrainingError(
      "stage \(stage.rawValue) epoch \(epoch): the network's output collapsed: every validation "
        + "cell has the same score (validation AUC 0.5); the ReLU before the head's batch norm "
        + "is dead on every cell and cannot recover (set susceptibility.head_relu: false, or "
        + "lower training.learning_rate)")
    error.isOnEveryRank = true
    throw error
  }

  /// Rank 0 writes `position` with the ensemble, the stage's Adam moments and best weights,
  /// then keeps only the newest `keep_checkpoints` step files. Every rank takes part: the
  /// dropout generators of all ranks are gathered first.
  private func writeCheckpoint(
    _ position: TrainingPosition, lossSum: Double, adam: Adam?, snapshot: WeightSnapshot?
  ) throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    var position = position
    var words = tape.random.words.map { Int64(bitPattern: $0) }
    position.lossSums = [lossSum]
    var allStates = RankAgreement.flatten(stateTensors)
    var rankBest = snapshot.map { RankAgreement.flatten($0.stateCopies) }
    if let communicator {
      do {
        words = try communicator.gather(words)
        position.lossSums = try communicator.gather([lossSum])
        allStates = try communicator.gather(allStates)
        if let best = rankBest { rankBest = try communicator.gather(best) }
      } catch {
        throw TrainingError(error.description)
      }
    }
    try agreement.onRankZero { () throws(TrainingError) in
      try save(
        position, words: words, states: allStates, bestStates: rankBest,
        adam: adam, snapshot: snapshot, in: directory)
    }
  }

  /// Rank 0's part of `writeCheckpoint`: the file itself.
  private func save(
    _ position: TrainingPosition, words: [Int64], states allStates: [Float],
    bestStates rankBest: [Float]?, adam: Adam?, snapshot: WeightSnapshot?,
    in directory: String
  ) throws(TrainingError) {
    var position = position
    position.dropout = StageCheckpoint.dropoutStreams(words)
    let extra = StageCheckpoint.tensors(
      adam: adam, snapshot: snapshot, states: allStates, bestStates: rankBest, ranks: ranks)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let json = try? encoder.encode(position) else {
      throw TrainingError("cannot encode the training position")
    }
    let path = Self.stepCheckpoint(in: directory, step: globalStep)
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      try EnsembleCheckpoint.write(
        ensemble, extra: extra, to: path,
        metadata: [
          Self.positionKey: String(decoding: json, as: UTF8.self), Self.configKey: configHash,
          Self.stepKey: "\(globalStep)",
        ])
    } catch let error as SafeTensorsError {
      throw TrainingError(error.description)
    } catch {
      throw TrainingError("\(directory): \(error.localizedDescription)")
    }
    latestCheckpoint = path
    let steps = Self.stepCheckpoints(in: directory)
    for old in steps.dropFirst(config.training.keepCheckpoints) {
      try? FileManager.default.removeItem(atPath: old)
    }
  }

  /// Rank 0, on resuming from step `step`: checkpoints with higher step numbers belong to
  /// the abandoned continuation (or are corrupt) and would outrank this run's own in
  /// `--resume auto` and in pruning; leftover temporary files of killed writers go too.
  private func discardCheckpoints(after step: Int) {
    guard rank == 0, let directory = checkpointDirectory else { return }
    for path in Self.stepCheckpoints(in: directory)
    where Self.stepNumber(of: path).map({ $0 > step }) ?? false {
      try? FileManager.default.removeItem(atPath: path)
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names where name.contains(".safetensors.tmp-") {
      try? FileManager.default.removeItem(
        atPath: (directory as NSString).appendingPathComponent(name))
    }
  }

  /// The checkpoint file of optimiser step `step` in `directory`.
  public static func stepCheckpoint(in directory: String, step: Int) -> String {
    (directory as NSString).appendingPathComponent(String(format: "step-%08d.safetensors", step))
  }

  /// The step number in a `step-NNNNNNNN.safetensors` name.
  public static func stepNumber(of path: String) -> Int? {
    let name = (path as NSString).lastPathComponent
    return Int(name.dropFirst("step-".count).prefix { $0.isNumber })
  }

  private func interruption() -> TrainingError {
    var error = TrainingError(
      "stopped on request after step \(globalStep); checkpoint "
        + (latestCheckpoint ?? "(none: no checkpoint directory)"))
    error.isInterruption = true
    error.isOnEveryRank = true
    return error
  }

  /// The newest checkpoint this run wrote.
  public private(set) var latestCheckpoint: String?

  /// Rank 0 writes the ensemble as it stands when a stage reaches a new minimum validation
  /// loss (earlier stages already hold their best weights): `best.safetensors`.
  private func writeBest() throws(TrainingError) {
    guard let directory = checkpointDirectory else { return }
    try agreement.onRankZero { () throws(TrainingError) in
      do {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true)
        try EnsembleCheckpoint.write(
          ensemble, to: (directory as NSString).appendingPathComponent("best.safetensors"),
          metadata: [Self.configKey: configHash, Self.stepKey: "\(globalStep)"])
      } catch let error as SafeTensorsError {
        throw TrainingError(error.description)
      } catch {
        throw TrainingError("\(directory): \(error.localizedDescription)")
      }
    }
  }

  /// The newest step checkpoint of `directory` that opens cleanly; a truncated or corrupt
  /// one is reported by name through `warn` and the previous one tried.
  public static func newestValidCheckpoint(in directory: String, warn: (String) -> Void)
    -> String?
  {
    for candidate in stepCheckpoints(in: directory) {
      do {
        _ = try SafeTensorsFile(path: candidate)
        return candidate
      } catch {
        warn("skipping checkpoint \(error); trying the previous one")
      }
    }
    return nil
  }

  /// The `step-*.safetensors` files of `directory`, newest first.
  public static func stepCheckpoints(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted(by: >)
      .map { (directory as NSString).appendingPathComponent($0) }
  }

  /// Every rank must hold the same trainable weights (running statistics are per rank):
  /// a cheap check, once per stage, that gradient averaging kept them in step.
  private func verifyRanksAgree(_ model: Module) throws(TrainingError) {
    guard let communicator else { return }
    var sum = 0.0
    var squares = 0.0
    for parameter in model.parameters {
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
          + "gradients were not averaged identically")
    }
  }

  var cellsPerPatch: Int { shards.prepared.patchCells * shards.prepared.patchCells }

  private var densityStarted = false

  /// The density network ends in a ReLU: from a random start its output can be zero for
  /// every cell, where no gradient flows and it stays (the all-zero collapse the paper
  /// reports). Its first stage therefore starts the output bias at the mean training
  /// target, so that every cell starts on the live side.
  private func startDensityOutput(_ stage: TrainingStage, _ units: [Int]) throws(TrainingError) {
    densityStarted = true
    var total = 0.0
    var count = 0
    do {
      if stage.trainsOnCells {
        for unit in units {
          let (sample, cell) = positiveCells[.train]![unit]
          let density = Double(try shards.densities(.train, sample)[cell])
          total += stage == .densityLog ? log1p(density) : density
        }
        count = units.count
      } else {
        for sample in units {
          let densities = try shards.densities(.train, sample)
          total += densities.reduce(0) { $0 + Double($1) }
          count += densities.count
        }
      }
    } catch {
      throw TrainingError(error.description)
    }
    ensemble.density.output.bias?[0] = Float(total / Double(max(count, 1)))
  }

  /// A stage's units on one side: sample indexes, or (in the cell stages) indexes into the
  /// side's positive cells.
  private func trainingUnits(_ stage: TrainingStage, side: SplitSide) throws(TrainingError)
    -> [Int]
  {
    stage.trainsOnCells
      ? Array(0..<(positiveCells[side]?.count ?? 0))
      : Array(0..<(shards.samples[side]?.count ?? 0))
  }

  // MARK: Steps

  private var batches: [Int: Batch] = [:]

  /// Reusable input and target tensors for `count` units (kept per size, so that a steady
  /// loop allocates nothing).
  private func batch(_ count: Int, cells: Bool) -> Batch {
    let key = cells ? -count : count
    if let batch = batches[key] { return batch }
    let prepared = shards.prepared
    let batch = Batch(
      patches: cells ? 0 : count, cells: cells ? count : count * cellsPerPatch,
      patchSide: prepared.patchCells * prepared.cellPixels, cellSide: prepared.cellPixels,
      channels: prepared.channels.count, patchCells: prepared.patchCells)
    batches[key] = batch
    return batch
  }

  /// Forward, backward and the loss of one training batch (the optimiser steps after).
  private func trainStep(_ stage: TrainingStage, _ units: [Int]) throws(TrainingError) -> Double {
    let batch = try load(stage, units, side: .train)
    tape.reset()
    let loss = forwardLoss(stage, batch, tape: tape, training: true)
    tape.backward(from: loss)
    return Double(loss.scalar)
  }

  /// The stage's loss over the whole validation side, in inference mode.
  func validationLoss(_ stage: TrainingStage) throws(TrainingError) -> Double {
    try validationLoss(stage, try trainingUnits(stage, side: .validation))
  }

  /// Mean loss over the validation units, in inference mode, weighted by batch size.
  private func validationLoss(_ stage: TrainingStage, _ units: [Int]) throws(TrainingError)
    -> Double
  {
    let size = stage.trainsOnCells ? batchSize * cellsPerPatch : batchSize
    var total = 0.0
    for (index, start) in stride(from: 0, to: units.count, by: size).enumerated()
    where index % ranks == rank {
      let slice = Array(units[start..<min(units.count, start + size)])
      let batch = try load(stage, slice, side: .validation)
      inference.reset()
      let loss = forwardLoss(stage, batch, tape: inference, training: false)
      total += Double(loss.scalar) * Double(slice.count)
    }
    return try agreement.sum(total) / Double(units.count)
  }

  /// The susceptibility network on every validation cell: the AUC of its probabilities
  /// (nil where undefined, e.g. no landslide among the cells) and the share of cells tied at
  /// the most common probability (1: the output collapsed to a constant).
  func validationScores() throws(TrainingError) -> (auc: Double?, tiedShare: Double) {
    let count = shards.samples[.validation]?.count ?? 0
    // Each rank scores its batches into its slots; a summing all-reduce fills the rest.
    var scores = [Float](repeating: 0, count: count * cellsPerPatch)
    var labels = scores
    for (index, start) in stride(from: 0, to: count, by: batchSize).enumerated()
    where index % ranks == rank {
      let indexes = Array(start..<min(count, start + batchSize))
      let batch = try load(.susceptibility, indexes, side: .validation)
      inference.reset()
      ensemble.susceptibility.train(false)
      let probability = ensemble.susceptibility(batch.patches, inference)
      for cell in 0..<(indexes.count * cellsPerPatch) {
        scores[start * cellsPerPatch + cell] = probability[cell]
        labels[start * cellsPerPatch + cell] = batch.presence[cell]
      }
    }
    if let communicator {
      do {
        try communicator.allReduce(&scores, .sum)
        try communicator.allReduce(&labels, .sum)
      } catch {
        throw TrainingError(error.description)
      }
    }
    // Undefined (e.g. no landslide among the validation cells): recorded as absent.
    let auc = try? ROCCurve(labels: labels, scores: scores).auc
    return (auc, Self.largestTiedShare(scores))
  }

  /// The share of `scores` equal to their most common value.
  static func largestTiedShare(_ scores: [Float]) -> Double {
    guard !scores.isEmpty else { return 0 }
    let sorted = scores.sorted()
    var (longest, run) = (1, 1)
    for index in 1..<sorted.count {
      run = sorted[index] == sorted[index - 1] ? run + 1 : 1
      longest = max(longest, run)
    }
    return Double(longest) / Double(sorted.count)
  }

  /// The stage's loss on `batch`, recorded on `tape`.
  private func forwardLoss(_ stage: TrainingStage, _ batch: Batch, tape: Tape, training: Bool)
    -> Tensor
  {
    let s = config.susceptibility
    switch stage {
    case .susceptibility:
      ensemble.susceptibility.train(training)
      switch s.loss {
      case .focalTversky:
        return tape.loss(
          .focalTversky(
            alpha: Float(s.tverskyAlpha), beta: Float(s.tverskyBeta), gamma: Float(s.tverskyGamma),
            epsilon: Float(s.tverskyEpsilon)),
          prediction: ensemble.susceptibility(batch.patches, tape), target: batch.presence)
      case .bce:
        return tape.loss(
          .binaryCrossEntropyWithLogits(positiveWeight: Float(s.positiveWeight)),
          prediction: ensemble.susceptibility.logits(batch.patches, tape), target: batch.presence)
      }
    case .densityLog, .densityPositive, .densityAll:
      ensemble.density.train(training)
      return tape.loss(
        .meanAbsoluteError, prediction: ensemble.density(batch.cells, tape),
        target: batch.density)
    case .joint:
      frozen.reset()
      ensemble.susceptibility.train(false)
      let probability = ensemble.susceptibility(batch.patches, frozen)
      ensemble.density.train(training)
      let density = ensemble.density(batch.cells, tape)
      let hazard = tape.multiply(tape.reshape(probability, density.shape), density)
      let loss: Loss = config.density.jointLoss == .mae ? .meanAbsoluteError : .meanSquaredError
      return tape.loss(loss, prediction: hazard, target: batch.density)
    }
  }

  /// Assembles the units of a batch from the shards.
  private func load(_ stage: TrainingStage, _ units: [Int], side: SplitSide)
    throws(TrainingError) -> Batch
  {
    do {
      if stage.trainsOnCells {
        let batch = self.batch(units.count, cells: true)
        let floats = batch.cells.count / units.count
        for (index, unit) in units.enumerated() {
          let (sample, cell) = positiveCells[side]![unit]
          let density = try shards.assembleCell(
            side, sample, cell: cell, input: batch.cells.data + index * floats)
          batch.density[index] = stage == .densityLog ? log1p(density) : density
        }
        return batch
      }
      let batch = self.batch(units.count, cells: false)
      let n = cellsPerPatch
      let patchFloats = batch.patches.count / units.count
      for (index, sample) in units.enumerated() {
        try shards.assemble(
          side, sample, input: batch.patches.data + index * patchFloats,
          labels: batch.labels.data)
        for cell in 0..<n {
          batch.presence[index * n + cell] = batch.labels[cell * 3]
          batch.density[index * n + cell] = batch.labels[cell * 3 + 2]
        }
      }
      if stage != .susceptibility {
        PatchCells.split(batch.patches, cellsPerSide: shards.prepared.patchCells, into: batch.cells)
      }
      return batch
    } catch {
      throw TrainingError(error.description)
    }
  }
}

/// Inputs and targets of one batch.
final class Batch {
  /// [B, S, S, C] patches (empty in the cell stages).
  let patches: Tensor
  /// [B·n·n, P, P, C] single cells.
  let cells: Tensor
  /// [B, n, n, 1] landslide presence.
  let presence: Tensor
  /// [B·n·n, 1] area density (or its log in the first curriculum stage).
  let density: Tensor
  /// One sample's labels as stored: n·n × (presence, absence, density).
  let labels: Tensor

  init(patches: Int, cells: Int, patchSide: Int, cellSide: Int, channels: Int, patchCells: Int) {
    self.patches = Tensor(zeros: Shape(max(patches, 1), patchSide, patchSide, channels))
    self.cells = Tensor(zeros: Shape(cells, cellSide, cellSide, channels))
    presence = Tensor(zeros: Shape(max(patches, 1), patchCells, patchCells, 1))
    density = Tensor(zeros: Shape(cells, 1))
    labels = Tensor(zeros: Shape(patchCells * patchCells * 3))
  }
}
