import Distributed
import TensorEngine

/// k-nearest-neighbours classification (scikit-learn's KNeighborsClassifier, brute force):
/// P(label = 1) is the share of landslide rows among the k training rows nearest to the
/// query by Minkowski distance (p = 1 or 2), equally or by 1/distance. Neighbours tied at
/// the k-th distance are taken by the lower training-row index, so results are exact and
/// reproducible (scikit-learn leaves that order to its partial sort).
///
/// With a communicator of more than one rank, `fit` keeps this rank's contiguous shard of
/// the training rows for the search; every rank predicts the same queries, finds its
/// shard's k best, and the ranks exchange and merge them exactly, so every rank gets the
/// result of one process.
public final class NearestNeighbours: Classifier {
  public enum Weights: String, Codable, Equatable, Sendable {
    /// Every neighbour counts the same.
    case uniform
    /// A neighbour counts 1/distance; if any neighbour is at distance 0, only those at
    /// distance 0 count, equally (scikit-learn's rule).
    case distance
  }

  public struct Settings: Codable, Equatable, Sendable {
    /// k: the paper's 100 (scikit-learn's default is 5).
    public var neighbours = 100
    /// Minkowski p: 1 (Manhattan) or 2 (Euclidean).
    public var p = 2
    public var weights = Weights.uniform

    public init(neighbours: Int = 100, p: Int = 2, weights: Weights = .uniform) {
      self.neighbours = neighbours
      self.p = p
      self.weights = weights
    }
  }

  public let name = "knn"
  public let settings: Settings
  private let communicator: Communicator?
  /// This process's shard of the training rows: part `index` of `count`.
  let shard: (index: Int, count: Int)
  /// The whole training table (shared with the caller's, not copied), for the exact
  /// distances and for `stored()`; the search runs over `search`'s rows of it.
  private var references: FeatureMatrix?
  private var labels: [Float] = []
  private var search: ReferenceShard?

  /// - Parameter communicator: the ranks that share the reference rows; nil (or one rank)
  ///   searches all of them here.
  public init(settings: Settings, communicator: Communicator? = nil) {
    self.settings = settings
    self.communicator = communicator
    shard = (communicator?.rank ?? 0, communicator?.size ?? 1)
  }

  /// Acts as shard `index` of `count` without exchanging candidates: `nearest` gives that
  /// shard's candidates, as a rank would (for tests of the merge).
  init(settings: Settings, shard index: Int, of count: Int) {
    precondition(0 <= index && index < count, "shard \(index) of \(count)")
    self.settings = settings
    communicator = nil
    shard = (index, count)
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    try Self.check(settings, model: name)
    guard settings.neighbours <= x.rows else {
      throw ClassicalError(
        name, "k = \(settings.neighbours) neighbours but the training table has \(x.rows) rows")
    }
    try checkFeatures(x, of: "training")
    let rows = (shard.index * x.rows / shard.count)..<((shard.index + 1) * x.rows / shard.count)
    search = ReferenceShard(x, rows: rows, p: settings.p)
    secondPasses = 0
    references = x
    labels = y
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    guard references != nil else { throw ClassicalError(name, "predict before fit") }
    let k = settings.neighbours
    // Queries go in chunks so that the candidates held and exchanged stay near 100 MB.
    let chunk = max(1, min(16_384, (1 << 22) / (k * shard.count)))
    var probabilities = [Float](repeating: 0, count: x.rows)
    for start in stride(from: 0, to: x.rows, by: chunk) {
      let rows = start..<min(start + chunk, x.rows)
      var candidates = try nearest(x, rows: rows)
      if let communicator, communicator.size > 1 {
        candidates = try exchange(candidates, over: communicator)
      }
      let part = Self.probabilities(candidates, weights: settings.weights, p: settings.p)
      probabilities.replaceSubrange(rows, with: part)
    }
    return probabilities
  }

  public func stored() throws(ClassicalError) -> StoredModel {
    guard let references else { throw ClassicalError(name, "stored before fit") }
    return StoredModel(
      kind: name, settings: settings,
      arrays: [
        .init(
          name: "references", shape: [references.rows, references.columns],
          values: references.values),
        .init(name: "labels", shape: [labels.count], values: labels),
      ])
  }

  /// Rebuilds a stored model: it holds the whole training table, sharded again over
  /// `communicator` when one is given.
  public convenience init(stored: StoredModel, communicator: Communicator? = nil)
    throws(ClassicalError)
  {
    self.init(settings: try stored.decodeSettings(Settings.self), communicator: communicator)
    let labels = try stored.array("labels")
    guard let table = stored.arrays.first(where: { $0.name == "references" }),
      table.shape.count == 2, table.shape[0] == labels.count
    else {
      throw ClassicalError(
        name, "stored model needs 'references' as rows × columns with one of 'labels' per row")
    }
    try fit(
      FeatureMatrix(rows: table.shape[0], columns: table.shape[1], values: table.values), labels)
  }

  // MARK: Search

  /// This shard's k best candidates for the queries `rows` of `x` (all rows by default).
  func nearest(_ x: FeatureMatrix, rows: Range<Int>? = nil) throws(ClassicalError)
    -> NeighbourCandidates
  {
    guard let references, let search else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == references.columns else {
      throw ClassicalError(
        name, "\(x.columns) feature columns; the model was fitted on \(references.columns)")
    }
    let rows = rows ?? 0..<x.rows
    try checkFeatures(x, of: "query", rows: rows)
    let k = settings.neighbours
    let threads = ThreadPool.shared.threadCount
    // Blocks of up to 256 queries, at least one per thread.
    let queryBlock = max(1, min(256, (rows.count + threads - 1) / threads))
    let blocks = (rows.count + queryBlock - 1) / queryBlock
    var distances = [Double](repeating: .infinity, count: rows.count * k)
    var indices = [Int](repeating: NeighbourCandidates.paddingIndex, count: rows.count * k)
    var neighbourLabels = [Float](repeating: 0, count: rows.count * k)
    // An empty shard (fewer training rows than ranks) has only padding to offer.
    guard !rows.isEmpty, !search.rows.isEmpty else {
      return NeighbourCandidates(
        neighbours: k, distances: distances, indices: indices, labels: neighbourLabels)
    }
    var passes = [Int](repeating: 0, count: blocks)
    x.values.withUnsafeBufferPointer { queries in
      references.values.withUnsafeBufferPointer { table in
        labels.withUnsafeBufferPointer { labels in
          search.layout.withUnsafeBufferPointer { layout in
            distances.withUnsafeMutableBufferPointer { distances in
              indices.withUnsafeMutableBufferPointer { indices in
                neighbourLabels.withUnsafeMutableBufferPointer { neighbourLabels in
                  passes.withUnsafeMutableBufferPointer { passes in
                    let job = NeighbourSearch(
                      queries: queries.baseAddress! + rows.lowerBound * x.columns,
                      queryCount: rows.count, queryBlock: queryBlock,
                      references: table.baseAddress!, labels: labels.baseAddress!,
                      shard: layout.baseAddress!, shardStart: search.rows.lowerBound,
                      shardCount: search.rows.count, columns: x.columns, p: settings.p,
                      largestSquaredNorm: search.largestSquaredNorm, neighbours: k,
                      distances: distances.baseAddress!, indices: indices.baseAddress!,
                      neighbourLabels: neighbourLabels.baseAddress!,
                      secondPasses: passes.baseAddress!)
                    ThreadPool.shared.parallelFor(
                      blocks, work: rows.count * search.rows.count * x.columns, job)
                  }
                }
              }
            }
          }
        }
      }
    }
    secondPasses += passes.reduce(0, +)
    return NeighbourCandidates(
      neighbours: k, distances: distances, indices: indices, labels: neighbourLabels)
  }

  /// Queries since `fit` whose Float32 scores could not settle their neighbours, settled
  /// by a second pass over the shard (ties and thin margins; for tests and benchmarks).
  private(set) var secondPasses = 0

  /// Every rank's candidates for the same queries, merged.
  private func exchange(_ local: NeighbourCandidates, over communicator: Communicator)
    throws(ClassicalError) -> NeighbourCandidates
  {
    let count = local.distances.count
    var packed = [Double](repeating: 0, count: 3 * count)
    for slot in 0..<count {
      packed[3 * slot] = local.distances[slot]
      packed[3 * slot + 1] = Double(local.indices[slot])
      packed[3 * slot + 2] = Double(local.labels[slot])
    }
    let all: [Double]
    do { all = try communicator.allGather(packed) } catch {
      throw ClassicalError(name, "exchanging neighbours: \(error)")
    }
    let sets = (0..<communicator.size).map { rank in
      let base = rank * 3 * count
      return NeighbourCandidates(
        neighbours: local.neighbours,
        distances: (0..<count).map { all[base + 3 * $0] },
        indices: (0..<count).map { Int(all[base + 3 * $0 + 1]) },
        labels: (0..<count).map { Float(all[base + 3 * $0 + 2]) })
    }
    return NeighbourCandidates.merge(sets)
  }

  /// P(label = 1) per query from its k neighbours (scikit-learn's `predict_proba`).
  static func probabilities(_ candidates: NeighbourCandidates, weights: Weights, p: Int)
    -> [Float]
  {
    let k = candidates.neighbours
    return (0..<candidates.queries).map { query in
      let slots = (query * k)..<((query + 1) * k)
      var positive = 0.0
      var total = 0.0
      let atZero = slots.contains { candidates.distances[$0] == 0 }
      for slot in slots {
        let distance = candidates.distances[slot]
        let weight: Double
        switch weights {
        case .uniform: weight = 1
        case .distance where atZero: weight = distance == 0 ? 1 : 0
        case .distance: weight = 1 / (p == 2 ? distance.squareRoot() : distance)
        }
        total += weight
        if candidates.labels[slot] == 1 { positive += weight }
      }
      return Float(positive / total)
    }
  }

  // MARK: Checks

  static func check(_ settings: Settings, model: String) throws(ClassicalError) {
    guard settings.neighbours >= 1 else {
      throw ClassicalError(model, "k = \(settings.neighbours) neighbours; expected at least 1")
    }
    guard settings.p == 1 || settings.p == 2 else {
      throw ClassicalError(
        model, "Minkowski p = \(settings.p); expected 1 (Manhattan) or 2 (Euclidean)")
    }
  }

  /// Features must be finite and small enough that Float32 squared norms cannot overflow.
  private func checkFeatures(_ x: FeatureMatrix, of table: String, rows: Range<Int>? = nil)
    throws(ClassicalError)
  {
    let rows = rows ?? 0..<x.rows
    let limit: Float = 1e18
    for position in (rows.lowerBound * x.columns)..<(rows.upperBound * x.columns) {
      let value = x.values[position]
      guard abs(value) <= limit else {
        throw ClassicalError(
          name,
          "\(table) row \(position / x.columns), column \(position % x.columns) is \(value); "
            + "expected a finite value of magnitude at most 1e18 (scale the table)")
      }
    }
  }
}
