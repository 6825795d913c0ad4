/// A training patch: `patchCells × patchCells` mapping units whose top-left cell is
/// (row, column) on the 1 km grid. The normal grid starts at cell (0, 0); the shifted grid
/// at half a patch east and south, which doubles the data and keeps edge context.
public struct Patch: Equatable, Hashable, Sendable, Codable {
  public var row: Int
  public var column: Int
  public var shifted: Bool
}

/// Which side of the split a patch is on.
public enum SplitSide: String, CaseIterable, Sendable, Codable {
  case train, validation, test
}

/// The patches of a study area and their split.
public struct PatchIndex: Sendable {
  public var patches: [Patch] = []
  public var sides: [SplitSide] = []
  /// Patches dropped because they touch nodata.
  public var droppedForNoData = 0
  /// Shifted patches dropped because they straddle blocks on different sides.
  public var droppedAtSplitBoundaries = 0

  /// Every patch on the normal and (optionally) the shifted grid that fits the grid.
  /// `isValid(patch)` says whether all its pixels and cells hold data.
  public static func candidates(
    cellsWide: Int, cellsHigh: Int, patchCells: Int, shiftedGrid: Bool
  ) -> [Patch] {
    var patches: [Patch] = []
    let offsets = shiftedGrid ? [0, patchCells / 2] : [0]
    for offset in offsets {
      for row in stride(from: offset, through: cellsHigh - patchCells, by: patchCells) {
        for column in stride(from: offset, through: cellsWide - patchCells, by: patchCells) {
          patches.append(Patch(row: row, column: column, shifted: offset != 0))
        }
      }
    }
    return patches
  }

  /// Splits by spatial blocks of `blockCells` (a multiple of the patch size, aligned with
  /// the normal grid): each block draws its side from `seed` with the given probabilities;
  /// a patch takes its block's side, and a shifted patch whose footprint spans blocks on
  /// different sides is dropped, so that overlapping patches never sit on both sides.
  /// With `random` every patch draws on its own (the papers' split; leaky, because normal
  /// and shifted patches overlap). Patches for which `isValid` is false are dropped.
  public init(
    patches candidates: [Patch], patchCells: Int, blockCells: Int, validationFraction: Double,
    testFraction: Double, seed: UInt64, random: Bool, isValid: (Patch) -> Bool
  ) {
    precondition(blockCells % patchCells == 0, "blocks must hold whole patches")
    func side(_ rank: Double) -> SplitSide {
      rank < testFraction ? .test : rank < testFraction + validationFraction ? .validation : .train
    }
    func rank(_ a: Int, _ b: Int, _ c: Int) -> Double {
      var h = LatticeNoise.mix(seed ^ UInt64(bitPattern: Int64(a)))
      h = LatticeNoise.mix(h ^ UInt64(bitPattern: Int64(b)))
      h = LatticeNoise.mix(h ^ UInt64(bitPattern: Int64(c)))
      return Double(h >> 11) * 0x1p-53
    }
    for patch in candidates {
      guard isValid(patch) else {
        droppedForNoData += 1
        continue
      }
      let assigned: SplitSide
      if random {
        assigned = side(rank(patch.row, patch.column, patch.shifted ? 1 : 0))
      } else {
        let corners = [
          (0, 0), (0, patchCells - 1), (patchCells - 1, 0), (patchCells - 1, patchCells - 1),
        ]
        let blockSides = Set(
          corners.map {
            side(rank((patch.row + $0.0) / blockCells, (patch.column + $0.1) / blockCells, 7))
          })
        guard blockSides.count == 1 else {
          droppedAtSplitBoundaries += 1
          continue
        }
        assigned = blockSides.first!
      }
      patches.append(patch)
      sides.append(assigned)
    }
  }
}
