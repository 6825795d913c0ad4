import Configuration
import Distributed
import Evaluation
import Foundation
import TensorEngine
import Training

/// The seed's ANN (one hidden layer) and MLP (two or more): dense layers with ReLU or
/// sigmoid inside, trained by the one training loop (Adam, early stopping on a held-out
/// share of the training table, data-parallel over the ranks). The paper's softmax over
/// two classes with cross-entropy is the same model as one logit with a sigmoid and binary
/// cross-entropy (the two logits enter only through their difference); one logit is used.
public final class NeuralNetwork: Classifier {
  public struct Settings: Codable, Equatable, Sendable {
    /// "ann" or "mlp".
    public var name: String
    public var hidden: [Int]
    /// "relu" or "sigmoid".
    public var activation: String
    /// Inputs the first layer takes (set by `fit`).
    public var inputs = 0

    public init(name: String, hidden: [Int], activation: String = "relu") {
      self.name = name
      self.hidden = hidden
      self.activation = activation
    }
  }

  /// Dense layers; the last has one output, the logit of P(landslide).
  final class Network: Module {
    let layers: [Linear]
    let sigmoidInside: Bool

    init(inputs: Int, hidden: [Int], sigmoidInside: Bool, random: inout RandomGenerator) {
      let widths = [inputs] + hidden + [1]
      layers = (0..<(widths.count - 1)).map { Linear(widths[$0], widths[$0 + 1], random: &random) }
      self.sigmoidInside = sigmoidInside
    }

    func callAsFunction(_ x: Tensor, _ tape: Tape) -> Tensor {
      var y = x
      for (index, layer) in layers.enumerated() {
        y = layer(y, tape)
        if index < layers.count - 1 { y = sigmoidInside ? tape.sigmoid(y) : tape.relu(y) }
      }
      return y
    }
  }

  public private(set) var settings: Settings
  public var name: String { settings.name }
  let training: TrainingConfig
  let validationShare: Double
  let communicator: Communicator?
  /// Where the loop appends one JSON line per epoch (nil: nowhere).
  public var metricsPath: String?
  /// Progress and epoch lines (rank 0).
  public var log: (String) -> Void = { _ in }
  private var network: Network?

  public init(
    settings: Settings, training: TrainingConfig, validationShare: Double = 0.1,
    communicator: Communicator? = nil
  ) {
    self.settings = settings
    self.training = training
    self.validationShare = validationShare
    self.communicator = communicator
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    settings.inputs = x.columns
    var random = RandomGenerator(seed: UInt64(training.seed))
    let network = Network(
      inputs: x.columns, hidden: settings.hidden, sigmoidInside: settings.activation == "sigmoid",
      random: &random)
    let task = RowTask(
      label: name, network: network, x: x, y: y, validationShare: validationShare,
      batch: training.batchSize, random: &random)
    do {
      let loop = try TrainingLoop(
        settings: training,
        model: ModuleCheckpoint(
          network.namedTensors, description: EmptyDescription(), key: "classical_network"),
        positionKey: "classical_position", metricsPath: metricsPath, communicator: communicator,
        log: log)
      try loop.start()
      try loop.run(
        task, epochs: training.maxEpochs, shuffleStream: 0, context: SingleStage(), resumed: nil)
    } catch {
      throw ClassicalError(name, error.description)
    }
    network.train(false)
    self.network = network
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard let network else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == settings.inputs else {
      throw ClassicalError(name, "\(x.columns) columns; the network takes \(settings.inputs)")
    }
    return RowTask.probabilities(network, x)
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    guard let network else { throw ClassicalError(name, "store before fit") }
    return StoredModel(
      kind: "neural_network", settings: settings,
      arrays: network.namedTensors.map { name, tensor in
        .init(
          name: name, shape: (0..<tensor.shape.rank).map { tensor.shape[$0] },
          values: tensor.array)
      })
  }

  public init(stored: StoredModel) throws(ClassicalError) {
    settings = try stored.decodeSettings(Settings.self)
    training = .classicalDefaults
    validationShare = 0.1
    communicator = nil
    var random = RandomGenerator(seed: 0)
    let network = Network(
      inputs: settings.inputs, hidden: settings.hidden,
      sigmoidInside: settings.activation == "sigmoid", random: &random)
    for (name, tensor) in network.namedTensors {
      tensor.data.update(from: try stored.array(name, count: tensor.count), count: tensor.count)
    }
    network.train(false)
    self.network = network
  }
}

/// The network's rows as a task of the training loop: a seeded held-out share for
/// validation (stratified, so both classes are in it), BCE on logits.
final class RowTask: TrainingTask {
  let label: String
  let network: NeuralNetwork.Network
  let x: FeatureMatrix
  let y: [Float]
  let trainingUnits: [Int]
  let validationRows: [Int]
  let unitsPerBatch: Int

  init(
    label: String, network: NeuralNetwork.Network, x: FeatureMatrix, y: [Float],
    validationShare: Double, batch: Int, random: inout RandomGenerator
  ) {
    self.label = label
    self.network = network
    self.x = x
    self.y = y
    var training: [Int] = []
    var validation: [Int] = []
    for rows in shuffledClassRows(y, using: &random) {
      let held = max(1, Int((Double(rows.count) * validationShare).rounded()))
      validation += rows.prefix(held)
      training += rows.dropFirst(held)
    }
    trainingUnits = training.sorted()
    validationRows = validation.sorted()
    unitsPerBatch = batch
  }

  var module: Module { network }
  var unitName: String { "rows" }
  var summary: String {
    "\(label): \(trainingUnits.count) training rows, \(validationRows.count) validation rows, "
      + "\(x.columns) columns"
  }

  func loss(_ units: [Int], tape: Tape) throws(TrainingError) -> Double {
    let batch = x.selecting(rows: units)
    let input = Tensor(batch.values, shape: Shape(units.count, x.columns))
    let target = Tensor(units.map { y[$0] }, shape: Shape(units.count, 1))
    let loss = tape.loss(
      .binaryCrossEntropyWithLogits(), prediction: network(input, tape), target: target)
    tape.backward(from: loss)
    return Double(loss.scalar)
  }

  func validate(_ ranks: RankAgreement) throws(TrainingError) -> Validation {
    network.train(false)
    defer { network.train(true) }
    // Each rank scores its share of the validation rows; the sums agree on every rank.
    let share = validationRows.indices.filter { $0 % ranks.ranks == ranks.rank }.map {
      validationRows[$0]
    }
    let probabilities = RowTask.probabilities(network, x.selecting(rows: share))
    var totals: [Float] = [0]
    for (row, p) in zip(share, probabilities) {
      let clipped = min(max(p, 1e-7), 1 - 1e-7)
      totals[0] -= y[row] == 1 ? log(clipped) : log(1 - clipped)
    }
    try ranks.sum(&totals)
    return Validation(loss: Double(totals[0]) / Double(validationRows.count))
  }

  /// P(landslide) per row, in inference batches.
  static func probabilities(_ network: NeuralNetwork.Network, _ x: FeatureMatrix) -> [Float] {
    let tape = Tape(recording: false)
    var result: [Float] = []
    result.reserveCapacity(x.rows)
    let batch = 8192
    for start in stride(from: 0, to: x.rows, by: batch) {
      let rows = min(batch, x.rows - start)
      let input = Tensor(
        Array(x.values[(start * x.columns)..<((start + rows) * x.columns)]),
        shape: Shape(rows, x.columns))
      tape.reset()
      result += tape.sigmoid(network(input, tape)).array
    }
    return result
  }
}
