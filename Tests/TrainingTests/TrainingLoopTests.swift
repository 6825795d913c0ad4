import Configuration
import Evaluation
import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Training

/// A plain tabular network as a task of the training loop: what a model over the rows of a
/// table needs (the classical models' MLP is this with real columns). Rows are two features
/// in [-1, 1]; the label is whether they share a sign (XOR), which needs the hidden layer.
final class TableTask: TrainingTask {
  final class Network: Module {
    let hidden: Linear
    let output: Linear

    init(random: inout RandomGenerator) {
      hidden = Linear(2, 16, random: &random)
      output = Linear(16, 1, random: &random)
    }

    func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
      output(tape.relu(hidden(x, tape)), tape)
    }
  }

  let network: Network
  let features: [Float]
  let labels: [Float]
  let trainingUnits: [Int]
  let validationRows: [Int]
  /// Faults to play: the training loss from this step on, or the validation loss, is NaN.
  var nanLossFromStep: Int?
  var nanValidation = false
  private var steps = 0

  init(rows: Int = 384, seed: UInt64 = 5) {
    var random = RandomGenerator(seed: seed)
    network = Network(random: &random)
    var features: [Float] = []
    var labels: [Float] = []
    for _ in 0..<rows {
      let (a, b) = (
        Float.random(in: -1...1, using: &random), Float.random(in: -1...1, using: &random)
      )
      features += [a, b]
      labels.append(a * b > 0 ? 1 : 0)
    }
    self.features = features
    self.labels = labels
    trainingUnits = Array(0..<(rows * 2 / 3))
    validationRows = Array((rows * 2 / 3)..<rows)
  }

  var label: String { "table" }
  var module: Module { network }
  var unitsPerBatch: Int { 16 }
  var summary: String { "table: \(trainingUnits.count) training rows" }

  func batch(_ rows: [Int]) -> (x: Tensor, y: Tensor) {
    (
      Tensor(
        rows.flatMap { [features[2 * $0], features[2 * $0 + 1]] }, shape: Shape(rows.count, 2)),
      Tensor(rows.map { labels[$0] }, shape: Shape(rows.count, 1))
    )
  }

  func loss(_ units: [Int], tape: Tape) throws(TrainingError) -> Double {
    steps += 1
    let (x, y) = batch(units)
    let loss = tape.loss(.binaryCrossEntropyWithLogits(), prediction: network(x, tape), target: y)
    tape.backward(from: loss)
    return steps >= (nanLossFromStep ?? .max) ? .nan : Double(loss.scalar)
  }

  func validate(_ ranks: RankAgreement) throws(TrainingError) -> Validation {
    let tape = Tape(recording: false)
    let (x, y) = batch(validationRows)
    let loss = tape.loss(.binaryCrossEntropyWithLogits(), prediction: network(x, tape), target: y)
    let probabilities = tape.sigmoid(network(x, tape)).array
    let auc = try? ROCCurve(labels: y.array, scores: probabilities).auc
    return Validation(loss: nanValidation ? .nan : Double(loss.scalar), auc: auc)
  }

  /// A loop over this task's network, checkpointing into `directory`.
  func loop(epochs: Int, directory: URL? = nil, keep: Int = 100) throws -> TrainingLoop {
    var settings = TrainingConfig()
    settings.maxEpochs = epochs
    settings.patience = epochs
    settings.learningRate = 0.01
    settings.keepCheckpoints = keep
    let loop = try TrainingLoop(
      settings: settings,
      model: ModuleCheckpoint(network.namedTensors, description: EmptyDescription(), key: "table"),
      positionKey: "table_position", metricsPath: nil, communicator: nil, log: { _ in })
    loop.checkpointDirectory = directory?.path
    return loop
  }

  func train(_ loop: TrainingLoop, resumed: TrainingLoop.Resumption<SingleStage>? = nil) throws {
    if resumed == nil { try loop.start() }
    try loop.run(
      self, epochs: loop.settings.maxEpochs, shuffleStream: 0, context: SingleStage(),
      resumed: resumed)
  }
}

@Suite struct TrainingLoopTests {
  /// The loop trains a tabular network with a few dozen lines of task: validation AUC well
  /// above chance on XOR, one record per epoch, and the kept weights are the best epoch's.
  @Test func aTabularNetworkLearnsThroughTheLoop() throws {
    let task = TableTask()
    let loop = try task.loop(epochs: 40)
    try task.train(loop)
    #expect(loop.records.count == 40)
    #expect(loop.records.allSatisfy { $0.stage == nil })
    let best = try #require(loop.records.map(\.validationLoss).min())
    #expect(try task.validate(RankAgreement(communicator: nil)).loss == best)
    let auc = try #require(loop.records.last?.validationAUC)
    #expect(auc > 0.9, "validation AUC \(auc)")
    #expect(loop.records.first!.validationLoss > 1.5 * best)
  }

  /// Resuming from an older checkpoint removes the newer ones (they belong to the abandoned
  /// continuation and would win `--resume auto`), and the resumed run ends bitwise where
  /// the uninterrupted one does.
  @Test func resumingDiscardsTheAbandonedFutureAndEndsBitwiseAlike() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let whole = TableTask()
    let wholeLoop = try whole.loop(epochs: 4, directory: directory)
    try whole.train(wholeLoop)
    let steps = CheckpointFiles.steps(in: directory.path)
    #expect(steps.count == 4)

    let resumed = TableTask()
    let loop = try resumed.loop(epochs: 4, directory: directory)
    let resumption = try loop.resume(from: steps[2], force: false, as: SingleStage.self)
    #expect(CheckpointFiles.steps(in: directory.path) == Array(steps[2...]))
    #expect(resumption.position.completedEpochs == 2)
    try resumed.train(loop, resumed: resumption)
    #expect(loop.records.map(\.validationLoss) == wholeLoop.records.map(\.validationLoss))
    #expect(
      resumed.network.namedTensors.map { $0.tensor.array }
        == whole.network.namedTensors.map { $0.tensor.array })
  }

  @Test func aNonFiniteValidationLossStopsTraining() throws {
    let task = TableTask()
    task.nanValidation = true
    let error = #expect(throws: TrainingError.self) { try task.train(try task.loop(epochs: 3)) }
    #expect(error?.kind == .diverged)
    #expect(error?.isOnEveryRank == true)
    #expect(error?.description.contains("table epoch 1: the validation loss is nan") == true)
  }

  /// A loss that stops being finite ends training on every rank at the same step (the
  /// ranks agree with an all-reduce before any of them throws).
  @Test func aNonFiniteTrainingLossIsDivergenceAgreedByTheRanks() throws {
    let task = TableTask()
    task.nanLossFromStep = 20
    let error = #expect(throws: TrainingError.self) { try task.train(try task.loop(epochs: 3)) }
    #expect(error?.kind == .diverged)
    #expect(error?.isOnEveryRank == true)
    #expect(
      error?.description.contains("table epoch 2 step 4: the training loss is not finite") == true)
    #expect(error.map { $0.exitCode } == ExitStatus.failure)
  }

  /// A corrupt newest checkpoint is named with what is wrong and the previous one used; a
  /// position that does not decode and a checkpoint of another kind say so with the path.
  @Test func badCheckpointsAreNamedWithTheirReason() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let task = TableTask()
    try task.train(try task.loop(epochs: 2, directory: directory))
    let steps = CheckpointFiles.steps(in: directory.path)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: steps[0]))
    bytes[bytes.count - 3] ^= 0x10
    try bytes.write(to: URL(fileURLWithPath: steps[0]))
    var warnings: [String] = []
    #expect(CheckpointFiles.newestValid(in: directory.path) { warnings.append($0) } == steps[1])
    #expect(
      warnings.count == 1 && warnings[0].contains(steps[0]) && warnings[0].contains("checksum"))

    let other = TableTask()
    let garbled = directory.appendingPathComponent("garbled.safetensors").path
    try ModuleCheckpoint(other.network.namedTensors, description: EmptyDescription(), key: "table")
      .write(
        to: garbled, extra: [], metadata: ["table_position": "{\"completed_epochs\": \"two\"}"])
    let unreadable = #expect(throws: TrainingError.self) {
      _ = try other.loop(epochs: 2).resume(from: garbled, force: true, as: SingleStage.self)
    }
    #expect(unreadable?.kind == .badInput(path: garbled))
    #expect(unreadable?.description.contains("\(garbled): unreadable table_position") == true)

    let best = directory.appendingPathComponent("best.safetensors").path
    let notAStep = #expect(throws: TrainingError.self) {
      _ = try other.loop(epochs: 2).resume(from: best, force: true, as: SingleStage.self)
    }
    #expect(notAStep?.description.contains("\(best): not a checkpoint of this training") == true)
  }

  /// The transformer's trainer is the same loop: resuming it removes newer checkpoints too
  /// (its own copy of the loop never did).
  @Test func theTransformerDiscardsTheAbandonedFutureOnResume() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var config = TinyWaveform.config
    config.training.maxEpochs = 3
    config.training.keepCheckpoints = 10
    let first = try TinyWaveform.trainer(.mod4, config: config)
    first.checkpointDirectory = directory.path
    try first.train()
    let steps = CheckpointFiles.steps(in: directory.path)
    #expect(steps.count == 3)
    let resumed = try TinyWaveform.trainer(.mod4, config: config)
    resumed.checkpointDirectory = directory.path
    try resumed.resume(from: steps[2])
    #expect(CheckpointFiles.steps(in: directory.path) == [steps[2]])
    try resumed.train()
    #expect(resumed.records.map(\.validationLoss) == first.records.map(\.validationLoss))
  }
}

/// Positions as the two trainers wrote them before they shared the loop still decode, so
/// their checkpoints still resume.
@Suite struct LegacyPositionTests {
  @Test func anEnsemblePositionOfTheOldTrainerDecodes() throws {
    let json = """
      {"adam_step":12,"best":0.25,"completed_epochs":2,"density_started":true,\
      "dropout":[[1,2,3,4],[5,6,7,8]],"loss_sums":[0.5,0.75],"order":[2,0,1],\
      "records":[{"best":true,"epoch":1,"learning_rate":0.001,"samples_per_s":10.5,\
      "seconds":1.5,"stage":"density_log","step":6,"train_loss":0.3,"validation_loss":0.25}],\
      "shuffle":[9,10,11,12],"since_best":1,"stage":"density_log","steps_done":3}
      """
    let position = try JSONDecoder().decode(
      TrainingPosition<EnsembleProgress>.self, from: Data(json.utf8))
    #expect(position.context == EnsembleProgress(stage: .densityLog, densityStarted: true))
    #expect(position.completedEpochs == 2 && position.stepsDone == 3 && position.adamStep == 12)
    #expect(position.lossSums == [0.5, 0.75] && position.order == [2, 0, 1])
    #expect(
      position.dropout == [[1, 2, 3, 4], [5, 6, 7, 8]] && position.shuffle == [9, 10, 11, 12])
    #expect(position.best == 0.25 && position.sinceBest == 1)
    #expect(position.records.map(\.trainingStage) == [.densityLog])
    // Written again, the same keys at the same level.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let again =
      try JSONSerialization.jsonObject(with: try encoder.encode(position)) as! [String: Any]
    let original = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    #expect(Set(again.keys) == Set(original.keys))
  }

  @Test func aTransformerPositionOfTheOldTrainerDecodes() throws {
    let json = """
      {"adam_step":5,"completed_epochs":1,"dropout":[[1,2,3,4]],"loss_sums":[0],\
      "order":[4,3],"records":[{"best":true,"epoch":1,"learning_rate":0.001,\
      "samples_per_s":3,"seconds":2,"step":5,"train_loss":0.7,"validation_auc":0.6,\
      "validation_loss":0.65}],"shuffle":[1,2,3,4],"since_best":0,"steps_done":0}
      """
    let position = try JSONDecoder().decode(
      TrainingPosition<SingleStage>.self, from: Data(json.utf8))
    #expect(position.best == nil && position.completedEpochs == 1 && position.order == [4, 3])
    let record = try #require(position.records.first)
    #expect(record.stage == nil && record.validationAUC == 0.6 && record.validationTiedShare == nil)
  }
}
