import TensorEngine

/// A spatial train/test split, the alternative to the paper's Po2 → Po1 protocol, in
/// which test pixels sit beside training pixels and share their terrain and often their
/// landslide, so the test AUC measures memory as much as prediction.
///
/// The grid is cut into square blocks of `blockSize` × `blockSize` pixels (block (i, j)
/// holds rows i·blockSize ..< (i + 1)·blockSize and the same for columns). Each block is
/// a test block with probability `testShare`: one uniform draw per block from
/// `RandomGenerator(seed:)`, in row-major block order, test when below `testShare`. Test
/// rows are those in test blocks. Training rows are those in blocks that are neither a
/// test block nor one of its 8 neighbours, so no test pixel lies within a block of a
/// training pixel (Chebyshev distance in blocks ≥ 2, i.e. more than `blockSize` pixels).
///
/// What is dropped: rows in the buffer, the non-test blocks touching a test block. They
/// would be training rows a block or less from a test pixel, the leak the split exists
/// to stop. The cost is large: away from the edges a block trains with probability
/// (1 − testShare)⁹, so a share of 0.1 trains on ~39 % of the blocks and drops ~51 %,
/// and 0.2 trains on ~13 % and drops ~67 %. Larger blocks do not change these shares;
/// they widen the gap.
///
/// The draw depends only on the seed, `blockSize` and the grid's width, so splitting the
/// training sampling (Po2) and the test sampling (Po1) separately sees the same blocks.
public struct SpatialBlockSplit: Sendable, Equatable {
  /// The side of a block, in pixels.
  public let blockSize: Int
  /// The probability that a block is a test block, in (0, 1).
  public let testShare: Double
  public let seed: UInt64

  public init(blockSize: Int, testShare: Double, seed: UInt64) throws(ClassicalError) {
    guard blockSize >= 1 else {
      throw ClassicalError(
        "spatial block split", "block size \(blockSize) pixels; expected at least 1")
    }
    guard testShare > 0, testShare < 1 else {
      throw ClassicalError(
        "spatial block split", "test share \(testShare); expected a share strictly between 0 and 1")
    }
    self.blockSize = blockSize
    self.testShare = testShare
    self.seed = seed
  }

  /// The role of a block in the split.
  enum Role: UInt8 {
    case train
    case test
    /// Beside a test block: neither trains nor tests.
    case buffer
  }

  /// Splits pixel `indices` (row-major on a grid `width` pixels wide) into training and
  /// test rows, each in the order given; buffer rows are dropped.
  ///
  /// Blocks are drawn down to one block row past the last row given, so a block's role
  /// never depends on which rows were given: the Po2 and Po1 samplings split separately
  /// see the same blocks and buffers. (On a grid's last block row a test block drawn past
  /// the grid may drop training rows it did not need to.)
  public func split(_ indices: [Int], width: Int) -> (train: [Int], test: [Int]) {
    precondition(width >= 1, "grid width \(width)")
    guard let last = indices.max() else { return ([], []) }
    precondition(indices.allSatisfy { $0 >= 0 }, "a negative pixel index")
    let blockColumns = (width + blockSize - 1) / blockSize
    let blockRows = last / width / blockSize + 2
    let roles = self.roles(blockRows: blockRows, blockColumns: blockColumns)
    let role = { (index: Int) in
      roles[(index / width / blockSize) * blockColumns + (index % width) / blockSize]
    }
    var trainCount = 0
    var testCount = 0
    for index in indices {
      switch role(index) {
      case .train: trainCount += 1
      case .test: testCount += 1
      case .buffer: break
      }
    }
    var train = [Int]()
    var test = [Int]()
    train.reserveCapacity(trainCount)
    test.reserveCapacity(testCount)
    for index in indices {
      switch role(index) {
      case .train: train.append(index)
      case .test: test.append(index)
      case .buffer: break
      }
    }
    return (train, test)
  }

  /// Every block's role, row-major over `blockRows × blockColumns` blocks. The draws run
  /// in row-major order, so more block rows extend the assignment without changing it.
  func roles(blockRows: Int, blockColumns: Int) -> [Role] {
    var generator = RandomGenerator(seed: seed)
    var roles = [Role](repeating: .train, count: blockRows * blockColumns)
    for block in roles.indices {
      let uniform = Double(generator.next() >> 11) * 0x1p-53
      if uniform < testShare { roles[block] = .test }
    }
    for row in 0..<blockRows {
      for column in 0..<blockColumns where roles[row * blockColumns + column] == .test {
        for neighbourRow in max(row - 1, 0)...min(row + 1, blockRows - 1) {
          for neighbourColumn in max(column - 1, 0)...min(column + 1, blockColumns - 1) {
            let neighbour = neighbourRow * blockColumns + neighbourColumn
            if roles[neighbour] == .train { roles[neighbour] = .buffer }
          }
        }
      }
    }
    return roles
  }
}
