import TensorEngine
import Testing

@testable import Classical

/// Every pixel of a 60 × 45 grid (12 × 9 blocks of 5), in a shuffled order.
private let width = 60
private let height = 45
private let shuffledPixels: [Int] = {
  var generator = RandomGenerator(seed: 5)
  var pixels = Array(0..<(width * height))
  for i in stride(from: pixels.count - 1, to: 0, by: -1) {
    pixels.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
  }
  return pixels
}()

/// Chebyshev distance between two pixels' blocks, in blocks.
private func blockDistance(_ a: Int, _ b: Int, blockSize: Int) -> Int {
  max(
    abs(a / width / blockSize - b / width / blockSize),
    abs(a % width / blockSize - b % width / blockSize))
}

/// Whether `part` is `whole` with some elements left out, order kept.
private func isSubsequence(_ part: [Int], of whole: [Int]) -> Bool {
  var remaining = part[...]
  for value in whole where value == remaining.first { remaining = remaining.dropFirst() }
  return remaining.isEmpty
}

@Suite struct SpatialBlockSplitTests {
  /// For every pair of a training and a test pixel (brute force): their blocks are at
  /// least 2 apart. Both sides hold rows at these shares.
  @Test func noTestPixelLiesWithinABlockOfATrainingPixel() throws {
    for testShare in [0.1, 0.2, 0.3] {
      for seed: UInt64 in 1...4 {
        let split = try SpatialBlockSplit(blockSize: 5, testShare: testShare, seed: seed)
        let (train, test) = split.split(shuffledPixels, width: width)
        #expect(!train.isEmpty && !test.isEmpty, "share \(testShare), seed \(seed)")
        let close = train.reduce(0) { count, a in
          count + test.filter { blockDistance(a, $0, blockSize: 5) <= 1 }.count
        }
        #expect(close == 0, "training and test pixel pairs within a block")
      }
    }
  }

  /// Only the buffer is dropped: with every pixel given (so every block holds rows), a
  /// pixel is missing from both sides exactly when it is not a test pixel and lies within
  /// a block of one. Except in the last block row (pixel row 44 alone), which a test block
  /// drawn past the grid may drop too.
  @Test func onlyTheBufferAroundTestBlocksIsDropped() throws {
    let split = try SpatialBlockSplit(blockSize: 4, testShare: 0.15, seed: 3)
    let (train, test) = split.split(shuffledPixels, width: width)
    #expect(Set(train).isDisjoint(with: test))
    let kept = Set(train).union(test)
    let testSet = Set(test)
    let misplaced = shuffledPixels.filter { pixel in
      !testSet.contains(pixel) && pixel / width < 44
        && kept.contains(pixel) == test.contains { blockDistance(pixel, $0, blockSize: 4) <= 1 }
    }
    #expect(misplaced.isEmpty)
    // Whole blocks test together.
    let splitBlocks = test.filter { a in
      shuffledPixels.contains { blockDistance(a, $0, blockSize: 4) == 0 && !testSet.contains($0) }
    }
    #expect(splitBlocks.isEmpty)
  }

  @Test func rowsKeepTheirOrder() throws {
    let split = try SpatialBlockSplit(blockSize: 6, testShare: 0.25, seed: 8)
    let (train, test) = split.split(shuffledPixels, width: width)
    #expect(isSubsequence(train, of: shuffledPixels))
    #expect(isSubsequence(test, of: shuffledPixels))
  }

  @Test func theSeedDecidesTheBlocks() throws {
    let split = { (seed: UInt64) in
      try SpatialBlockSplit(blockSize: 5, testShare: 0.2, seed: seed)
        .split(shuffledPixels, width: width)
    }
    let reference = try split(11)
    let again = try split(11)
    #expect(again.train == reference.train && again.test == reference.test)
    let other = try split(12)
    #expect(other.train != reference.train || other.test != reference.test)
  }

  /// Splitting a subset (here every third pixel of the top half: its last block row is
  /// still buffered by test blocks below it) keeps the blocks and buffers of the whole: the
  /// Po2 and Po1 samplings may be split apart.
  @Test func aSubsetSplitsAsTheWholeDoes() throws {
    let split = try SpatialBlockSplit(blockSize: 5, testShare: 0.2, seed: 21)
    let whole = split.split(shuffledPixels, width: width)
    let subset = shuffledPixels.enumerated()
      .filter { $0.offset % 3 == 0 && $0.element < width * height / 2 }.map(\.element)
    let part = split.split(subset, width: width)
    #expect(part.train == subset.filter(Set(whole.train).contains))
    #expect(part.test == subset.filter(Set(whole.test).contains))
    #expect(split.split([], width: width) == ([], []))
  }

  @Test func badSettingsAreRefused() {
    #expect(throws: ClassicalError.self) {
      try SpatialBlockSplit(blockSize: 0, testShare: 0.2, seed: 1)
    }
    for share in [0, 1, -0.1, .nan] {
      #expect(throws: ClassicalError.self) {
        try SpatialBlockSplit(blockSize: 10, testShare: share, seed: 1)
      }
    }
  }
}
