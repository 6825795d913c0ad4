import Foundation
import TensorEngine
import Testing

@testable import Classical

/// scikit-learn's trees on known tables (tools/fixtures/classical_trees.py writes them).
struct TreeFixtures: Decodable {
  struct Tree: Decodable {
    let rows: Int
    let columns: Int
    let x: [Double]
    let y: [Int]
    let maxDepth: Int
    let feature: [Int]
    let threshold: [Double]
    let left: [Int]
    let right: [Int]
    let value: [Double]
    let probability: [Double]
  }

  struct Forest: Decodable {
    let columns: Int
    let trainCodes: [Int]
    let trainY: [Int]
    let testCodes: [Int]
    let testY: [Int]
    let testAuc: Double
  }

  let tree: Tree
  let forest: Forest

  static let shared: TreeFixtures = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/trees.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(TreeFixtures.self, from: Data(contentsOf: url))
  }()
}

/// A noisy two-class table: uniform columns, P(1) a logistic function of the first two.
func noisyTable(rows: Int, columns: Int, seed: UInt64) -> (x: FeatureMatrix, y: [Float]) {
  var random = RandomGenerator(seed: seed)
  let values = (0..<(rows * columns)).map { _ in random.nextUniform() }
  let y = (0..<rows).map { row -> Float in
    let logit = 4 * (values[row * columns] - 0.5) + 3 * (values[row * columns + 1] - 0.5)
    return random.nextUniform() < 1 / (1 + exp(-logit)) ? 1 : 0
  }
  return (FeatureMatrix(rows: rows, columns: columns, values: values), y)
}

/// The node each row of `x` reaches.
func leaves(of tree: FittedTree, _ x: FeatureMatrix) -> [Int] {
  (0..<x.rows).map { row in
    var index = 0
    while tree.nodes[index].feature >= 0 {
      let node = tree.nodes[index]
      index = Int(x[row, Int(node.feature)] <= node.threshold ? node.left : node.right)
    }
    return index
  }
}

/// Levels of splits below the root.
func depth(of tree: FittedTree, node: Int = 0) -> Int {
  let current = tree.nodes[node]
  guard current.feature >= 0 else { return 0 }
  return 1
    + max(depth(of: tree, node: Int(current.left)), depth(of: tree, node: Int(current.right)))
}

@Suite struct DecisionTreeTests {
  /// Eight rows, y = 0 0 1 0 1 1 1 0 in the order of x0. Root Gini 1 − (½² + ½²) = 0.5.
  /// Splits of x0 by the number k of rows on the left, as (left, right) Gini → weighted
  /// sum → decrease:
  ///   k = 1: 0, 1 − (3/7)² − (4/7)² = 0.4898 → 7/8 · 0.4898 = 0.4286 → 0.0714
  ///   k = 2: 0, 1 − (4/6)² − (2/6)² = 0.4444 → 6/8 · 0.4444 = 0.3333 → 0.1667 (best)
  ///   k = 3: 0.4444, 1 − (3/5)² − (2/5)² = 0.48 → 0.1667 + 0.3 = 0.4667 → 0.0333
  ///   k = 4: 0.375, 0.375 → 0.375 → 0.125
  ///   k = 5: 0.48, 0.4444 → 0.4667 → 0.0333
  ///   k = 6: 0.5, 0.5 → 0.5 → 0
  ///   k = 7: 0.4898, 0 → 0.4286 → 0.0714
  /// x1 orders y as 0 0 0 1 1 0 1 1; its best is k = 3: left 0 0 0 (Gini 0), right
  /// 1 1 0 1 1 (1 − 0.8² − 0.2² = 0.32), weighted 5/8 · 0.32 = 0.2 → decrease 0.3.
  static let x0: [Float] = [0.5, 1, 3, 4, 6, 7, 8, 10]
  static let x1: [Float] = [10, 60, 40, 20, 50, 70, 80, 30]
  static let y: [Float] = [0, 0, 1, 0, 1, 1, 1, 0]

  static func table(_ columns: [[Float]]) -> FeatureMatrix {
    FeatureMatrix(
      rows: y.count, columns: columns.count,
      values: (0..<y.count).flatMap { row in columns.map { $0[row] } })
  }

  static func fitted(_ x: FeatureMatrix, _ y: [Float], _ settings: DecisionTree.Settings)
    throws -> FittedTree
  {
    let model = DecisionTree(settings: settings)
    try model.fit(x, y)
    return try #require(model.tree)
  }

  /// x0 alone: the best split leaves k = 2 rows left, halfway between 1 and 3; the leaves
  /// hold 0/2 and 4/6 positives.
  @Test func theSplitOfLeastGiniAndItsLeafValues() throws {
    let tree = try Self.fitted(Self.table([Self.x0]), Self.y, .init(maxDepth: 1))
    #expect(tree.nodes.map(\.feature) == [0, -1, -1])
    #expect(tree.nodes[0].threshold == 2)
    #expect(tree.nodes[0].left == 1 && tree.nodes[0].right == 2)
    #expect(tree.values == [0.5, 0, Float(4.0 / 6)])
  }

  /// Both columns: x1's decrease (0.3) beats x0's (0.1667); its split falls between 30
  /// and 40, with leaves 0/3 and 4/5.
  @Test func theColumnOfLeastGini() throws {
    let tree = try Self.fitted(Self.table([Self.x0, Self.x1]), Self.y, .init(maxDepth: 1))
    #expect(tree.nodes.map(\.feature) == [1, -1, -1])
    #expect(tree.nodes[0].threshold == 35)
    #expect(tree.values == [0.5, 0, 0.8])
  }

  /// minSamplesLeaf 3 allows k = 3, 4, 5 only; k = 4 (decrease 0.125) wins, between 4
  /// and 6, leaves 1/4 and 3/4.
  @Test func minSamplesLeafLimitsTheSplits() throws {
    let tree = try Self.fitted(
      Self.table([Self.x0]), Self.y, .init(maxDepth: 1, minSamplesLeaf: 3))
    #expect(tree.nodes[0].threshold == 5)
    #expect(tree.values == [0.5, 0.25, 0.75])
  }

  /// On a noisy table every leaf keeps minSamplesLeaf training rows (and without the
  /// limit some leaf has fewer), and no path is longer than maxDepth.
  @Test func minSamplesLeafAndMaxDepthHoldOnANoisyTable() throws {
    let (x, y) = noisyTable(rows: 400, columns: 3, seed: 5)
    for (minLeaf, expectSmall) in [(7, false), (1, true)] {
      let tree = try Self.fitted(x, y, .init(minSamplesLeaf: minLeaf))
      var rowsPerLeaf: [Int: Int] = [:]
      for leaf in leaves(of: tree, x) { rowsPerLeaf[leaf, default: 0] += 1 }
      #expect(rowsPerLeaf.values.contains { $0 < 7 } == expectSmall)
      #expect(rowsPerLeaf.count == tree.nodes.filter { $0.feature < 0 }.count)
    }
    #expect(depth(of: try Self.fitted(x, y, .init(maxDepth: 3))) == 3)
    #expect(depth(of: try Self.fitted(x, y, .init())) > 3)
  }

  /// Fully grown, every leaf is pure or holds rows that no threshold separates.
  @Test func aFullTreeFitsItsDistinctRows() throws {
    let (x, y) = noisyTable(rows: 300, columns: 4, seed: 9)
    let model = DecisionTree()
    try model.fit(x, y)
    #expect(try model.predictProbability(x) == y)
  }

  /// A weight of w is w copies of the row (weights are how a forest bootstraps), and
  /// weight 0 leaves the row out.
  @Test func weightsCountAsCopies() throws {
    let (x, y) = noisyTable(rows: 120, columns: 3, seed: 11)
    let weights = (0..<x.rows).map { Float($0 % 4) }
    let copies = (0..<x.rows).flatMap { row in Array(repeating: row, count: Int(weights[row])) }
    let settings = DecisionTree.Settings(maxDepth: 6)
    let weighted = DecisionTree(settings: settings)
    try weighted.fit(x, y, sampleWeights: weights)
    let copied = try Self.fitted(x.selecting(rows: copies), copies.map { y[$0] }, settings)
    #expect(weighted.tree == copied)
  }

  /// scikit-learn's DecisionTreeClassifier(maxDepth=4) on 300 rows and 6 columns of
  /// breast-cancer data, node by node (preorder both), and its predict_proba.
  @Test func reproducesScikitLearnsTree() throws {
    let fixture = TreeFixtures.shared.tree
    let x = FeatureMatrix(
      rows: fixture.rows, columns: fixture.columns, values: fixture.x.map { Float($0) })
    let model = DecisionTree(settings: .init(maxDepth: fixture.maxDepth))
    try model.fit(x, fixture.y.map { Float($0) })
    let tree = try #require(model.tree)
    try #require(tree.nodes.count == fixture.feature.count)
    for (index, node) in tree.nodes.enumerated() {
      #expect(Int(node.feature) == fixture.feature[index], "node \(index)")
      #expect(Int(node.left) == fixture.left[index], "node \(index)")
      #expect(Int(node.right) == fixture.right[index], "node \(index)")
      let threshold = fixture.threshold[index]
      #expect(
        abs(Double(node.threshold) - threshold) <= 1e-5 * abs(threshold), "node \(index)")
      #expect(abs(Double(tree.values[index]) - fixture.value[index]) < 1e-6, "node \(index)")
    }
    let probability = try model.predictProbability(x)
    #expect(zip(probability, fixture.probability).allSatisfy { abs(Double($0) - $1) < 1e-6 })
  }

  /// A threshold between two neighbouring Floats sends the lower left and the upper right.
  @Test func thresholdsSeparateNeighbouringFloats() {
    for below in [Float(1), 0.1, -3.5, 1e-30, 16_777_216] {
      let above = below.nextUp
      let threshold = TreeGrower.threshold(between: Double(below), and: above)
      #expect(below <= threshold && above > threshold)
    }
    #expect(TreeGrower.threshold(between: 1, and: 3) == 2)
  }

  /// Columns drawn per node: a seed gives one tree, another seed another.
  @Test func maxFeaturesDrawsColumnsBySeed() throws {
    let (x, y) = noisyTable(rows: 300, columns: 6, seed: 13)
    let first = try Self.fitted(x, y, .init(maxFeatures: 2, seed: 1))
    #expect(try Self.fitted(x, y, .init(maxFeatures: 2, seed: 1)) == first)
    #expect(try Self.fitted(x, y, .init(maxFeatures: 2, seed: 2)) != first)
  }

  /// With maxFeatures 1 and two constant columns, a node keeps drawing until it finds
  /// the column that varies (scikit-learn's rule), whatever the seed.
  @Test func constantColumnsDrawnDoNotEndTheSearch() throws {
    let x = Self.table([Array(repeating: 1, count: 8), Self.x0, Array(repeating: 2, count: 8)])
    let swapped = FeatureMatrix(
      rows: 8, columns: 3, values: (0..<8).flatMap { [Float(1), Float(2), Self.x0[$0]] })
    for seed in UInt64(0)..<8 {
      let settings = DecisionTree.Settings(maxDepth: 1, maxFeatures: 1, seed: seed)
      #expect(try Self.fitted(x, Self.y, settings).nodes[0].feature == 1)
      #expect(try Self.fitted(swapped, Self.y, settings).nodes[0].feature == 2)
    }
  }

  @Test func aStoredTreeRebuildsAndPredictsTheSame() throws {
    let (x, y) = noisyTable(rows: 200, columns: 3, seed: 3)
    let model = DecisionTree(settings: .init(maxDepth: 5, seed: 8))
    try model.fit(x, y)
    let stored = try model.stored()
    #expect(try stored.indices("feature").count == model.tree?.nodes.count)
    let rebuilt = try DecisionTree(stored: stored)
    #expect(rebuilt.settings == model.settings)
    #expect(try rebuilt.predictProbability(x) == model.predictProbability(x))
    #expect(try rebuilt.stored() == stored)
  }

  /// Arrays that do not form a tree are refused, naming the node.
  @Test func aStoredTreeIsChecked() throws {
    let model = DecisionTree(settings: .init(maxDepth: 1))
    try model.fit(Self.table([Self.x0]), Self.y)
    let stored = try model.stored()
    func corrupted(_ name: String, at index: Int, to value: Float) -> StoredModel {
      var copy = stored
      let position = copy.arrays.firstIndex { $0.name == name }!
      copy.arrays[position].values[index] = value
      return copy
    }
    for (name, index, value) in [
      ("left", 0, 3), ("right", 0, 0), ("feature", 0, 1), ("feature", 1, 0), ("value", 2, 2),
      ("left", 0, .nan),
    ] as [(String, Int, Float)] {
      let error = #expect(throws: ClassicalError.self) {
        try DecisionTree(stored: corrupted(name, at: index, to: value))
      }
      #expect(error?.subject == "decision_tree")
    }
    var other = stored
    other.kind = "knn"
    #expect(throws: ClassicalError.self) { try DecisionTree(stored: other) }
  }

  @Test func badInputIsNamed() throws {
    let x = Self.table([Self.x0])
    #expect(throws: ClassicalError.self) { try DecisionTree().predictProbability(x) }
    #expect(throws: ClassicalError.self) {
      try DecisionTree(settings: .init(minSamplesSplit: 1)).fit(x, Self.y)
    }
    #expect(throws: ClassicalError.self) {
      try DecisionTree(settings: .init(maxFeatures: 2)).fit(x, Self.y)
    }
    #expect(throws: ClassicalError.self) {
      try DecisionTree().fit(x, Self.y, sampleWeights: Array(repeating: -1, count: 8))
    }
    var holed = x
    holed[3, 0] = .nan
    #expect(throws: ClassicalError.self) { try DecisionTree().fit(holed, Self.y) }
    let model = DecisionTree()
    try model.fit(x, Self.y)
    #expect(throws: ClassicalError.self) {
      try model.predictProbability(Self.table([Self.x0, Self.x1]))
    }
  }
}
