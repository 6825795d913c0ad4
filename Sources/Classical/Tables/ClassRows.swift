import TensorEngine

/// The rows of each class, non-landslides (0) then landslides (1), each in a random order
/// drawn from `random`: the one draw behind every stratified split of a table (the
/// networks' validation share, a points inventory's test side, stacking's folds).
func shuffledClassRows(_ labels: [Float], using random: inout RandomGenerator) -> [[Int]] {
  [false, true].map { positive in
    var rows = labels.indices.filter { (labels[$0] == 1) == positive }
    rows.shuffle(using: &random)
    return rows
  }
}
