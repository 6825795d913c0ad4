import TensorEngine

/// A CART classifier with the Gini criterion, as scikit-learn's DecisionTreeClassifier
/// (SPEC.md §3): exact best splits, thresholds halfway between consecutive distinct
/// values, rows with `x <= threshold` to the left, leaves holding the weighted share of
/// positive rows (predict_proba).
public final class DecisionTree: Classifier {
  /// scikit-learn's hyperparameters, with its defaults.
  public struct Settings: Codable, Equatable, Sendable {
    /// The deepest level that may be split further (the root is depth 0); nil grows
    /// until leaves are pure or too small.
    public var maxDepth: Int?
    /// Fewest rows a node needs to be split.
    public var minSamplesSplit: Int
    /// Fewest rows on each side of a split.
    public var minSamplesLeaf: Int
    /// Columns tried at each node, drawn without replacement; nil tries all. (More are
    /// drawn while every one drawn is constant in the node, as scikit-learn does.)
    public var maxFeatures: Int?
    /// Seeds the column draws.
    public var seed: UInt64

    public init(
      maxDepth: Int? = nil, minSamplesSplit: Int = 2, minSamplesLeaf: Int = 1,
      maxFeatures: Int? = nil, seed: UInt64 = 0
    ) {
      self.maxDepth = maxDepth
      self.minSamplesSplit = minSamplesSplit
      self.minSamplesLeaf = minSamplesLeaf
      self.maxFeatures = maxFeatures
      self.seed = seed
    }

    /// Refuses values scikit-learn refuses, for a table of `columns` columns.
    func check(columns: Int, model: String) throws(ClassicalError) {
      if let maxDepth, maxDepth < 1 {
        throw ClassicalError(model, "maxDepth \(maxDepth); expected at least 1 (or none)")
      }
      guard minSamplesSplit >= 2 else {
        throw ClassicalError(model, "minSamplesSplit \(minSamplesSplit); expected at least 2")
      }
      guard minSamplesLeaf >= 1 else {
        throw ClassicalError(model, "minSamplesLeaf \(minSamplesLeaf); expected at least 1")
      }
      if let maxFeatures, maxFeatures < 1 || maxFeatures > columns {
        throw ClassicalError(
          model, "maxFeatures \(maxFeatures); expected 1 to the table's \(columns) columns")
      }
    }
  }

  /// What `stored()` writes as settings: the hyperparameters and the table's width.
  struct StoredSettings: Codable {
    var settings: Settings
    var columns: Int
  }

  static let kind = "decision_tree"
  public var name: String { Self.kind }
  public let settings: Settings
  /// The fitted tree and the number of columns it was fitted on; nil before `fit`.
  private(set) var fitted: (tree: TreeEnsemble, columns: Int)?

  public init(settings: Settings = Settings()) {
    self.settings = settings
  }

  /// Rebuilds a tree from `stored()`, checking that its arrays form a tree.
  public init(stored: StoredModel) throws(ClassicalError) {
    guard stored.kind == Self.kind else {
      throw ClassicalError(Self.kind, "stored model is a '\(stored.kind)', not a '\(Self.kind)'")
    }
    let decoded = try stored.decodeSettings(StoredSettings.self)
    settings = decoded.settings
    let tree = try FittedTree(stored: stored, columns: decoded.columns, model: Self.kind)
    fitted = (TreeEnsemble(trees: [tree]), decoded.columns)
  }

  init(settings: Settings, tree: FittedTree, columns: Int) {
    self.settings = settings
    fitted = (TreeEnsemble(trees: [tree]), columns)
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try fit(x, y, sampleWeights: nil)
  }

  /// Fits with a weight per row (≥ 0, as scikit-learn's `sample_weight`): the criterion
  /// and leaf values weigh each row by it, and rows of weight 0 are left out.
  public func fit(_ x: FeatureMatrix, _ y: [Float], sampleWeights: [Float]?)
    throws(ClassicalError)
  {
    try checkTrainingTable(x, y, model: name)
    try settings.check(columns: x.columns, model: name)
    if let sampleWeights {
      guard sampleWeights.count == x.rows else {
        throw ClassicalError(name, "\(sampleWeights.count) sample weights for \(x.rows) rows")
      }
      guard sampleWeights.allSatisfy({ $0.isFinite && $0 >= 0 }),
        sampleWeights.contains(where: { $0 > 0 })
      else {
        throw ClassicalError(name, "sample weights must be finite, ≥ 0 and not all 0")
      }
    }
    let grower = TreeGrower(table: try TreeTable(x, y, model: name))
    let tree =
      if let sampleWeights {
        sampleWeights.withUnsafeBufferPointer {
          grower.grow(weights: $0.baseAddress!, settings: settings)
        }
      } else {
        grower.grow(weights: nil, settings: settings)
      }
    fitted = (TreeEnsemble(trees: [tree]), x.columns)
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard let fitted else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == fitted.columns else {
      throw ClassicalError(name, "fitted on \(fitted.columns) columns, asked about \(x.columns)")
    }
    return fitted.tree.meanValue(x)
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    guard let fitted else { throw ClassicalError(name, "store before fit") }
    return try StoredModel(
      kind: name, settings: StoredSettings(settings: settings, columns: fitted.columns),
      arrays: fitted.tree.tree(0).storedArrays(model: name))
  }

  /// The fitted tree's nodes (nil before `fit`).
  var tree: FittedTree? { fitted?.tree.tree(0) }
}

/// One node of a fitted tree, packed so that a step of a prediction reads 16 bytes.
struct TreeNode: Equatable, Sendable {
  /// The column tested, or -1 at a leaf.
  var feature: Int32
  /// Rows with `x[feature] <= threshold` go left.
  var threshold: Float
  /// Child indices, -1 at a leaf.
  var left: Int32
  var right: Int32
}

/// A fitted tree: its nodes in preorder (the root first, a node's children after it) and
/// each node's weighted share of positive training rows.
struct FittedTree: Equatable, Sendable {
  var nodes: [TreeNode]
  var values: [Float]

  /// The node arrays scikit-learn's `tree_` has: feature (-1 at leaves), threshold (0 at
  /// leaves), left and right children (-1 at leaves), value (P(positive)).
  func storedArrays(model: String) throws(ClassicalError) -> [StoredModel.StoredArray] {
    let shape = [nodes.count]
    return [
      .init(
        name: "feature", shape: shape,
        values: try StoredModel.exactFloats(nodes.map { Int($0.feature) }, model: model)),
      .init(name: "threshold", shape: shape, values: nodes.map(\.threshold)),
      .init(
        name: "left", shape: shape,
        values: try StoredModel.exactFloats(nodes.map { Int($0.left) }, model: model)),
      .init(
        name: "right", shape: shape,
        values: try StoredModel.exactFloats(nodes.map { Int($0.right) }, model: model)),
      .init(name: "value", shape: shape, values: values),
    ]
  }

  init(nodes: [TreeNode], values: [Float]) {
    self.nodes = nodes
    self.values = values
  }

  /// Rebuilds a tree from `storedArrays`, checking that the arrays form one: every
  /// internal node tests a column of the table and has both children after it (so a walk
  /// ends), leaves have none, values are probabilities.
  init(stored: StoredModel, columns: Int, model: String) throws(ClassicalError) {
    let feature = try stored.array("feature")
    let count = feature.count
    try self.init(
      feature: feature, threshold: try stored.array("threshold", count: count),
      left: try stored.array("left", count: count), right: try stored.array("right", count: count),
      value: try stored.array("value", count: count), columns: columns, model: model)
  }

  /// The same check on the arrays of one tree, however they arrived (a file, another rank).
  init(
    feature: [Float], threshold: [Float], left: [Float], right: [Float], value: [Float],
    columns: Int, model: String
  ) throws(ClassicalError) {
    let count = feature.count
    guard count > 0, [threshold, left, right, value].allSatisfy({ $0.count == count }) else {
      throw ClassicalError(model, "a tree needs at least one node and arrays of equal length")
    }
    func integer(_ value: Float, in range: Range<Int>) -> Int32? {
      guard value.magnitude < 0x1p24, value.rounded() == value, range.contains(Int(value)) else {
        return nil
      }
      return Int32(value)
    }
    nodes = []
    nodes.reserveCapacity(count)
    for index in 0..<count {
      guard value[index] >= 0, value[index] <= 1 else {
        throw ClassicalError(model, "node \(index) has value \(value[index]), not a probability")
      }
      guard let column = integer(feature[index], in: -1..<columns) else {
        throw ClassicalError(
          model, "node \(index) tests column \(feature[index]) of a \(columns)-column table")
      }
      if column < 0 {
        guard left[index] == -1, right[index] == -1 else {
          throw ClassicalError(model, "leaf \(index) has children")
        }
        nodes.append(TreeNode(feature: -1, threshold: 0, left: -1, right: -1))
        continue
      }
      guard let leftChild = integer(left[index], in: (index + 1)..<count),
        let rightChild = integer(right[index], in: (index + 1)..<count)
      else {
        throw ClassicalError(
          model,
          "node \(index) has children \(left[index]) and \(right[index]); expected nodes "
            + "after it among the \(count)")
      }
      guard !threshold[index].isNaN else {
        throw ClassicalError(model, "node \(index) has threshold NaN")
      }
      nodes.append(
        TreeNode(feature: column, threshold: threshold[index], left: leftChild, right: rightChild))
    }
    values = value
  }
}

/// Trees laid end to end in one node array (children as indices into it), so that one
/// pass over a block of rows walks every tree from memory the block keeps warm.
struct TreeEnsemble: Sendable {
  private(set) var nodes: [TreeNode] = []
  private(set) var values: [Float] = []
  /// Tree t's nodes are `roots[t]..<roots[t + 1]`.
  private(set) var roots: [Int] = [0]

  init(trees: [FittedTree]) {
    nodes.reserveCapacity(trees.reduce(0) { $0 + $1.nodes.count })
    values.reserveCapacity(nodes.capacity)
    for tree in trees {
      let offset = Int32(nodes.count)
      nodes += tree.nodes.map { node in
        node.feature < 0
          ? node
          : TreeNode(
            feature: node.feature, threshold: node.threshold, left: node.left + offset,
            right: node.right + offset)
      }
      values += tree.values
      roots.append(nodes.count)
    }
  }

  var treeCount: Int { roots.count - 1 }

  /// Tree `index` with its own node numbering again.
  func tree(_ index: Int) -> FittedTree {
    let range = roots[index]..<roots[index + 1]
    let offset = Int32(range.lowerBound)
    return FittedTree(
      nodes: nodes[range].map { node in
        node.feature < 0
          ? node
          : TreeNode(
            feature: node.feature, threshold: node.threshold, left: node.left - offset,
            right: node.right - offset)
      },
      values: Array(values[range]))
  }

  /// The mean over the trees of the leaf value each row reaches (scikit-learn's
  /// predict_proba of a forest), rows split over the thread pool.
  func meanValue(_ x: FeatureMatrix) -> [Float] {
    var result = [Float](repeating: 0, count: x.rows)
    nodes.withUnsafeBufferPointer { nodes in
      values.withUnsafeBufferPointer { values in
        roots.withUnsafeBufferPointer { roots in
          x.values.withUnsafeBufferPointer { features in
            result.withUnsafeMutableBufferPointer { result in
              ThreadPool.shared.parallelFor(
                result.count, work: result.count * treeCount * 32,
                PredictionJob(
                  nodes: nodes.baseAddress!, values: values.baseAddress!, roots: roots.baseAddress!,
                  trees: treeCount, x: features.baseAddress, columns: x.columns,
                  result: result.baseAddress))
            }
          }
        }
      }
    }
    return result
  }
}

/// Walks blocks of rows through every tree, tree after tree within a block, summing leaf
/// values in float64 in tree order. A block (8192 rows) and one tree's nodes fit in L2
/// together, so a tree is loaded once per block, not once per row. Rows go down a tree
/// `lanes` at a time, one level each in turn: a step waits on the node it loads, and
/// independent rows let those loads overlap.
private struct PredictionJob: ParallelJob {
  static let block = 8192
  static let lanes = 8

  let nodes: UnsafePointer<TreeNode>
  let values: UnsafePointer<Float>
  let roots: UnsafePointer<Int>
  let trees: Int
  let x: UnsafePointer<Float>?
  let columns: Int
  let result: UnsafeMutablePointer<Float>?

  func run(_ range: Range<Int>) {
    guard let x, let result else { return }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.block) { sums in
      withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.lanes) { at in
        for start in stride(from: range.lowerBound, to: range.upperBound, by: Self.block) {
          let end = min(start + Self.block, range.upperBound)
          for row in start..<end { sums[row - start] = 0 }
          for tree in 0..<trees {
            for first in stride(from: start, to: end, by: Self.lanes) {
              let lanes = min(Self.lanes, end - first)
              for lane in 0..<lanes { at[lane] = roots[tree] }
              var moving = true
              while moving {
                moving = false
                for lane in 0..<lanes {
                  let node = nodes[at[lane]]
                  guard node.feature >= 0 else { continue }
                  let value = x[(first + lane) * columns + Int(node.feature)]
                  at[lane] = Int(value <= node.threshold ? node.left : node.right)
                  moving = true
                }
              }
              for lane in 0..<lanes { sums[first + lane - start] += Double(values[at[lane]]) }
            }
          }
          for row in start..<end { result[row] = Float(sums[row - start] / Double(trees)) }
        }
      }
    }
  }
}
