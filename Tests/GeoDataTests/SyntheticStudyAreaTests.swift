import Foundation
import TestSupport
import Testing

@testable import GeoData

@Suite struct SyntheticStudyAreaTests {
  let specification = SyntheticStudyArea.Specification(
    seed: 5, widthKm: 12, heightKm: 10, periods: 8)

  static func files(in directory: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: directory.path)!
    while let name = enumerator.nextObject() as? String {
      let url = directory.appendingPathComponent(name)
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
        !isDirectory.boolValue
      {
        result[name] = try Data(contentsOf: url)
      }
    }
    return result
  }

  @Test func sameSeedSameBytesOtherSeedOtherLandscape() throws {
    let (first, second, third) = (
      try TestPaths.temporaryDirectory("a"), try TestPaths.temporaryDirectory("b"),
      try TestPaths.temporaryDirectory("c")
    )
    defer { for url in [first, second, third] { try? FileManager.default.removeItem(at: url) } }
    try SyntheticStudyArea.generate(specification, into: first.path)
    try SyntheticStudyArea.generate(specification, into: second.path)
    var other = specification
    other.seed = 6
    try SyntheticStudyArea.generate(other, into: third.path)
    let (a, b, c) = (
      try Self.files(in: first), try Self.files(in: second), try Self.files(in: third)
    )
    #expect(a.count == 16, "\(a.keys.sorted())")
    #expect(a == b)
    #expect(a["predictors/elevation.tif"] != c["predictors/elevation.tif"])
  }

  @Test func gridsBandsAndManifest() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let manifest = try SyntheticStudyArea.generate(specification, into: directory.path)
    #expect(manifest.monsoons == [0, 1, 1, 2, 2, 3, 3, 4])
    let predictors = directory.appendingPathComponent("predictors")
    let paths = (manifest.staticPredictors + manifest.timeVaryingPredictors).map {
      predictors.appendingPathComponent("\($0).tif").path
    }
    let bandCounts = Dictionary(
      uniqueKeysWithValues: manifest.timeVaryingPredictors.map {
        (predictors.appendingPathComponent("\($0).tif").path, 8)
      })
    let stack = try RasterStack(paths: paths, bandCounts: bandCounts)
    #expect(stack.grid.width == 12 * 32 && stack.grid.height == 10 * 32)
    #expect(stack.grid.geoTransform.pixelWidth == 31.25)
    #expect(stack.grid.epsg == 32645)
    let cells = try RasterStack(
      paths: ["inventory.tif", "truth_probability.tif", "truth_density.tif"].map {
        directory.appendingPathComponent($0).path
      })
    #expect(
      cells.grid.width == 12 && cells.grid.height == 10
        && cells.grid.geoTransform.pixelWidth == 1000)
    #expect(cells.rasters.allSatisfy { $0.bandCount == 8 })
    // The 1 km grid covers the pixel grid exactly.
    #expect(cells.grid.geoTransform.originX == stack.grid.geoTransform.originX)
    #expect(cells.grid.geoTransform.originY == stack.grid.geoTransform.originY)
  }

  /// New landslides (increases of the cumulative inventory) follow the true probability:
  /// the rate matches its mean and it ranks failing cells above stable ones.
  @Test func inventoryFollowsTheTrueProbability() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var larger = specification
    (larger.widthKm, larger.heightKm) = (24, 24)
    try SyntheticStudyArea.generate(larger, into: directory.path)
    let inventory = try RasterDataset(path: directory.appendingPathComponent("inventory.tif").path)
    let truth = try RasterDataset(
      path: directory.appendingPathComponent("truth_probability.tif").path)
    var previous = [Float](repeating: 0, count: 24 * 24)
    var pairs: [(probability: Float, failed: Bool)] = []
    for period in 0..<8 {
      let current = try inventory.read(band: period).values
      let probability = try truth.read(band: period).values
      for cell in 0..<current.count {
        pairs.append((probability[cell], current[cell] > previous[cell]))
        #expect(current[cell] >= 0 && current[cell] <= 100)
      }
      previous = current
    }
    let rate = Double(pairs.filter(\.failed).count) / Double(pairs.count)
    let meanProbability = pairs.reduce(0.0) { $0 + Double($1.probability) } / Double(pairs.count)
    #expect(abs(meanProbability - 0.12) < 0.005)
    #expect(
      abs(rate - meanProbability) < 0.03, "rate \(rate) vs mean probability \(meanProbability)")
    // AUC of the truth: P(probability of a failing cell > that of a stable one).
    let positives = pairs.filter(\.failed).map(\.probability)
    let negatives = pairs.filter { !$0.failed }.map(\.probability)
    var wins = 0.0
    for p in positives { for n in negatives { wins += p > n ? 1 : (p == n ? 0.5 : 0) } }
    let auc = wins / Double(positives.count * negatives.count)
    #expect(auc > 0.75, "oracle AUC \(auc)")
  }

  /// Strips and tiles of 96 pixels (4 × 4 tiles, rivers crossing their borders) give the
  /// values of one strip and one tile: every predictor band equal bit for bit, and the
  /// 1 km files, made from cell means gathered window by window, equal byte for byte.
  @Test func stripsAndTilesDoNotChangeTheValues() throws {
    let (whole, tiled) = (
      try TestPaths.temporaryDirectory("whole"), try TestPaths.temporaryDirectory("tiled")
    )
    defer { for url in [whole, tiled] { try? FileManager.default.removeItem(at: url) } }
    let manifest = try SyntheticStudyArea.generate(specification, into: whole.path)
    try SyntheticStudyArea.generate(specification, into: tiled.path, tileSize: 96)
    #expect(
      try studyDifferences(
        whole, tiled, predictors: manifest.staticPredictors + manifest.timeVaryingPredictors,
        files: ["inventory.tif", "truth_probability.tif", "truth_density.tif", "study.json"]
      ) == [])
  }
}
