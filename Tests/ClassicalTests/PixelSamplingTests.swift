import TensorEngine
import Testing

@testable import Classical

/// A 20 × 15 inventory with a nodata corner (rows 0–2, columns 15–19: 15 pixels) and three
/// landslides: a 3 × 4 rectangle (rows 2–4, columns 2–5), a chain of 4 pixels touching only
/// diagonally but for its last step ((8,10), (9,11), (10,12), (10,13)) and a single pixel
/// (13, 2). 285 valid pixels, 17 of them landslide.
private let width = 20
private let height = 15
private let inventory: [Float] = {
  var labels = [Float](repeating: 0, count: width * height)
  for row in 0...2 { for column in 15...19 { labels[row * width + column] = .nan } }
  for row in 2...4 { for column in 2...5 { labels[row * width + column] = 1 } }
  for (row, column) in [(8, 10), (9, 11), (10, 12), (10, 13), (13, 2)] {
    labels[row * width + column] = 1
  }
  return labels
}()

/// The rectangle's centroid (3, 3.5) ties (3,3) and (3,4): the lower index, 63. The chain's
/// (9.25, 11.5) is nearest (9,11) = 191; the single pixel is 262.
private let centreIndices = [63, 191, 262]

private func pixels(where keep: (Float) -> Bool, in labels: [Float]) -> [Int] {
  labels.indices.filter { keep(labels[$0]) }
}

/// The landslide pixels of a sample.
private func landslideRows(_ sample: PixelSample) -> [Int] {
  zip(sample.indices, sample.labels).filter { $0.1 == 1 }.map(\.0)
}

/// Checks shared by every sampling: distinct valid pixels, ascending, labels read from the
/// inventory.
private func expectWellFormed(_ sample: PixelSample, _ labels: [Float]) {
  #expect(zip(sample.indices, sample.indices.dropFirst()).allSatisfy { $0 < $1 })
  #expect(sample.indices.allSatisfy { !labels[$0].isNaN })
  #expect(sample.labels == sample.indices.map { labels[$0] })
}

private func squaredDistance(_ a: Int, _ b: Int, width: Int) -> Int {
  let dy = a / width - b / width
  let dx = a % width - b % width
  return dx * dx + dy * dy
}

/// 8-connected groups of label-1 pixels by breadth-first search, each ascending, in the
/// order of their first pixel.
func bruteForceComponents(_ labels: [Float], width: Int, height: Int) -> [[Int]] {
  var seen = [Bool](repeating: false, count: labels.count)
  var components: [[Int]] = []
  for start in labels.indices where labels[start] == 1 && !seen[start] {
    var queue = [start]
    seen[start] = true
    var head = 0
    while head < queue.count {
      let pixel = queue[head]
      head += 1
      for dy in -1...1 {
        for dx in -1...1 {
          let row = pixel / width + dy
          let column = pixel % width + dx
          guard row >= 0, row < height, column >= 0, column < width else { continue }
          let neighbour = row * width + column
          if labels[neighbour] == 1 && !seen[neighbour] {
            seen[neighbour] = true
            queue.append(neighbour)
          }
        }
      }
    }
    components.append(queue.sorted())
  }
  return components
}

/// The pixel nearest the centroid, comparing n²·distance² exactly; ties: lowest index.
func bruteForceCentre(_ pixels: [Int], width: Int) -> Int {
  let n = pixels.count
  let rowSum = pixels.reduce(0) { $0 + $1 / width }
  let columnSum = pixels.reduce(0) { $0 + $1 % width }
  func distance(_ pixel: Int) -> Int {
    let dy = n * (pixel / width) - rowSum
    let dx = n * (pixel % width) - columnSum
    return dx * dx + dy * dy
  }
  return pixels.min { (distance($0), $0) < (distance($1), $1) }!
}

@Suite struct PixelSamplingTests {
  @Test func allValidTakesEveryValidPixel() throws {
    let sample = try PixelSampling.allValid.sample(
      inventory, width: width, height: height, inventory: "test")
    #expect(sample.indices == pixels(where: { !$0.isNaN }, in: inventory))
    #expect(sample.indices.count == 285)
    #expect(landslideRows(sample).count == 17)
    expectWellFormed(sample, inventory)
  }

  @Test func randomDrawsDistinctValidPixelsBySeed() throws {
    let draw = { (count: Int, seed: UInt64) in
      try PixelSampling.random(count: count, seed: seed).sample(
        inventory, width: width, height: height, inventory: "test")
    }
    let sample = try draw(50, 1)
    #expect(sample.indices.count == 50)
    expectWellFormed(sample, inventory)
    #expect(try draw(50, 1) == sample)
    #expect(try draw(50, 2) != sample)
    // Every valid pixel once: the whole population.
    #expect(try draw(285, 3).indices == pixels(where: { !$0.isNaN }, in: inventory))
  }

  /// Floyd's draw is uniform: over many seeds every valid pixel is chosen about
  /// count / valid of the time, and nodata never.
  @Test func randomChoosesEveryValidPixelAlike() throws {
    var chosen = [Int](repeating: 0, count: inventory.count)
    let draws = 2000
    for seed in 0..<UInt64(draws) {
      let sample = try PixelSampling.random(count: 57, seed: seed).sample(
        inventory, width: width, height: height, inventory: "test")
      for index in sample.indices { chosen[index] += 1 }
    }
    let expected = Double(draws) * 57 / 285  // 400; sd ≈ 18
    for index in inventory.indices {
      if inventory[index].isNaN {
        #expect(chosen[index] == 0)
      } else {
        #expect(abs(Double(chosen[index]) - expected) < 100, "pixel \(index)")
      }
    }
  }

  @Test func randomRefusesMorePixelsThanAreValid() {
    #expect {
      try PixelSampling.random(count: 286, seed: 1).sample(
        inventory, width: width, height: height, inventory: "hls.tif")
    } throws: { error in
      let error = error as? ClassicalError
      return error?.subject == "hls.tif" && error?.message.contains("only 285 valid") == true
    }
    #expect(throws: ClassicalError.self) {
      try PixelSampling.random(count: 0, seed: 1).sample(
        inventory, width: width, height: height, inventory: "test")
    }
  }

  /// Kept landslide pixels are pairwise at least the distance apart (all pairs), every
  /// landslide pixel left out is closer than it to a kept one (the greedy pass drops no
  /// more than it must), and non-landslide rows match landslide rows in number.
  @Test func balancedKeepsLandslidePixelsApart() throws {
    let landslides = pixels(where: { $0 == 1 }, in: inventory)
    for minimumDistance in [1.5, 2, 2.5, 3, 4.2] {
      for seed: UInt64 in 1...6 {
        let sample = try PixelSampling.balanced(minimumDistance: minimumDistance, seed: seed)
          .sample(inventory, width: width, height: height, inventory: "test")
        expectWellFormed(sample, inventory)
        let kept = landslideRows(sample)
        let limit = minimumDistance * minimumDistance
        for (i, a) in kept.enumerated() {
          for b in kept[(i + 1)...] {
            #expect(Double(squaredDistance(a, b, width: width)) >= limit, "\(a), \(b)")
          }
        }
        for pixel in landslides where !kept.contains(pixel) {
          #expect(kept.contains { Double(squaredDistance(pixel, $0, width: width)) < limit })
        }
        // The chain and the single pixel are more than 4.2 apart from the rest: each keeps one.
        #expect(kept.count >= 3 && kept.count < 17)
        #expect(sample.indices.count == 2 * kept.count)
      }
    }
  }

  @Test func balancedWithDistanceZeroOrOneKeepsEveryLandslidePixel() throws {
    for minimumDistance in [0.0, 1.0] {
      let sample = try PixelSampling.balanced(minimumDistance: minimumDistance, seed: 4).sample(
        inventory, width: width, height: height, inventory: "test")
      #expect(sample.indices.count == 34)
      #expect(landslideRows(sample) == pixels(where: { $0 == 1 }, in: inventory))
      expectWellFormed(sample, inventory)
    }
    // Every landslide pixel within 100 of every other: one is kept.
    let far = try PixelSampling.balanced(minimumDistance: 100, seed: 4).sample(
      inventory, width: width, height: height, inventory: "test")
    #expect(far.indices.count == 2 && far.labels.sorted() == [0, 1])
  }

  @Test func balancedIsDeterministicBySeed() throws {
    let draw = { (seed: UInt64) in
      try PixelSampling.balanced(minimumDistance: 2, seed: seed).sample(
        inventory, width: width, height: height, inventory: "test")
    }
    let reference = try draw(9)
    #expect(try draw(9) == reference)
    #expect(try (1...5).map(draw).contains { $0 != reference })
  }

  @Test func centresTakeOnePointPerLandslide() throws {
    let sample = try PixelSampling.centres(seed: 2).sample(
      inventory, width: width, height: height, inventory: "test")
    expectWellFormed(sample, inventory)
    #expect(sample.indices.count == 6)
    #expect(landslideRows(sample) == centreIndices)
    let bruteForce = bruteForceComponents(inventory, width: width, height: height)
    #expect(bruteForce.count == 3)
    #expect(bruteForce.map { bruteForceCentre($0, width: width) } == centreIndices)
    for (component, centre) in zip(bruteForce, centreIndices) {
      #expect(component.contains(centre))
    }
  }

  @Test func landslideSamplingsRefuseAnInventoryWithoutLandslides() {
    let none = inventory.map { $0 == 1 ? 0 : $0 }
    for sampling in [PixelSampling.balanced(minimumDistance: 2, seed: 1), .centres(seed: 1)] {
      #expect {
        try sampling.sample(none, width: width, height: height, inventory: "els.tif")
      } throws: { error in
        (error as? ClassicalError)?.message.contains("no landslide pixels") == true
      }
    }
  }

  @Test func badInventoriesAreRefused() {
    let sample = { (labels: [Float], sampling: PixelSampling) in
      try sampling.sample(labels, width: width, height: height, inventory: "test")
    }
    var halves = inventory
    halves[7] = 0.5
    #expect(throws: ClassicalError.self) { try sample(halves, .allValid) }
    #expect(throws: ClassicalError.self) { try sample(Array(inventory.dropLast()), .allValid) }
    #expect(throws: ClassicalError.self) {
      try sample([Float](repeating: .nan, count: width * height), .allValid)
    }
    #expect(throws: ClassicalError.self) {
      try sample(inventory, .balanced(minimumDistance: -1, seed: 1))
    }
    // 268 landslide pixels, 17 others: too few to balance them.
    let mostlyLandslide = inventory.map { $0.isNaN ? $0 : 1 - $0 }
    #expect {
      try sample(mostlyLandslide, .balanced(minimumDistance: 0, seed: 1))
    } throws: { error in
      (error as? ClassicalError)?.message.contains("only 17 valid pixels") == true
    }
  }

  /// A 2000 × 2000 inventory (a nodata band, square landslides on a lattice) through every
  /// sampling: counts only, no timing.
  @Test func samplingsCompleteOnFourMillionPixels() throws {
    let side = 2000
    var labels = [Float](repeating: 0, count: side * side)
    for row in 0..<side {
      for column in 0..<side {
        if column < 100 {
          labels[row * side + column] = .nan
        } else if row % 40 < 5 && column % 40 < 5 {
          labels[row * side + column] = 1
        }
      }
    }
    let valid = side * (side - 100)
    // 5 × 5 squares in 50 rows of 47 (columns 120, 160, …, 1960).
    let squares = 50 * 47
    let sample = { (sampling: PixelSampling) in
      try sampling.sample(labels, width: side, height: side, inventory: "large")
    }
    #expect(try sample(.allValid).indices.count == valid)
    let random = try sample(.random(count: 500_000, seed: 1))
    #expect(random.indices.count == 500_000)
    #expect(zip(random.indices, random.indices.dropFirst()).allSatisfy { $0 < $1 })
    #expect(random.indices.allSatisfy { !labels[$0].isNaN })
    // A 5 × 5 square keeps 1 to 4 pixels 3 apart: its middle is closer than 3 to all the
    // rest, and its 4 quadrants ({0, 1} or {2, 3, 4} in each axis) are narrower than 3.
    let balanced = try sample(.balanced(minimumDistance: 3, seed: 1))
    let kept = balanced.labels.filter { $0 == 1 }.count
    #expect(kept >= squares && kept <= 4 * squares)
    #expect(balanced.indices.count == 2 * kept)
    #expect(try sample(.balanced(minimumDistance: 1, seed: 1)).indices.count == 2 * 25 * squares)
    #expect(try sample(.centres(seed: 1)).indices.count == 2 * squares)
  }
}

@Suite struct LandslideComponentsTests {
  /// Diagonal steps join: a V whose arms meet only through diagonals (6 pixels), a chain
  /// that runs diagonally then down and across (9), an X of diagonals (5), and a pixel
  /// between nodata (1).
  @Test func diagonalNeighboursJoinOneLandslide() {
    let picture = [
      "#..#....##",
      ".#.#...#..",
      "..##..#...",
      "......#.#.",
      "#.#...###.",
      ".#........",
      "#.#....x#x",
    ]
    let labels: [Float] = picture.flatMap { line in
      line.map { $0 == "#" ? 1 : $0 == "x" ? .nan : 0 }
    }
    let components = LandslideComponents(labels: labels, width: 10, height: 7)
    #expect(components.count == 4)
    #expect(components.pixelCounts == [6, 9, 5, 1])
    // The V's centroid (1, 2) ties (1,1), (1,3) and (2,2): 11. The chain's (2.33, 7.22) is
    // nearest (3,8); the X's is its middle (5,1).
    #expect(components.centres == [11, 38, 51, 68])
  }

  /// Random inventories of several densities (percolating ones make long merge chains)
  /// against breadth-first search.
  @Test func randomInventoriesMatchBreadthFirstSearch() {
    var generator = RandomGenerator(seed: 17)
    for density: Float in [0.1, 0.3, 0.45, 0.6] {
      for (width, height) in [(37, 23), (1, 40), (40, 1), (64, 64)] {
        let labels: [Float] = (0..<(width * height)).map { _ in
          let u = generator.nextUniform()
          return u < density ? 1 : u < density + 0.05 ? .nan : 0
        }
        let expected = bruteForceComponents(labels, width: width, height: height)
        let components = LandslideComponents(labels: labels, width: width, height: height)
        #expect(components.pixelCounts == expected.map(\.count))
        #expect(components.centres == expected.map { bruteForceCentre($0, width: width) })
      }
    }
  }

  @Test func anInventoryWithoutLandslidesHasNone() {
    let components = LandslideComponents(
      labels: [0, .nan, 0, 0, 0, .nan], width: 3, height: 2)
    #expect(components.count == 0 && components.centres.isEmpty)
  }
}
