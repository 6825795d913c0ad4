import TensorEngine

/// The rows of each class, non-landslides (0) then landslides (1), each in a random order
/// drawn from `random`: the one draw behind every stratified split of a table (the
/// networks' validation share, a points inventory's test side, stacking's and cross-validation's folds).
func shuffledClassRows(_ labels: [Float], using random: inout RandomGenerator) -> [[Int]] {
  [false, true].map { positive in
    var rows = labels.indices.filter { (labels[$0] == 1) == positive }
    rows.shuffle(using: &random)
    return rows
  }
}

/// Each row's fold of `count` stratified folds: positives and negatives shuffled apart and
/// dealt round-robin, so every fold holds both classes in the table's proportion.
public func stratifiedFolds(_ labels: [Float], count: Int, seed: UInt64) -> [Int] {
  var random = RandomGenerator(seed: seed)
  var fold = [Int](repeating: 0, count: labels.count)
  var next = 0
  for rows in shuffledClassRows(labels, using: &random) {
    for row in rows {
      fold[row] = next % count
      next += 1
    }
  }
  return fold
}
