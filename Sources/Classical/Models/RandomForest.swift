import Distributed
import TensorEngine

/// A random forest as scikit-learn's RandomForestClassifier (SPEC.md §3): CART trees on
/// bootstrap samples with a random subset of columns tried at each node; the probability
/// is the mean of the trees' leaf values (predict_proba). Tree i draws its bootstrap and
/// columns from (seed, i) alone, so the forest is the same on any number of threads or
/// ranks; across ranks each grows its share of the trees and all end with the whole forest.
public final class RandomForest: Classifier {
  /// How many columns each node tries, as scikit-learn's `max_features`; in settings files
  /// "sqrt", "log2", "all" or a number.
  public enum MaxFeatures: Codable, Equatable, Sendable {
    case sqrt, log2, all
    case count(Int)

    /// The number for a table of `columns` columns (at least 1).
    func count(columns: Int) -> Int {
      switch self {
      case .sqrt: max(1, Int(Double(columns).squareRoot()))
      case .log2: max(1, Int.bitWidth - 1 - columns.leadingZeroBitCount)
      case .all: columns
      case .count(let count): count
      }
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let count = try? container.decode(Int.self) {
        self = .count(count)
        return
      }
      switch try container.decode(String.self) {
      case "sqrt": self = .sqrt
      case "log2": self = .log2
      case "all": self = .all
      case let other:
        throw DecodingError.dataCorruptedError(
          in: container,
          debugDescription: "max features '\(other)'; expected sqrt, log2, all or a number")
      }
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .sqrt: try container.encode("sqrt")
      case .log2: try container.encode("log2")
      case .all: try container.encode("all")
      case .count(let count): try container.encode(count)
      }
    }
  }

  /// scikit-learn's hyperparameters, with its defaults (`trees` is `n_estimators`).
  public struct Settings: Codable, Equatable, Sendable {
    public var trees: Int
    public var maxFeatures: MaxFeatures
    public var maxDepth: Int?
    public var minSamplesSplit: Int
    public var minSamplesLeaf: Int
    /// Each tree fits on n rows drawn with replacement (as counts: row weights), or on
    /// every row once.
    public var bootstrap: Bool
    public var seed: UInt64

    public init(
      trees: Int = 100, maxFeatures: MaxFeatures = .sqrt, maxDepth: Int? = nil,
      minSamplesSplit: Int = 2, minSamplesLeaf: Int = 1, bootstrap: Bool = true, seed: UInt64 = 0
    ) {
      self.trees = trees
      self.maxFeatures = maxFeatures
      self.maxDepth = maxDepth
      self.minSamplesSplit = minSamplesSplit
      self.minSamplesLeaf = minSamplesLeaf
      self.bootstrap = bootstrap
      self.seed = seed
    }

    /// Tree `index`'s settings and the generator of its bootstrap, from (seed, index)
    /// alone.
    func tree(_ index: Int, columns: Int) -> (
      settings: DecisionTree.Settings, bootstrap: RandomGenerator
    ) {
      var generator = RandomGenerator(seed: Self.mix(seed ^ Self.mix(UInt64(index))))
      let settings = DecisionTree.Settings(
        maxDepth: maxDepth, minSamplesSplit: minSamplesSplit, minSamplesLeaf: minSamplesLeaf,
        maxFeatures: maxFeatures.count(columns: columns), seed: generator.next())
      return (settings, generator)
    }

    /// SplitMix64's finaliser: nearby (seed, index) pairs give unrelated streams.
    private static func mix(_ value: UInt64) -> UInt64 {
      var z = value &+ 0x9E37_79B9_7F4A_7C15
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  /// What `stored()` writes as settings: the hyperparameters and the table's width.
  struct StoredSettings: Codable {
    var settings: Settings
    var columns: Int
  }

  static let kind = "random_forest"
  public var name: String { Self.kind }
  public let settings: Settings
  private let communicator: Communicator?
  /// The fitted trees and the number of columns they were fitted on; nil before `fit`.
  private(set) var fitted: (trees: TreeEnsemble, columns: Int)?

  /// With a communicator of more than one rank, `fit` grows this rank's share of the
  /// trees (tree i on rank i % size) and gathers the others from their ranks; every rank
  /// must call it with the same table.
  public init(settings: Settings = Settings(), communicator: Communicator? = nil) {
    self.settings = settings
    self.communicator = communicator
  }

  /// Rebuilds a forest from `stored()`, checking every tree.
  public init(stored: StoredModel) throws(ClassicalError) {
    guard stored.kind == Self.kind else {
      throw ClassicalError(Self.kind, "stored model is a '\(stored.kind)', not a '\(Self.kind)'")
    }
    let decoded = try stored.decodeSettings(StoredSettings.self)
    guard stored.parts.count == decoded.settings.trees else {
      throw ClassicalError(
        Self.kind, "\(stored.parts.count) stored trees; the settings say \(decoded.settings.trees)")
    }
    var trees: [FittedTree] = []
    for (index, part) in stored.parts.enumerated() {
      guard part.kind == DecisionTree.kind else {
        throw ClassicalError(Self.kind, "tree \(index) is a '\(part.kind)'")
      }
      do {
        trees.append(try FittedTree(stored: part, columns: decoded.columns, model: Self.kind))
      } catch { throw ClassicalError(Self.kind, "tree \(index): \(error.message)") }
    }
    settings = decoded.settings
    communicator = nil
    fitted = (TreeEnsemble(trees: trees), decoded.columns)
  }

  /// A forest of trees grown apart (by `fitTrees`), in tree order.
  init(settings: Settings, trees: [FittedTree], columns: Int) {
    self.settings = settings
    communicator = nil
    fitted = (TreeEnsemble(trees: trees), columns)
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    guard settings.trees >= 1 else {
      throw ClassicalError(name, "trees \(settings.trees); expected at least 1")
    }
    try settings.tree(0, columns: x.columns).settings.check(columns: x.columns, model: name)
    let table = try TreeTable(x, y, model: name)
    let size = communicator?.size ?? 1
    let rank = communicator?.rank ?? 0
    var trees = fitTrees(Array(stride(from: rank, to: settings.trees, by: size)), on: table)
    if let communicator, size > 1 {
      trees = try exchange(trees, over: communicator, columns: x.columns)
    }
    fitted = (TreeEnsemble(trees: trees), x.columns)
  }

  /// Grows the trees numbered `indices`, in that order, over the thread pool (one grower,
  /// and so one set of scratch buffers, per thread).
  func fitTrees(_ indices: [Int], on table: TreeTable) -> [FittedTree] {
    var trees = [FittedTree](
      repeating: FittedTree(nodes: [], values: []), count: indices.count)
    indices.withUnsafeBufferPointer { indices in
      trees.withUnsafeMutableBufferPointer { trees in
        ThreadPool.shared.parallelFor(
          indices.count, work: indices.count * table.rows * table.columns,
          TreeFittingJob(
            settings: settings, table: table, indices: indices.baseAddress!,
            trees: trees.baseAddress!))
      }
    }
    return trees
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard let fitted else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == fitted.columns else {
      throw ClassicalError(name, "fitted on \(fitted.columns) columns, asked about \(x.columns)")
    }
    return fitted.trees.meanValue(x)
  }

  /// The settings and, as parts, every tree as a `DecisionTree` would store it.
  public func stored() throws(ClassicalError) -> StoredModel {
    guard let fitted else { throw ClassicalError(name, "store before fit") }
    var parts: [StoredModel] = []
    for index in 0..<fitted.trees.treeCount {
      parts.append(
        try DecisionTree(
          settings: settings.tree(index, columns: fitted.columns).settings,
          tree: fitted.trees.tree(index), columns: fitted.columns
        ).stored())
    }
    return StoredModel(
      kind: name, settings: StoredSettings(settings: settings, columns: fitted.columns),
      parts: parts)
  }

  /// Gives every rank the whole forest in tree order. Tree i was grown on rank i % size,
  /// which broadcasts its node count and then its nodes as two arrays of that length
  /// times 3 and 2: Int32 (feature, left, right) and Float (threshold, value).
  private func exchange(_ own: [FittedTree], over communicator: Communicator, columns: Int)
    throws(ClassicalError) -> [FittedTree]
  {
    func broadcast<Scalar: MPIScalar>(_ values: inout [Scalar], tree: Int, root: Int)
      throws(ClassicalError)
    {
      do { try communicator.broadcast(&values, root: root) } catch {
        throw ClassicalError(name, "sharing tree \(tree) from rank \(root): \(error)")
      }
    }
    var trees: [FittedTree] = []
    trees.reserveCapacity(settings.trees)
    var ownIndex = 0
    for index in 0..<settings.trees {
      let root = index % communicator.size
      let tree = root == communicator.rank ? own[ownIndex] : nil
      var count = [Int32(tree?.nodes.count ?? 0)]
      try broadcast(&count, tree: index, root: root)
      let nodes = Int(count[0])
      var integers =
        tree?.nodes.flatMap { [$0.feature, $0.left, $0.right] }
        ?? [Int32](repeating: 0, count: 3 * nodes)
      var floats =
        tree.map { $0.nodes.map(\.threshold) + $0.values }
        ?? [Float](repeating: 0, count: 2 * nodes)
      try broadcast(&integers, tree: index, root: root)
      try broadcast(&floats, tree: index, root: root)
      if let tree {
        trees.append(tree)
        ownIndex += 1
        continue
      }
      func column(_ offset: Int) -> [Float] {
        stride(from: offset, to: integers.count, by: 3).map { Float(integers[$0]) }
      }
      do {
        trees.append(
          try FittedTree(
            feature: column(0), threshold: Array(floats[..<nodes]), left: column(1),
            right: column(2), value: Array(floats[nodes...]), columns: columns, model: name))
      } catch {
        throw ClassicalError(name, "tree \(index) from rank \(root): \(error.message)")
      }
    }
    return trees
  }
}

/// Grows a forest's trees, each part of the thread pool its own run of them.
private struct TreeFittingJob: ParallelJob {
  let settings: RandomForest.Settings
  let table: TreeTable
  let indices: UnsafePointer<Int>
  let trees: UnsafeMutablePointer<FittedTree>

  func run(_ range: Range<Int>) {
    let grower = TreeGrower(table: table)
    let rows = table.rows
    let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
    defer { weights.deallocate() }
    for position in range {
      var (treeSettings, generator) = settings.tree(indices[position], columns: table.columns)
      guard settings.bootstrap else {
        trees[position] = grower.grow(weights: nil, settings: treeSettings)
        continue
      }
      weights.update(repeating: 0, count: rows)
      for _ in 0..<rows {
        weights[Int(generator.next().multipliedFullWidth(by: UInt64(rows)).high)] += 1
      }
      trees[position] = grower.grow(weights: weights, settings: treeSettings)
    }
  }
}
