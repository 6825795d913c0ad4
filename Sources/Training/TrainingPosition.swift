import TensorEngine

/// Where training stands at the end of an epoch: everything besides the tensors that a
/// resumed run needs to continue exactly as the uninterrupted one would have.
struct TrainingPosition: Codable, Equatable {
  /// The stage in progress, and its epochs done (0 with nothing else set: the stage has
  /// not begun).
  var stage: TrainingStage
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
  var densityStarted: Bool
  var records: [EpochRecord]
  /// Each rank's dropout generator.
  var dropout: [[UInt64]]

  enum CodingKeys: String, CodingKey {
    case stage, order, shuffle, best, records, dropout
    case completedEpochs = "completed_epochs"
    case stepsDone = "steps_done"
    case lossSums = "loss_sums"
    case sinceBest = "since_best"
    case adamStep = "adam_step"
    case densityStarted = "density_started"
  }
}

extension RandomGenerator {
  var words: [UInt64] { [state.0, state.1, state.2, state.3] }

  init(words: [UInt64]) {
    self.init(seed: 0)
    state = (words[0], words[1], words[2], words[3])
  }
}
