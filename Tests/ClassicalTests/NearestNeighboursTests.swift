import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Classical

@Suite struct NearestNeighboursTests {
  typealias Settings = NearestNeighbours.Settings

  /// A reference table with deliberate ties: `distinct` rows of values on a grid of
  /// quarters, each repeated at random, and queries half of which repeat reference rows.
  struct Tables {
    var references: FeatureMatrix
    var labels: [Float]
    var queries: FeatureMatrix
  }

  static func tables(
    references rows: Int, distinct: Int, queries queryRows: Int, columns: Int, seed: UInt64,
    grid: Bool = true
  ) -> Tables {
    var random = RandomGenerator(seed: seed)
    let value = { (random: inout RandomGenerator) -> Float in
      grid ? Float(Int(random.next() % 9)) / 4 - 1 : random.nextUniform()
    }
    let patterns = (0..<(distinct * columns)).map { _ in value(&random) }
    var references: [Float] = []
    for _ in 0..<rows {
      let pattern = Int(random.next() % UInt64(distinct))
      references += patterns[(pattern * columns)..<((pattern + 1) * columns)]
    }
    var labels = (0..<rows).map { _ in Float(random.next() % 2) }
    labels[0] = 0
    labels[1] = 1
    var queries: [Float] = []
    for query in 0..<queryRows {
      if query % 2 == 0 {
        let row = Int(random.next() % UInt64(rows))
        queries += references[(row * columns)..<((row + 1) * columns)]
      } else {
        queries += (0..<columns).map { _ in value(&random) }
      }
    }
    return Tables(
      references: FeatureMatrix(rows: rows, columns: columns, values: references), labels: labels,
      queries: FeatureMatrix(rows: queryRows, columns: columns, values: queries))
  }

  /// Every distance in Double, sorted by (distance, index): the k first of each query.
  static func bruteForce(_ tables: Tables, k: Int, p: Int) -> [[(distance: Double, index: Int)]] {
    let columns = tables.references.columns
    let (queries, references) = (tables.queries.values, tables.references.values)
    return (0..<tables.queries.rows).map { query in
      let all = (0..<tables.references.rows).map { index in
        var distance = 0.0
        for column in 0..<columns {
          let difference =
            Double(queries[query * columns + column]) - Double(references[index * columns + column])
          distance += p == 2 ? difference * difference : abs(difference)
        }
        return (distance: distance, index: index)
      }
      let sorted = all.sorted {
        $0.distance < $1.distance || ($0.distance == $1.distance && $0.index < $1.index)
      }
      return Array(sorted.prefix(k))
    }
  }

  /// scikit-learn's predict_proba from the neighbours.
  static func probability(
    _ neighbours: [(distance: Double, index: Int)], labels: [Float],
    weights: NearestNeighbours.Weights,
    p: Int
  ) -> Double {
    let weight: ((distance: Double, index: Int)) -> Double
    if weights == .uniform {
      weight = { _ in 1 }
    } else if neighbours.contains(where: { $0.distance == 0 }) {
      weight = { $0.distance == 0 ? 1 : 0 }
    } else {
      weight = { 1 / (p == 2 ? $0.distance.squareRoot() : $0.distance) }
    }
    let total = neighbours.reduce(0) { $0 + weight($1) }
    let positive = neighbours.reduce(0) { $0 + (labels[$1.index] == 1 ? weight($1) : 0) }
    return positive / total
  }

  /// The model's neighbours and probabilities equal the brute force's exactly, for each k
  /// and weighting; returns how many queries each k needed a second pass for.
  @discardableResult
  static func expectMatchesBruteForce(
    _ tables: Tables, ks: [Int], p: Int, weights: [NearestNeighbours.Weights]
  ) throws -> [Int] {
    let nearest = bruteForce(tables, k: ks.max()!, p: p)
    var secondPasses: [Int] = []
    for k in ks {
      for weighting in weights {
        let model = NearestNeighbours(settings: Settings(neighbours: k, p: p, weights: weighting))
        try model.fit(tables.references, tables.labels)
        let found = try model.nearest(tables.queries)
        if weighting == weights[0] { secondPasses.append(model.secondPasses) }
        let probabilities = try model.predictProbability(tables.queries)
        for query in 0..<tables.queries.rows {
          let expected = nearest[query].prefix(k)
          let slots = (query * k)..<((query + 1) * k)
          #expect(Array(found.indices[slots]) == expected.map(\.index), "k \(k), query \(query)")
          #expect(Array(found.distances[slots]) == expected.map(\.distance))
          #expect(Array(found.labels[slots]) == expected.map { tables.labels[$0.index] })
          let probability = probability(
            Array(expected), labels: tables.labels, weights: weighting, p: p)
          #expect(abs(Double(probabilities[query]) - probability) < 1e-6, "query \(query)")
        }
      }
    }
    return secondPasses
  }

  @Test(arguments: [1, 2])
  func smallTablesWithTiesMatchBruteForce(p: Int) throws {
    let tables = Self.tables(references: 60, distinct: 20, queries: 40, columns: 5, seed: 7)
    try Self.expectMatchesBruteForce(tables, ks: [1, 5, 60], p: p, weights: [.uniform, .distance])
  }

  /// Several blocks of queries and references, many rows tied at the k-th distance: the
  /// Float32 preselection cannot settle those queries, and the second pass must.
  @Test(arguments: [1, 2])
  func blockedSearchWithTiesMatchesBruteForce(p: Int) throws {
    let tables = Self.tables(references: 2_500, distinct: 150, queries: 200, columns: 8, seed: 11)
    let secondPasses = try Self.expectMatchesBruteForce(
      tables, ks: [5, 100], p: p, weights: [.uniform, .distance])
    #expect(secondPasses.allSatisfy { $0 > 0 })
  }

  /// Continuous features: the Float32 preselection settles almost every query itself.
  @Test(arguments: [1, 2])
  func continuousFeaturesMatchBruteForceWithFewRescans(p: Int) throws {
    let tables = Self.tables(
      references: 2_500, distinct: 2_500, queries: 120, columns: 21, seed: 5, grid: false)
    let secondPasses = try Self.expectMatchesBruteForce(
      tables, ks: [100], p: p, weights: [.uniform])
    #expect(secondPasses[0] < 12)
  }

  /// Shards' candidates merged equal one search over all references, exactly; with three
  /// shards of fewer than k rows, their padding is merged away.
  @Test(arguments: [(2_500, 2, 100), (10, 3, 5)])
  func mergedShardsEqualOneProcess(references: Int, shards: Int, k: Int) throws {
    let tables = Self.tables(
      references: references, distinct: references / 2, queries: 120, columns: 6, seed: 3)
    for p in [1, 2] {
      let settings = Settings(neighbours: k, p: p, weights: .distance)
      let whole = NearestNeighbours(settings: settings)
      try whole.fit(tables.references, tables.labels)
      var sets: [NeighbourCandidates] = []
      for shard in 0..<shards {
        let model = NearestNeighbours(settings: settings, shard: shard, of: shards)
        try model.fit(tables.references, tables.labels)
        sets.append(try model.nearest(tables.queries))
      }
      let merged = NeighbourCandidates.merge(sets)
      #expect(merged == (try whole.nearest(tables.queries)))
      #expect(
        NearestNeighbours.probabilities(merged, weights: .distance, p: p)
          == (try whole.predictProbability(tables.queries)))
    }
  }

  /// The query blocks differ too: 256 + 44 queries on one thread, 150 + 150 on two.
  @Test func oneAndTwoThreadsGiveTheSameOutput() throws {
    let tables = Self.tables(references: 2_500, distinct: 400, queries: 300, columns: 7, seed: 9)
    let original = ThreadPool.shared.threadCount
    defer { ThreadPool.shared.threadCount = original }
    for p in [1, 2] {
      var outputs: [(NeighbourCandidates, [Float])] = []
      for threads in [1, 2] {
        ThreadPool.shared.threadCount = threads
        let model = NearestNeighbours(settings: Settings(neighbours: 50, p: p))
        try model.fit(tables.references, tables.labels)
        outputs.append(
          (try model.nearest(tables.queries), try model.predictProbability(tables.queries)))
      }
      #expect(outputs[0].0 == outputs[1].0)
      #expect(outputs[0].1 == outputs[1].1)
    }
  }

  @Test func aStoredModelPredictsTheSameAfterItsFile() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tables = Self.tables(references: 300, distinct: 100, queries: 50, columns: 4, seed: 2)
    let model = NearestNeighbours(settings: Settings(neighbours: 7, p: 1, weights: .distance))
    try model.fit(tables.references, tables.labels)
    let path = directory.appendingPathComponent("knn.safetensors").path
    try model.stored().write(to: path)
    let rebuilt = try NearestNeighbours(stored: StoredModel.read(path).model)
    #expect(rebuilt.settings == model.settings)
    #expect(
      try rebuilt.predictProbability(tables.queries) == model.predictProbability(tables.queries))
  }

  @Test func badSettingsAndTablesAreClearErrors() throws {
    let tables = Self.tables(references: 20, distinct: 10, queries: 3, columns: 3, seed: 1)
    for settings in [Settings(p: 3), Settings(neighbours: 0), Settings(neighbours: 21)] {
      let error = #expect(throws: ClassicalError.self) {
        try NearestNeighbours(settings: settings).fit(tables.references, tables.labels)
      }
      #expect(error?.subject == "knn")
    }
    let error = #expect(throws: ClassicalError.self) {
      try NearestNeighbours(settings: Settings(p: 3)).fit(tables.references, tables.labels)
    }
    #expect(error?.message.contains("p = 3") == true)
    let model = NearestNeighbours(settings: Settings(neighbours: 5))
    #expect(throws: ClassicalError.self) { try model.predictProbability(tables.queries) }
    try model.fit(tables.references, tables.labels)
    #expect(throws: ClassicalError.self) {
      try model.predictProbability(FeatureMatrix(rows: 1, columns: 2, values: [0, 0]))
    }
    #expect(throws: ClassicalError.self) {
      try model.predictProbability(FeatureMatrix(rows: 1, columns: 3, values: [0, .nan, 0]))
    }
  }
}
