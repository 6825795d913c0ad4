import Foundation
import TestSupport
import Testing

@testable import GeoData

@Suite struct PatchIndexTests {
  /// 12 × 10 cells, patches of 4: normal at rows 0, 4 × columns 0, 4, 8; shifted by two
  /// cells at rows 2, 6 × columns 2, 6 (row 6 + 4 = 10 still fits; column 10 does not).
  @Test func normalAndShiftedPlacement() {
    let patches = PatchIndex.candidates(
      cellsWide: 12, cellsHigh: 10, patchCells: 4, shiftedGrid: true)
    let normal = patches.filter { !$0.shifted }.map { [$0.row, $0.column] }
    let shifted = patches.filter(\.shifted).map { [$0.row, $0.column] }
    #expect(normal == [[0, 0], [0, 4], [0, 8], [4, 0], [4, 4], [4, 8]])
    #expect(shifted == [[2, 2], [2, 6], [6, 2], [6, 6]])
    #expect(
      PatchIndex.candidates(cellsWide: 12, cellsHigh: 10, patchCells: 4, shiftedGrid: false).count
        == 6)
  }

  /// With blocks, no two patches on different sides share a cell.
  @Test func sidesNeverOverlap() {
    let candidates = PatchIndex.candidates(
      cellsWide: 64, cellsHigh: 48, patchCells: 4, shiftedGrid: true)
    let index = PatchIndex(
      patches: candidates, patchCells: 4, blockCells: 8, validationFraction: 0.2, testFraction: 0.2,
      seed: 3,
      random: false, isValid: { _ in true })
    #expect(Set(index.sides).count == 3)
    #expect(index.patches.count + index.droppedAtSplitBoundaries == candidates.count)
    var owner: [Int: SplitSide] = [:]
    for (patch, side) in zip(index.patches, index.sides) {
      for r in patch.row..<(patch.row + 4) {
        for c in patch.column..<(patch.column + 4) {
          if let previous = owner[r * 64 + c] { #expect(previous == side, "cell \(r), \(c)") }
          owner[r * 64 + c] = side
        }
      }
    }
    let random = PatchIndex(
      patches: candidates, patchCells: 4, blockCells: 8, validationFraction: 0.2, testFraction: 0.2,
      seed: 3,
      random: true, isValid: { $0.column != 0 })
    #expect(random.droppedAtSplitBoundaries == 0)
    #expect(random.droppedForNoData == candidates.filter { $0.column == 0 }.count)
  }
}

@Suite struct StudyPreparationTests {
  /// A hand-made inventory on the synthetic predictors: labels are the increases.
  @Test func shardsHoldDifferencedLabelsAndNormalisedInputs() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let study = directory.appendingPathComponent("study").path
    let shards = directory.appendingPathComponent("shards").path
    try SyntheticStudyArea.generate(
      .init(seed: 2, widthKm: 8, heightKm: 4, periods: 3), into: study)
    // Replace the inventory: cell (1, 2) grows 0 → 5 → 3 (re-vegetation) → 10.
    let inventoryPath = (study as NSString).appendingPathComponent("inventory.tif")
    let grid = try RasterDataset(path: inventoryPath).grid
    var bands: [[Float]] = Array(repeating: [Float](repeating: 0, count: 32), count: 3)
    (bands[0][10], bands[1][10], bands[2][10]) = (5, 3, 10)
    try writeGeoTIFF(
      path: inventoryPath, grid: grid,
      bands: bands.map { RasterBand(description: "inventory", values: $0) })

    var options = StudyPreparation.Options()
    options.shiftedGrid = false
    let prepared = try StudyPreparation.prepare(study: study, into: shards, options: options)
    #expect(prepared.shards.flatMap(\.patches).count == 2)  // 8 × 4 cells: two normal patches
    let set = try ShardSet(directory: shards)
    let side = set.samples.keys.first!
    let samples = set.samples[side]!
    let input = UnsafeMutablePointer<Float>.allocate(capacity: set.inputShape.count)
    let labels = UnsafeMutablePointer<Float>.allocate(capacity: 48)
    defer {
      input.deallocate()
      labels.deallocate()
    }
    // The first patch (columns 0–3) holds cell (1, 2) at label position 1·4 + 2 = 6.
    for (number, sample) in samples.enumerated()
    where prepared.shards[sample.shard].patches[sample.patch].column == 0 {
      try set.assemble(side, number, input: input, labels: labels)
      let expected: Float = [5, 0, 7][sample.period]
      #expect(labels[6 * 3 + 2] == expected, "period \(sample.period)")
      #expect(labels[6 * 3] == (expected > 0 ? 1 : 0))
      #expect(labels[6 * 3 + 1] == (expected > 0 ? 0 : 1))
      // Inputs are min–max normalised over the training patches.
      for index in 0..<set.inputShape.count {
        #expect(input[index] >= -1e-6 && input[index] <= 1 + 1e-6)
      }
    }
    // Elevation at pixel (0, 0) of the first patch, normalised by hand.
    let elevation = try RasterDataset(
      path: (study as NSString).appendingPathComponent("predictors/elevation.tif")
    )
    .read(band: 0, window: RasterWindow(x: 0, y: 0, width: 1, height: 1)).values[0]
    let first = samples.firstIndex { prepared.shards[$0.shard].patches[$0.patch].column == 0 }!
    try set.assemble(side, first, input: input, labels: labels)
    let normalised = (elevation - prepared.minimum[0]) / (prepared.maximum[0] - prepared.minimum[0])
    #expect(abs(input[0] - normalised) < 1e-6)
  }
}

@Suite struct PreparationErrorTests {
  @Test func anAreaWithoutTrainingPatchesIsAnError() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let study = directory.appendingPathComponent("study").path
    try SyntheticStudyArea.generate(
      .init(seed: 2, widthKm: 4, heightKm: 4, periods: 1), into: study)
    var options = StudyPreparation.Options()
    options.testFraction = 0.999  // every block goes to the test side
    options.validationFraction = 0
    let error = #expect(throws: RasterError.self) {
      try StudyPreparation.prepare(
        study: study, into: directory.appendingPathComponent("shards").path, options: options)
    }
    #expect(
      error?.message.hasPrefix("no training patches: 1 candidate patches") == true,
      "\(error?.message ?? "")")
  }

  @Test func aMissingManifestIsNamed() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let error = #expect(throws: RasterError.self) {
      try StudyPreparation.prepare(
        study: directory.path, into: directory.appendingPathComponent("out").path)
    }
    #expect(error?.path == directory.appendingPathComponent("study.json").path)
  }
}
