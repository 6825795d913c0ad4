import Configuration
import Distributed
import Evaluation
import Foundation
import GeoData
import Models
import TensorEngine

/// Trains the ensemble stage by stage (SPEC.md §1, training protocol): each stage is a
/// task of the one `TrainingLoop` (Adam with exponential decay, a shuffle each epoch from
/// the seed, early stopping on validation loss with patience, the stage's best weights kept
/// at its end, data parallel over the ranks of a communicator). A checkpoint at each stage
/// boundary names the next stage, so a resumed run starts where it stopped.
public final class EnsembleTrainer: LoopTrainer {
  public let ensemble: Ensemble
  let config: LandslideConfig
  let shards: ShardSet
  /// The global batch. Epochs take whole global batches; the remainder waits for the next
  /// epoch's shuffle (all of it goes in one step when the data is smaller than a batch).
  let batchSize: Int
  public let loop: TrainingLoop
  var rank: Int { loop.rank }
  var ranks: Int { loop.ranks }
  private let inference = Tape(recording: false)
  /// Runs the frozen susceptibility network in the joint stage: no gradient reaches it.
  private let frozen = Tape(recording: false)
  /// A checkpoint to continue from, set by `resume(from:)`.
  private var pending: TrainingLoop.Resumption<EnsembleProgress>?
  /// Whether the density network's output bias has been started (see `startDensityOutput`).
  private var densityStarted = false

  /// Cells of each side with landslides, as (sample, cell) pairs, for the cell stages.
  private var positiveCells: [SplitSide: [(sample: Int, cell: Int)]] = [:]

  /// See `TrainingLoop.epochEnded`.
  public var epochEnded: ((EpochRecord) throws(TrainingError) -> Bool)? {
    get { loop.epochEnded }
    set { loop.epochEnded = newValue }
  }

  /// - Parameters:
  ///   - metricsPath: where to append one JSON line per epoch (nil: nowhere).
  ///   - log: receives progress and stage lines.
  ///   - communicator: the ranks to train with (nil: this process alone). Only rank 0 logs
  ///     and writes metrics.
  public init(
    config: LandslideConfig, shards: ShardSet, staticCount: Int, metricsPath: String?,
    communicator: Communicator? = nil, log: @escaping (String) -> Void
  ) throws(TrainingError) {
    guard shards.prepared.cellPixels == SusceptibilityNetwork.pixelsPerCell else {
      throw TrainingError(
        "the study has \(shards.prepared.cellPixels) pixels per mapping unit; the "
          + "susceptibility network maps \(SusceptibilityNetwork.pixelsPerCell) pixels to a unit "
          + "(build the study with grid.pixels_per_unit: \(SusceptibilityNetwork.pixelsPerCell))",
        kind: .invalidSetup)
    }
    self.config = config
    self.shards = shards
    batchSize = config.training.batchSize
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
    loop = try TrainingLoop(
      settings: config.training, model: EnsembleCheckpoint.format(ensemble),
      positionKey: "training_position",
      metricsPath: metricsPath, communicator: communicator, log: log)
    for side in SplitSide.allCases {
      guard let count = shards.samples[side]?.count else { continue }
      var pairs: [(sample: Int, cell: Int)] = []
      for sample in 0..<count {
        let densities: [Float]
        do { densities = try shards.densities(side, sample) } catch {
          throw TrainingError(error)
        }
        for (cell, density) in densities.enumerated() where density > 0 {
          pairs.append((sample, cell))
        }
      }
      positiveCells[side] = pairs
    }
    for side in [SplitSide.train, .validation] where (shards.samples[side] ?? []).isEmpty {
      throw TrainingError(
        "the \(side.rawValue) split has no samples; use a larger study area or smaller split blocks",
        kind: .invalidSetup)
    }
  }

  /// Runs every stage in order; the ensemble then holds the kept weights.
  public func train() throws(TrainingError) {
    if pending == nil { try loop.start() }
    let stages = TrainingStage.allCases
    for stage in stages {
      if let pending,
        stages.firstIndex(of: stage)! < stages.firstIndex(of: pending.position.context.stage)!
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
    let resumption = try loop.resume(from: path, force: force, as: EnsembleProgress.self)
    let position = resumption.position
    densityStarted = position.context.densityStarted
    pending = resumption
    loop.log(
      "resuming from \(path): \(position.context.stage.rawValue), \(position.completedEpochs) "
        + "epoch(s) done")
  }

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
    let task = EnsembleStageTask(self, stage)
    let resumed = pending.flatMap { $0.position.context.stage == stage ? $0 : nil }
    pending = nil
    if stage != .susceptibility, stage != .joint, !densityStarted {
      try startDensityOutput(stage, task.trainingUnits)
    }
    guard !task.trainingUnits.isEmpty, task.validationUnits > 0 else {
      throw TrainingError(
        "stage \(stage.rawValue): the \(task.trainingUnits.isEmpty ? "training" : "validation") "
          + "split has no \(stage.trainsOnCells ? "cells with landslides" : "samples"); use a "
          + "larger study area", kind: .invalidSetup)
    }
    try loop.run(
      task, epochs: epochs,
      shuffleStream: UInt64(TrainingStage.allCases.firstIndex(of: stage)!),
      context: EnsembleProgress(stage: stage, densityStarted: densityStarted), resumed: resumed)
    if let next = TrainingStage.allCases.drop(while: { $0 != stage }).dropFirst().first {
      try loop.checkpointStageStart(EnsembleProgress(stage: next, densityStarted: densityStarted))
    }
  }

  /// Stops the susceptibility stage when its output collapsed to a constant with the
  /// paper's ReLU head: a ReLU dead on every cell passes no gradient and never comes back.
  /// Without it a collapse (the head's batch-norm scale driven to zero by a large learning
  /// rate) can still recover, so it is only flagged, and early stopping keeps the best
  /// weights. Every rank sees the same scores, so every rank decides the same.
  fileprivate func checkCollapse(_ record: EpochRecord) throws(TrainingError) {
    guard config.susceptibility.headReLU, record.validationTiedShare == 1 else { return }
    throw TrainingError(
      "stage \(record.stage ?? "") epoch \(record.epoch): the network's output collapsed: every "
        + "validation cell has the same score (validation AUC 0.5); the ReLU before the head's "
        + "batch norm is dead on every cell and cannot recover (set susceptibility.head_relu: "
        + "false, or lower training.learning_rate)", kind: .diverged
    ).onEveryRank()
  }

  var cellsPerPatch: Int { shards.prepared.patchCells * shards.prepared.patchCells }

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
      throw TrainingError(error)
    }
    ensemble.density.output.bias?[0] = Float(total / Double(max(count, 1)))
  }

  /// A stage's units on one side: sample indexes, or (in the cell stages) indexes into the
  /// side's positive cells.
  fileprivate func units(_ stage: TrainingStage, side: SplitSide) -> [Int] {
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
  fileprivate func trainStep(_ stage: TrainingStage, _ units: [Int], tape: Tape)
    throws(TrainingError) -> Double
  {
    let batch = try load(stage, units, side: .train)
    let loss = forwardLoss(stage, batch, tape: tape, training: true)
    tape.backward(from: loss)
    return Double(loss.scalar)
  }

  /// The stage's loss over the whole validation side, in inference mode.
  func validationLoss(_ stage: TrainingStage) throws(TrainingError) -> Double {
    try validationLoss(stage, units(stage, side: .validation))
  }

  /// Mean loss over the validation units, in inference mode, weighted by batch size.
  fileprivate func validationLoss(_ stage: TrainingStage, _ units: [Int]) throws(TrainingError)
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
    return try loop.agreement.sum(total) / Double(units.count)
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
    try loop.agreement.sum(&scores)
    try loop.agreement.sum(&labels)
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
      throw TrainingError(error)
    }
  }
}

/// The ensemble's part of a position: the stage in progress and whether the density
/// output has been started (its keys as checkpoints have always had them).
struct EnsembleProgress: Codable, Equatable {
  var stage: TrainingStage
  var densityStarted: Bool

  enum CodingKeys: String, CodingKey {
    case stage
    case densityStarted = "density_started"
  }
}

/// One stage of the ensemble as a task of the training loop: patches or single cells of
/// the study's shards, the stage's loss, and (in the susceptibility stage) the validation
/// AUC and tied share beside the validation loss.
final class EnsembleStageTask: TrainingTask {
  private unowned let trainer: EnsembleTrainer
  let training: TrainingStage
  let trainingUnits: [Int]
  let validationUnits: Int

  init(_ trainer: EnsembleTrainer, _ stage: TrainingStage) {
    self.trainer = trainer
    training = stage
    trainingUnits = trainer.units(stage, side: .train)
    validationUnits = trainer.units(stage, side: .validation).count
  }

  var label: String { training.rawValue }
  var stage: String? { training.rawValue }
  var module: Module {
    training == .susceptibility ? trainer.ensemble.susceptibility : trainer.ensemble.density
  }
  var unitsPerBatch: Int {
    training.trainsOnCells ? trainer.batchSize * trainer.cellsPerPatch : trainer.batchSize
  }
  var unitName: String { training.trainsOnCells ? "cells" : "samples" }
  var summary: String {
    "stage \(training.rawValue): \(trainingUnits.count) training and \(validationUnits) "
      + "validation \(unitName)"
  }

  func loss(_ units: [Int], tape: Tape) throws(TrainingError) -> Double {
    try trainer.trainStep(training, units, tape: tape)
  }

  func validate(_ ranks: RankAgreement) throws(TrainingError) -> Validation {
    let loss = try trainer.validationLoss(training, Array(0..<validationUnits))
    guard training == .susceptibility else { return Validation(loss: loss) }
    let scores = try trainer.validationScores()
    return Validation(loss: loss, auc: scores.auc, tiedShare: scores.tiedShare)
  }

  func check(_ record: EpochRecord) throws(TrainingError) {
    try trainer.checkCollapse(record)
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
