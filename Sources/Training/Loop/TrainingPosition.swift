import TensorEngine

/// Where training stands: everything besides the tensors that a resumed run needs to
/// continue exactly as the uninterrupted one would have. `Context` is the trainer's own
/// part (the ensemble's stage); its keys sit beside the loop's in the checkpoint's JSON.
struct TrainingPosition<Context: Codable & Equatable>: Codable, Equatable {
  var context: Context
  /// Epochs done in the stage (0 with nothing else set: the stage has not begun).
  var completedEpochs: Int
  /// Steps done in the epoch after those (0 at an epoch's end), and each rank's running
  /// loss sum over them.
  var stepsDone = 0
  var lossSums: [Double] = []
  /// The stage's unit order after the last epoch's shuffle, and the shuffling generator's
  /// state after it (each epoch reshuffles the previous order).
  var order: [Int]
  var shuffle: [UInt64]
  /// Minimum validation loss so far (nil before the first epoch) and epochs since.
  var best: Double?
  var sinceBest: Int
  var adamStep: Int
  var records: [EpochRecord]
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

  init(
    context: Context, completedEpochs: Int, stepsDone: Int = 0, order: [Int],
    shuffle: [UInt64], best: Double?, sinceBest: Int, adamStep: Int, records: [EpochRecord]
  ) {
    self.context = context
    self.completedEpochs = completedEpochs
    self.stepsDone = stepsDone
    self.order = order
    self.shuffle = shuffle
    self.best = best
    self.sinceBest = sinceBest
    self.adamStep = adamStep
    self.records = records
    dropout = []
  }

  init(from decoder: any Decoder) throws {
    context = try Context(from: decoder)
    let container = try decoder.container(keyedBy: CodingKeys.self)
    completedEpochs = try container.decode(Int.self, forKey: .completedEpochs)
    stepsDone = try container.decodeIfPresent(Int.self, forKey: .stepsDone) ?? 0
    lossSums = try container.decodeIfPresent([Double].self, forKey: .lossSums) ?? []
    order = try container.decode([Int].self, forKey: .order)
    shuffle = try container.decode([UInt64].self, forKey: .shuffle)
    best = try container.decodeIfPresent(Double.self, forKey: .best)
    sinceBest = try container.decode(Int.self, forKey: .sinceBest)
    adamStep = try container.decode(Int.self, forKey: .adamStep)
    records = try container.decode([EpochRecord].self, forKey: .records)
    dropout = try container.decode([[UInt64]].self, forKey: .dropout)
  }

  func encode(to encoder: any Encoder) throws {
    try context.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(completedEpochs, forKey: .completedEpochs)
    try container.encode(stepsDone, forKey: .stepsDone)
    try container.encode(lossSums, forKey: .lossSums)
    try container.encode(order, forKey: .order)
    try container.encode(shuffle, forKey: .shuffle)
    try container.encodeIfPresent(best, forKey: .best)
    try container.encode(sinceBest, forKey: .sinceBest)
    try container.encode(adamStep, forKey: .adamStep)
    try container.encode(records, forKey: .records)
    try container.encode(dropout, forKey: .dropout)
  }
}

/// The position context of a model trained in one stage: nothing beyond the loop's own.
public struct SingleStage: Codable, Equatable {
  public init() {}
}

extension RandomGenerator {
  var words: [UInt64] { [state.0, state.1, state.2, state.3] }

  init(words: [UInt64]) {
    self.init(seed: 0)
    state = (words[0], words[1], words[2], words[3])
  }
}
