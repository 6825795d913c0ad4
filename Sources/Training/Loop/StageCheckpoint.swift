import TensorEngine

/// What a step checkpoint keeps beside the weights so that a stage continues exactly:
/// Adam's moments, the best weights so far, and every rank's running statistics (and their
/// best copies), one row per rank. Both trainers write and read it the same way.
enum StageCheckpoint {
  static let rankStatesKey = "rank_states"
  static let rankBestStatesKey = "rank_best_states"

  /// The tensors to store; `states` and `bestStates` are the ranks' rows, gathered.
  static func tensors(
    adam: Adam?, snapshot: WeightSnapshot?, states: [Float], bestStates: [Float]?, ranks: Int
  ) -> [(String, Tensor)] {
    var tensors: [(String, Tensor)] = []
    if let adam {
      for index in adam.parameters.indices {
        tensors.append(("adam.m.\(index)", adam.firstMoments[index]))
        tensors.append(("adam.v.\(index)", adam.secondMoments[index]))
      }
    }
    for (index, copy) in (snapshot?.copies ?? []).enumerated() {
      tensors.append(("best.\(index)", copy))
    }
    tensors.append((rankStatesKey, Tensor(states, shape: Shape(ranks, states.count / ranks))))
    if let bestStates {
      tensors.append(
        (rankBestStatesKey, Tensor(bestStates, shape: Shape(ranks, bestStates.count / ranks))))
    }
    return tensors
  }

  /// Restores Adam's moments, the best weights and this rank's best running statistics.
  static func restore(
    _ file: SafeTensorsFile, adam: Adam, snapshot: WeightSnapshot, agreement: RankAgreement
  ) throws(TrainingError) {
    do {
      for index in adam.parameters.indices {
        try copyTensor(file, "adam.m.\(index)", into: adam.firstMoments[index])
        try copyTensor(file, "adam.v.\(index)", into: adam.secondMoments[index])
      }
      for (index, copy) in snapshot.copies.enumerated() {
        try copyTensor(file, "best.\(index)", into: copy)
      }
      try agreement.loadRow(file, rankBestStatesKey, into: snapshot.stateCopies)
    } catch {
      throw TrainingError(error.description)
    }
  }

  /// The ranks' dropout generators from their gathered words, four per rank.
  static func dropoutStreams(_ words: [Int64]) -> [[UInt64]] {
    stride(from: 0, to: words.count, by: 4).map { start in
      words[start..<(start + 4)].map { UInt64(bitPattern: $0) }
    }
  }
}
