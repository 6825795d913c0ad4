import TensorEngine

/// One value of a column and the row it belongs to.
struct TreeEntry: Equatable, Sendable {
  var value: Float
  var row: Int32
}

/// A training table prepared once for growing any number of trees on it: every column's
/// rows presorted by value. A tree then never sorts: it keeps each column's rows of a
/// node in order by partitioning these lists down the tree (a forest presorts once for
/// all its trees).
struct TreeTable: Sendable {
  let rows: Int
  let columns: Int
  /// Column after column, all `rows` entries of the column in ascending order of value
  /// (equal values by row).
  let sorted: [TreeEntry]
  /// 1 for a landslide row, 0 otherwise.
  let labels: [Float]

  init(_ x: FeatureMatrix, _ y: [Float], model: String) throws(ClassicalError) {
    guard x.columns > 0 else { throw ClassicalError(model, "the table has no columns") }
    guard x.rows < Int(Int32.max) else {
      throw ClassicalError(model, "\(x.rows) rows; a tree takes at most \(Int32.max)")
    }
    if let index = x.values.firstIndex(where: { !$0.isFinite }) {
      throw ClassicalError(
        model,
        "row \(index / x.columns), column \(index % x.columns) is \(x.values[index]); "
          + "trees need finite values")
    }
    let (rows, columns) = (x.rows, x.columns)
    self.rows = rows
    self.columns = columns
    labels = y
    var sorted = [TreeEntry](repeating: TreeEntry(value: 0, row: 0), count: rows * columns)
    x.values.withUnsafeBufferPointer { values in
      sorted.withUnsafeMutableBufferPointer { sorted in
        ThreadPool.shared.parallelFor(
          columns, work: rows * columns * 16,
          PresortJob(
            x: values.baseAddress!, rows: rows, columns: columns, sorted: sorted.baseAddress!))
      }
    }
    self.sorted = sorted
  }
}

/// Sorts columns by value with an LSD radix sort (three passes of 11 bits) on the value's
/// bits in an order-preserving form; each pass is stable, so equal values stay in row
/// order.
private struct PresortJob: ParallelJob {
  static let digitBits = 11
  let x: UnsafePointer<Float>
  let rows: Int
  let columns: Int
  let sorted: UnsafeMutablePointer<TreeEntry>

  /// Float bits → UInt32 in the floats' order (negatives reversed below the positives).
  @inline(__always) static func ordered(_ value: Float) -> UInt32 {
    let bits = value.bitPattern
    return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
  }

  @inline(__always) static func value(_ ordered: UInt32) -> Float {
    Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered ^ 0x8000_0000 : ~ordered)
  }

  func run(_ range: Range<Int>) {
    let buckets = 1 << Self.digitBits
    var keys = [UInt64](repeating: 0, count: rows)
    var other = keys
    var counts = [Int](repeating: 0, count: buckets)
    for column in range {
      // Value bits in the high half, the row in the low half.
      for row in 0..<rows {
        keys[row] = UInt64(Self.ordered(x[row * columns + column])) << 32 | UInt64(row)
      }
      for shift in stride(from: 32, to: 64, by: Self.digitBits) {
        counts.withUnsafeMutableBufferPointer { counts in
          keys.withUnsafeBufferPointer { source in
            other.withUnsafeMutableBufferPointer { target in
              counts.update(repeating: 0)
              let mask = UInt64(buckets - 1)
              for key in source { counts[Int((key >> UInt64(shift)) & mask)] += 1 }
              var total = 0
              for bucket in 0..<buckets {
                (counts[bucket], total) = (total, total + counts[bucket])
              }
              for key in source {
                let bucket = Int((key >> UInt64(shift)) & mask)
                target[counts[bucket]] = key
                counts[bucket] += 1
              }
            }
          }
        }
        swap(&keys, &other)
      }
      let out = sorted + column * rows
      for (position, key) in keys.enumerated() {
        out[position] = TreeEntry(
          value: Self.value(UInt32(key >> 32)), row: Int32(truncatingIfNeeded: key))
      }
    }
  }
}

/// Grows CART trees with the Gini criterion, as scikit-learn's DecisionTreeClassifier
/// (splitter "best"): depth first, nodes numbered in preorder, the exact best split over
/// the candidate columns, thresholds halfway between consecutive distinct values. Its
/// scratch memory (every column's rows of the current tree) is allocated once and reused
/// tree after tree; one grower per thread.
final class TreeGrower {
  /// Values closer than this count as equal (scikit-learn's FEATURE_THRESHOLD).
  static let equalValues: Float = 1e-7

  let table: TreeTable
  /// Column after column, `table.rows` slots each: the current tree's rows (those with a
  /// positive weight) of every column in value order, each node's rows contiguous.
  private let entries: UnsafeMutablePointer<TreeEntry>
  /// The right-hand rows while a column is partitioned.
  private let spill: UnsafeMutablePointer<TreeEntry>
  /// 1 where the row goes to the left child of the node being split.
  private let goesLeft: UnsafeMutablePointer<UInt8>
  private let rowWeights: UnsafeMutablePointer<RowWeight>
  /// The columns, shuffled in place as they are drawn (scikit-learn's `features`).
  private let features: UnsafeMutablePointer<Int>

  /// A row's weight, and the same again where the row is positive (else 0).
  private struct RowWeight {
    var weight: Float
    var positive: Float
  }

  /// A node still to be made: its rows `start..<end` and where it hangs.
  private struct PendingNode {
    var start: Int
    var end: Int
    var depth: Int
    var parent: Int
    var isLeft: Bool
  }

  /// The best split found so far at a node: the left child takes its first `leftCount`
  /// rows in `feature`'s order.
  private struct Split {
    var proxy = -Double.infinity
    var feature = -1
    var leftCount = 0
  }

  init(table: TreeTable) {
    self.table = table
    entries = .allocate(capacity: max(table.rows * table.columns, 1))
    spill = .allocate(capacity: max(table.rows, 1))
    goesLeft = .allocate(capacity: max(table.rows, 1))
    rowWeights = .allocate(capacity: max(table.rows, 1))
    features = .allocate(capacity: max(table.columns, 1))
  }

  deinit {
    entries.deallocate()
    spill.deallocate()
    goesLeft.deallocate()
    rowWeights.deallocate()
    features.deallocate()
  }

  /// Grows one tree. `weights` (one per row, ≥ 0; nil: all 1) weight the criterion and
  /// the leaf values; rows of weight 0 take no part, as in scikit-learn, so a bootstrap
  /// passed as counts grows the tree of the resampled rows. Settings must be valid for
  /// the table.
  func grow(weights: UnsafePointer<Float>?, settings: DecisionTree.Settings) -> FittedTree {
    let rows = table.rows
    let columns = table.columns
    table.labels.withUnsafeBufferPointer { labels in
      for row in 0..<rows {
        let weight = weights?[row] ?? 1
        rowWeights[row] = RowWeight(weight: weight, positive: labels[row] == 1 ? weight : 0)
      }
    }
    var inBag = 0
    table.sorted.withUnsafeBufferPointer { sorted in
      for column in 0..<columns {
        let source = sorted.baseAddress! + column * rows
        let target = entries + column * rows
        var kept = 0
        for position in 0..<rows {
          let entry = source[position]
          target[kept] = entry
          kept += rowWeights[Int(entry.row)].weight > 0 ? 1 : 0
        }
        inBag = kept
      }
    }
    for column in 0..<columns { features[column] = column }

    let maxDepth = settings.maxDepth ?? Int.max
    let maxFeatures = min(settings.maxFeatures ?? columns, columns)
    let minLeaf = settings.minSamplesLeaf
    let minSplit = max(settings.minSamplesSplit, 2 * minLeaf)
    var random = RandomGenerator(seed: settings.seed)
    var nodes: [TreeNode] = []
    var values: [Float] = []
    var pending = [PendingNode(start: 0, end: inBag, depth: 0, parent: -1, isLeft: false)]
    while let node = pending.popLast() {
      let id = nodes.count
      if node.parent >= 0 {
        if node.isLeft {
          nodes[node.parent].left = Int32(id)
        } else {
          nodes[node.parent].right = Int32(id)
        }
      }
      let count = node.end - node.start
      var weight = 0.0
      var positive = 0.0
      var negative = 0.0
      let first = entries + node.start
      for position in 0..<count {
        let row = rowWeights[Int(first[position].row)]
        weight += Double(row.weight)
        positive += Double(row.positive)
        negative += Double(row.weight - row.positive)
      }
      nodes.append(TreeNode(feature: -1, threshold: 0, left: -1, right: -1))
      values.append(weight > 0 ? Float(positive / weight) : 0)
      let pure = positive == 0 || negative == 0
      guard !pure, node.depth < maxDepth, count >= minSplit else { continue }

      // Columns are drawn until maxFeatures have been tried, or past that until one is not
      // constant in the node (scikit-learn's rule).
      var best = Split()
      var drawn = 0
      var foundVarying = false
      while drawn < columns && (drawn < maxFeatures || !foundVarying) {
        if maxFeatures < columns {
          let pick =
            drawn + Int(random.next().multipliedFullWidth(by: UInt64(columns - drawn)).high)
          (features[drawn], features[pick]) = (features[pick], features[drawn])
        }
        let feature = features[drawn]
        drawn += 1
        let segment = entries + feature * rows + node.start
        guard segment[count - 1].value > segment[0].value + Self.equalValues else { continue }
        foundVarying = true
        scan(
          segment, count: count, feature: feature, weight: weight, positive: positive,
          minLeaf: minLeaf, best: &best)
      }
      guard best.feature >= 0 else { continue }

      let chosen = entries + best.feature * rows + node.start
      let below = Double(chosen[best.leftCount - 1].value)
      let above = chosen[best.leftCount].value
      nodes[id].feature = Int32(best.feature)
      nodes[id].threshold = Self.threshold(between: below, and: above)
      partition(start: node.start, count: count, by: best)
      let middle = node.start + best.leftCount
      pending.append(
        PendingNode(start: middle, end: node.end, depth: node.depth + 1, parent: id, isLeft: false))
      pending.append(
        PendingNode(start: node.start, end: middle, depth: node.depth + 1, parent: id, isLeft: true)
      )
    }
    return FittedTree(nodes: nodes, values: values)
  }

  /// The largest Float at or below scikit-learn's float64 midpoint of two consecutive
  /// distinct values: `x <= threshold` in Float then agrees with scikit-learn's
  /// comparison in float64 for every Float x, and `below` goes left, `above` right.
  static func threshold(between below: Double, and above: Float) -> Float {
    let middle = below / 2 + Double(above) / 2
    var threshold = Float(middle)
    if Double(threshold) > middle { threshold = threshold.nextDown }
    return threshold < above ? threshold : Float(below)
  }

  /// Tries every split of one column's sorted rows that leaves `minLeaf` rows each side
  /// and falls between distinct values, keeping the first with the highest proxy
  /// Σ_children Σ_class w²/w_child (the Gini decrease up to terms fixed by the node).
  @inline(__always)
  private func scan(
    _ segment: UnsafeMutablePointer<TreeEntry>, count: Int, feature: Int, weight: Double,
    positive: Double, minLeaf: Int, best: inout Split
  ) {
    var leftWeight = 0.0
    var leftPositive = 0.0
    for position in 0..<(count - minLeaf) {
      let entry = segment[position]
      let row = rowWeights[Int(entry.row)]
      leftWeight += Double(row.weight)
      leftPositive += Double(row.positive)
      guard position + 1 >= minLeaf,
        segment[position + 1].value > entry.value + Self.equalValues
      else { continue }
      let leftNegative = leftWeight - leftPositive
      let rightWeight = weight - leftWeight
      let rightPositive = positive - leftPositive
      let rightNegative = rightWeight - rightPositive
      let proxy =
        (leftPositive * leftPositive + leftNegative * leftNegative) / leftWeight
        + (rightPositive * rightPositive + rightNegative * rightNegative) / rightWeight
      if proxy > best.proxy {
        best = Split(proxy: proxy, feature: feature, leftCount: position + 1)
      }
    }
  }

  /// Splits the node's rows in every column into left then right, each side keeping its
  /// value order (the chosen column already is).
  private func partition(start: Int, count: Int, by split: Split) {
    let rows = table.rows
    let chosen = entries + split.feature * rows + start
    for position in 0..<count {
      goesLeft[Int(chosen[position].row)] = position < split.leftCount ? 1 : 0
    }
    for column in 0..<table.columns where column != split.feature {
      let segment = entries + column * rows + start
      var left = 0
      var right = 0
      // Branch-free: the side of a row is a coin toss to the branch predictor.
      for position in 0..<count {
        let entry = segment[position]
        let isLeft = Int(goesLeft[Int(entry.row)])
        segment[left] = entry
        spill[right] = entry
        left += isLeft
        right += 1 - isLeft
      }
      (segment + left).update(from: spill, count: right)
    }
  }
}
