import TensorEngine

/// Which pixels of an inventory become table rows: the seed paper's four tables
/// (SPEC.md §3). An inventory is one label per pixel, row-major (index = row · width +
/// column): 1 landslide, 0 not, NaN invalid (nodata in a factor, outside the area).
///
/// Every sampling is deterministic for its seed (xoshiro256** `RandomGenerator`) and
/// linear in the pixels: draws without replacement use Floyd's algorithm over a bitset of
/// ranks, so a 500,000-row Po1 of a 21 M-pixel grid allocates bits, not a shuffled copy.
public enum PixelSampling: Sendable, Equatable {
  /// Px1: every valid pixel.
  case allValid
  /// Po1: `count` valid pixels drawn uniformly without replacement.
  case random(count: Int, seed: UInt64)
  /// Po2: landslide pixels in random order, each kept only when at least
  /// `minimumDistance` pixels (Euclidean, between pixel centres) from every pixel already
  /// kept, so that one landslide gives a few spread rows rather than many near-copies;
  /// then as many non-landslide valid pixels drawn at random. A distance of 0 or 1 keeps
  /// every landslide pixel.
  case balanced(minimumDistance: Double, seed: UInt64)
  /// Po3: one point per landslide (an 8-connected group of landslide pixels, see
  /// `LandslideComponents`), its pixel nearest its centroid, then as many non-landslide
  /// valid pixels drawn at random.
  case centres(seed: UInt64)

  /// The rows this sampling takes from `labels`, a `width × height` inventory; errors name
  /// `inventory` (its file or name).
  public func sample(
    _ labels: [Float], width: Int, height: Int, inventory: String
  ) throws(ClassicalError) -> PixelSample {
    let census = try Census(labels, width: width, height: height, inventory: inventory)
    let indices: [Int]
    switch self {
    case .allValid:
      indices = labels.withUnsafeBufferPointer { labels in
        Self.pixels(of: .valid, in: labels, chosen: nil, count: census.valid)
      }
    case .random(let count, let seed):
      guard count >= 1 else {
        throw ClassicalError(inventory, "random sampling of \(count) pixels; expected at least 1")
      }
      guard count <= census.valid else {
        throw ClassicalError(
          inventory,
          "\(count) random pixels asked for, but the inventory has only \(census.valid) "
            + "valid pixels")
      }
      var generator = RandomGenerator(seed: seed)
      indices = Self.draw(count, of: .valid, in: labels, census: census, using: &generator)
    case .balanced(let minimumDistance, let seed):
      guard minimumDistance.isFinite, minimumDistance >= 0 else {
        throw ClassicalError(
          inventory, "minimum distance \(minimumDistance); expected a finite number of pixels ≥ 0")
      }
      try census.requireLandslides(for: "balanced")
      var generator = RandomGenerator(seed: seed)
      let landslides = Self.spreadLandslides(
        labels, width: width, height: height, count: census.landslides,
        minimumDistance: minimumDistance, using: &generator)
      indices = try Self.withNonLandslides(
        landslides, labels, census: census, using: &generator)
    case .centres(let seed):
      try census.requireLandslides(for: "centres")
      var generator = RandomGenerator(seed: seed)
      let centres = LandslideComponents(labels: labels, width: width, height: height).centres
      indices = try Self.withNonLandslides(
        centres.sorted(), labels, census: census, using: &generator)
    }
    return PixelSample(indices: indices, labels: indices.map { labels[$0] })
  }

  // MARK: Drawing

  /// Pixels a draw may choose from.
  private enum Population {
    case valid
    case nonLandslide

    func contains(_ label: Float) -> Bool {
      switch self {
      case .valid: !label.isNaN
      case .nonLandslide: label == 0
      }
    }
  }

  /// The pixels of `population`, ascending: all of them, or those whose rank (position
  /// among the population in raster order) is set in `chosen`.
  private static func pixels(
    of population: Population, in labels: UnsafeBufferPointer<Float>, chosen: [UInt64]?,
    count: Int
  ) -> [Int] {
    var pixels = [Int]()
    pixels.reserveCapacity(count)
    var rank = 0
    for index in labels.indices where population.contains(labels[index]) {
      if let chosen {
        if chosen[rank >> 6] & (1 << UInt64(rank & 63)) != 0 { pixels.append(index) }
      } else {
        pixels.append(index)
      }
      rank += 1
    }
    return pixels
  }

  /// `count` distinct pixels of `population`, uniformly, ascending.
  private static func draw(
    _ count: Int, of population: Population, in labels: [Float], census: Census,
    using generator: inout RandomGenerator
  ) -> [Int] {
    let size = population == .valid ? census.valid : census.nonLandslides
    let chosen = floydRanks(count, of: size, using: &generator)
    return labels.withUnsafeBufferPointer { labels in
      pixels(of: population, in: labels, chosen: chosen, count: count)
    }
  }

  /// `count` distinct ranks of `0..<size` as a bitset, by Floyd's algorithm: for each j in
  /// size − count ..< size, draw t in 0...j and take t, or j when t is taken already.
  /// Every subset is equally likely, with exactly `count` draws.
  private static func floydRanks(
    _ count: Int, of size: Int, using generator: inout RandomGenerator
  ) -> [UInt64] {
    var bits = [UInt64](repeating: 0, count: (size + 63) / 64)
    bits.withUnsafeMutableBufferPointer { bits in
      for j in (size - count)..<size {
        let t = Int(generator.next(upperBound: UInt64(j + 1)))
        let rank = bits[t >> 6] & (1 << UInt64(t & 63)) != 0 ? j : t
        bits[rank >> 6] |= 1 << UInt64(rank & 63)
      }
    }
    return bits
  }

  /// `landslides` (ascending) with as many non-landslide pixels drawn at random, ascending.
  private static func withNonLandslides(
    _ landslides: [Int], _ labels: [Float], census: Census,
    using generator: inout RandomGenerator
  ) throws(ClassicalError) -> [Int] {
    guard landslides.count <= census.nonLandslides else {
      throw ClassicalError(
        census.inventory,
        "\(landslides.count) landslide rows need as many non-landslide pixels, but only "
          + "\(census.nonLandslides) valid pixels are not landslides")
    }
    let others = draw(
      landslides.count, of: .nonLandslide, in: labels, census: census, using: &generator)
    return merged(landslides, others)
  }

  /// Two ascending lists as one.
  private static func merged(_ a: [Int], _ b: [Int]) -> [Int] {
    var result = [Int]()
    result.reserveCapacity(a.count + b.count)
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if j == b.count || (i < a.count && a[i] < b[j]) {
        result.append(a[i])
        i += 1
      } else {
        result.append(b[j])
        j += 1
      }
    }
    return result
  }

  // MARK: Po2's spread

  /// Landslide pixels, visited in a random order and kept only when no kept pixel lies
  /// closer than `minimumDistance`; ascending. Kept pixels are hashed into square cells of
  /// side ⌈minimumDistance⌉, so a pixel closer than that lies in one of the 3 × 3 cells
  /// around the candidate's: O(landslide pixels), since a cell holds at most a few.
  private static func spreadLandslides(
    _ labels: [Float], width: Int, height: Int, count: Int, minimumDistance: Double,
    using generator: inout RandomGenerator
  ) -> [Int] {
    var landslides = [Int]()
    landslides.reserveCapacity(count)
    for index in labels.indices where labels[index] == 1 { landslides.append(index) }
    // Distinct pixels are at least 1 apart.
    guard minimumDistance > 1 else { return landslides }
    for i in stride(from: count - 1, to: 0, by: -1) {
      landslides.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
    }

    let side = Int(minimumDistance.rounded(.up))
    let cellColumns = (width + side - 1) / side
    let cellRows = (height + side - 1) / side
    let limit = minimumDistance * minimumDistance
    // Kept pixels as linked lists per cell: `head[cell]`, then `next[kept]` (−1 ends).
    var head = [Int32](repeating: -1, count: cellRows * cellColumns)
    var next = [Int32](repeating: -1, count: count)
    var kept = [Int](repeating: 0, count: count)
    var keptCount = 0
    head.withUnsafeMutableBufferPointer { head in
      next.withUnsafeMutableBufferPointer { next in
        kept.withUnsafeMutableBufferPointer { kept in
          for candidate in landslides {
            let row = candidate / width
            let column = candidate % width
            let cellRow = row / side
            let cellColumn = column / side
            var free = true
            search: for neighbourRow in max(cellRow - 1, 0)...min(cellRow + 1, cellRows - 1) {
              for neighbourColumn in max(cellColumn - 1, 0)...min(cellColumn + 1, cellColumns - 1) {
                var entry = head[neighbourRow * cellColumns + neighbourColumn]
                while entry >= 0 {
                  let other = kept[Int(entry)]
                  let dy = other / width - row
                  let dx = other % width - column
                  if Double(dx * dx + dy * dy) < limit {
                    free = false
                    break search
                  }
                  entry = next[Int(entry)]
                }
              }
            }
            guard free else { continue }
            let cell = cellRow * cellColumns + cellColumn
            kept[keptCount] = candidate
            next[keptCount] = head[cell]
            head[cell] = Int32(keptCount)
            keptCount += 1
          }
        }
      }
    }
    return kept[0..<keptCount].sorted()
  }
}

/// The rows a `PixelSampling` chose: pixel indices, ascending, and their labels (0 or 1).
public struct PixelSample: Sendable, Equatable {
  public let indices: [Int]
  public let labels: [Float]
}

/// An inventory's checked counts: valid, landslide and non-landslide pixels.
private struct Census {
  let inventory: String
  let valid: Int
  let landslides: Int
  var nonLandslides: Int { valid - landslides }

  /// Counts, refusing a label count that is not the grid's and labels other than 0, 1,
  /// NaN.
  init(_ labels: [Float], width: Int, height: Int, inventory: String) throws(ClassicalError) {
    guard width >= 0, height >= 0, labels.count == width * height else {
      throw ClassicalError(inventory, "\(labels.count) labels for a \(width) × \(height) grid")
    }
    var valid = 0
    var landslides = 0
    for (index, label) in labels.enumerated() where !label.isNaN {
      guard label == 0 || label == 1 else {
        throw ClassicalError(
          inventory,
          "label \(label) at row \(index / width), column \(index % width); expected 1 "
            + "(landslide), 0 (not) or NaN (nodata)")
      }
      valid += 1
      if label == 1 { landslides += 1 }
    }
    guard valid > 0 else { throw ClassicalError(inventory, "no valid pixels (all are nodata)") }
    self.inventory = inventory
    self.valid = valid
    self.landslides = landslides
  }

  func requireLandslides(for sampling: String) throws(ClassicalError) {
    guard landslides > 0 else {
      throw ClassicalError(
        inventory,
        "no landslide pixels (label 1) among the \(valid) valid pixels; the \(sampling) "
          + "sampling takes its rows from landslides")
    }
  }
}
