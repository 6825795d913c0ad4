import Configuration
import Foundation
import GeoData
import TensorEngine

/// The training and test tables of one inventory, as the config asks: for a raster
/// inventory the seed's samplings (the paper trains on Po2 and tests on Po1, which
/// overlap; `split: blocks` keeps them apart by spatial blocks), for points their own rows
/// split at random (stratified) or by blocks.
public struct InventoryTables: Sendable {
  public var inventory: String
  public var train: PixelTable
  public var test: PixelTable
  /// What the tables are, for reports: "balanced (Po2) → random (Po1)".
  public var protocolDescription: String
}

extension ClassicalStudy {
  public func tables(
    for inventory: Inventory, survey: Survey, config: ClassicalTablesConfig
  ) throws(ClassicalError) -> InventoryTables {
    let seed = UInt64(config.seed)
    let blocks =
      config.split == .blocks
      ? try SpatialBlockSplit(
        blockSize: config.blockPixels, testShare: config.testShare, seed: seed) : nil
    switch inventory {
    case .raster(let name, let path), .polygons(let name, let path, _):
      let labels = try labels(inventory, survey: survey)
      func rows(_ kind: ClassicalTablesConfig.Sampling, stream: UInt64) throws(ClassicalError)
        -> PixelSample
      {
        let sampling: PixelSampling =
          switch kind {
          case .all: .allValid
          case .random: .random(count: config.randomRows, seed: seed &+ stream)
          case .balanced: .balanced(minimumDistance: config.minDistance, seed: seed &+ stream)
          case .centres: .centres(seed: seed &+ stream)
          }
        return try sampling.sample(labels, width: grid.width, height: grid.height, inventory: path)
      }
      var train = try rows(config.train, stream: 0)
      var test = try rows(config.test, stream: 1)
      if let blocks {
        let trainSide = Set(blocks.split(train.indices, width: grid.width).train)
        let testSide = Set(blocks.split(test.indices, width: grid.width).test)
        train = PixelSample(keeping: train, where: trainSide.contains)
        test = PixelSample(keeping: test, where: testSide.contains)
      }
      let description =
        "\(config.train.rawValue) → \(config.test.rawValue)"
        + (blocks == nil
          ? " (the paper's protocol)" : " in separate blocks of \(config.blockPixels) pixels")
      return InventoryTables(
        inventory: name,
        train: try checked(
          table(pixels: train.indices, labels: train.labels, survey: survey), name, "training"),
        test: try checked(
          table(pixels: test.indices, labels: test.labels, survey: survey), name, "test"),
        protocolDescription: description)
    case .points(let name, let path, let x, let y, let label):
      let points = try points(path: path, x: x, y: y, label: label, survey: survey)
      var trainRows: [Int] = []
      var testRows: [Int] = []
      if let blocks {
        let order = points.pixels.indices.sorted { points.pixels[$0] < points.pixels[$1] }
        let sides = blocks.split(order.map { points.pixels[$0] }, width: grid.width)
        let (trainPixels, testPixels) = (Set(sides.train), Set(sides.test))
        trainRows = points.pixels.indices.filter { trainPixels.contains(points.pixels[$0]) }
        testRows = points.pixels.indices.filter { testPixels.contains(points.pixels[$0]) }
      } else {
        let held = Self.stratifiedTestRows(points.labels, share: config.testShare, seed: seed)
        trainRows = points.labels.indices.filter { !held.contains($0) }
        testRows = points.labels.indices.filter { held.contains($0) }
      }
      let all = try table(pixels: points.pixels, labels: points.labels, survey: survey)
      return InventoryTables(
        inventory: name, train: try checked(all.selecting(rows: trainRows), name, "training"),
        test: try checked(all.selecting(rows: testRows), name, "test"),
        protocolDescription: blocks == nil
          ? "points, \(Int(config.testShare * 100)) % held out for test (stratified)"
          : "points in separate blocks of \(config.blockPixels) pixels")
    }
  }

  /// `share` of each class's rows, drawn from `seed`: the test side of a stratified split.
  static func stratifiedTestRows(_ labels: [Float], share: Double, seed: UInt64) -> Set<Int> {
    var random = RandomGenerator(seed: seed)
    var held = Set<Int>()
    for rows in shuffledClassRows(labels, using: &random) {
      held.formUnion(rows.prefix(Int((share * Double(rows.count)).rounded())))
    }
    return held
  }

  private func checked(_ table: PixelTable, _ inventory: String, _ side: String)
    throws(ClassicalError)
    -> PixelTable
  {
    let positives = table.positives
    guard positives > 0, positives < table.rows else {
      throw ClassicalError(
        inventory,
        "the \(side) table has \(table.rows) rows, \(positives) of them landslides; it needs "
          + "both classes (more rows, a smaller min_distance, or another split)")
    }
    return table
  }
}

extension PixelSample {
  init(keeping sample: PixelSample, where keep: (Int) -> Bool) {
    let rows = sample.indices.indices.filter { keep(sample.indices[$0]) }
    self.init(indices: rows.map { sample.indices[$0] }, labels: rows.map { sample.labels[$0] })
  }
}
