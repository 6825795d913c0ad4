import TensorEngine

/// What `TrainingLoop` needs of one model (or one stage of one): its trainable module, the
/// units it trains on, a loss on a batch of them and a validation. The loop owns everything
/// else: epochs, shuffling and each rank's slice, gradient averaging, the optimiser and its
/// schedule, early stopping with the best weights, progress, metrics, checkpoints, stop
/// requests and the ranks' agreement.
public protocol TrainingTask: AnyObject {
  /// Names the task in progress lines and errors (a stage, a variant).
  var label: String { get }
  /// The stage this task is, for `EpochRecord.stage` (nil: a model trained in one stage).
  var stage: String? { get }
  /// The module whose parameters the optimiser updates.
  var module: Module { get }
  /// The training units (samples, cells, rows) in their order before the first shuffle.
  var trainingUnits: [Int] { get }
  /// Units in one global batch (shared by the ranks).
  var unitsPerBatch: Int { get }
  /// What the units are called in progress lines ("samples", "cells").
  var unitName: String { get }
  /// The first line of the task's training: what it trains on (the loop adds the epochs).
  var summary: String { get }
  /// Forward and backward of one step on this rank's `units`, recorded on `tape` (the
  /// loop resets it first); returns the batch's loss. The gradients it leaves in the
  /// module's parameters are averaged over the ranks before the optimiser steps.
  func loss(_ units: [Int], tape: Tape) throws(TrainingError) -> Double
  /// The early-stopping loss over the whole validation side, in inference mode: each rank
  /// takes its share of the work and `ranks` sums it, so every rank returns the same.
  func validate(_ ranks: RankAgreement) throws(TrainingError) -> Validation
  /// Called on every rank with each epoch's record: throws (on every rank alike) to stop a
  /// run that cannot recover, e.g. a collapsed output.
  func check(_ record: EpochRecord) throws(TrainingError)
}

extension TrainingTask {
  public var stage: String? { nil }
  public var unitName: String { "samples" }
  public func check(_ record: EpochRecord) throws(TrainingError) {}
}

/// A validation: the loss early stopping watches, and what the epoch record shows beside it.
public struct Validation: Sendable {
  public var loss: Double
  public var auc: Double?
  /// The share of validation units at the most common score (see `EpochRecord`).
  public var tiedShare: Double?

  public init(loss: Double, auc: Double? = nil, tiedShare: Double? = nil) {
    self.loss = loss
    self.auc = auc
    self.tiedShare = tiedShare
  }
}

/// The whole trained model as the loop checkpoints it (every stage's networks, with what
/// rebuilds them): all its tensors, a writer and a loader that refuses another model's file.
public protocol CheckpointedModel {
  /// Every tensor, weights and running statistics, in a fixed order.
  var namedTensors: [(name: String, tensor: Tensor)] { get }
  /// Writes the model with `extra` tensors and `metadata` to `path`, atomically.
  func write(to path: String, extra: [(String, Tensor)], metadata: [String: String])
    throws(SafeTensorsError)
  /// Copies the model's tensors from `file`, checking names and shapes.
  func load(_ file: SafeTensorsFile) throws(SafeTensorsError)
}
