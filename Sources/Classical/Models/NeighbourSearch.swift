import TensorEngine

/// The k nearest references of each query, found in one shard of the reference rows (or
/// in all of them): exact distances (Double, computed directly from the features; squared
/// for p = 2) in ascending order of (distance, global index), so ties go to the lower
/// index. A shard with fewer than k rows pads with (+∞, −1, 0). Merging the shards' sets
/// gives exactly the set of the whole table.
struct NeighbourCandidates: Equatable, Sendable {
  /// Candidates per query.
  let neighbours: Int
  /// Query-major, `neighbours` per query.
  var distances: [Double]
  var indices: [Int]
  var labels: [Float]

  static let paddingIndex = -1

  var queries: Int { distances.count / neighbours }

  /// The `neighbours` best of all the sets (one per shard, for the same queries) per query,
  /// by (distance, global index): the same as one search over the shards together.
  static func merge(_ sets: [NeighbourCandidates]) -> NeighbourCandidates {
    precondition(!sets.isEmpty, "no candidate sets to merge")
    let k = sets[0].neighbours
    let queries = sets[0].queries
    precondition(sets.allSatisfy { $0.neighbours == k && $0.queries == queries })
    var merged = NeighbourCandidates(
      neighbours: k, distances: [Double](repeating: 0, count: queries * k),
      indices: [Int](repeating: 0, count: queries * k),
      labels: [Float](repeating: 0, count: queries * k))
    // Each set is sorted: a min-heap of the sets by their next candidate gives the next
    // best k times. No set runs out before k are taken.
    var next = [Int](repeating: 0, count: sets.count)
    var heap = [Int](repeating: 0, count: sets.count)
    for query in 0..<queries {
      let base = query * k
      func before(_ a: Int, _ b: Int) -> Bool {
        precedes(
          sets[a].distances[next[a]], sets[a].indices[next[a]], sets[b].distances[next[b]],
          sets[b].indices[next[b]])
      }
      func siftDown(_ start: Int) {
        var position = start
        while true {
          var child = 2 * position + 1
          guard child < heap.count else { return }
          if child + 1 < heap.count && before(heap[child + 1], heap[child]) { child += 1 }
          guard before(heap[child], heap[position]) else { return }
          heap.swapAt(child, position)
          position = child
        }
      }
      for set in sets.indices {
        next[set] = base
        heap[set] = set
      }
      for position in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(position) }
      for slot in base..<(base + k) {
        let set = heap[0]
        merged.distances[slot] = sets[set].distances[next[set]]
        merged.indices[slot] = sets[set].indices[next[set]]
        merged.labels[slot] = sets[set].labels[next[set]]
        next[set] += 1
        if next[set] < base + k { siftDown(0) }
      }
    }
    return merged
  }
}

/// Whether (distance a, index a) comes before (distance b, index b): nearer first, then the
/// lower index; padding (+∞, −1) after every real reference.
@inline(__always)
func precedes(_ distanceA: Double, _ indexA: Int, _ distanceB: Double, _ indexB: Int) -> Bool {
  distanceA < distanceB || (distanceA == distanceB && indexA < indexB)
}

/// The distance the results are ranked by, in Double and in feature order: squared
/// Euclidean for p = 2, Manhattan for p = 1. (The tests' brute force computes the same.)
@inline(__always)
func exactDistance(
  _ query: UnsafePointer<Float>, _ reference: UnsafePointer<Float>, columns: Int, p: Int
) -> Double {
  var sum = 0.0
  if p == 2 {
    for column in 0..<columns {
      let difference = Double(query[column]) - Double(reference[column])
      sum += difference * difference
    }
  } else {
    for column in 0..<columns { sum += abs(Double(query[column]) - Double(reference[column])) }
  }
  return sum
}

/// A shard of the reference rows laid out for the Float32 distance kernel.
struct ReferenceShard: Sendable {
  let p: Int
  /// The global indices of the shard's rows.
  let rows: Range<Int>
  let columns: Int
  /// p = 2: rows × (columns + 1), each row followed by −‖r‖²/2, so that one GEMM with the
  /// queries (each followed by 1) gives the score q·r − ‖r‖²/2 = (‖q‖² − ‖q − r‖²)/2.
  /// p = 1: panels of 16 rows, each feature-major (16 values of the first feature, then
  /// of the next), the last padded with zeros, so that the distance loop runs along rows.
  let layout: [Float]
  /// The largest ‖r‖² of the shard, for the error bound of the GEMM scores.
  let largestSquaredNorm: Double
  /// Rows per panel of the p = 1 layout.
  static let panel = 16

  init(_ table: FeatureMatrix, rows: Range<Int>, p: Int) {
    self.p = p
    self.rows = rows
    columns = table.columns
    let count = rows.count
    var largest = 0.0
    if p == 2 {
      let width = columns + 1
      var layout = [Float](repeating: 0, count: count * width)
      for (local, row) in rows.enumerated() {
        var norm = 0.0
        for column in 0..<columns {
          let value = table.values[row * columns + column]
          layout[local * width + column] = value
          norm += Double(value) * Double(value)
        }
        layout[local * width + columns] = Float(-norm / 2)
        largest = max(largest, norm)
      }
      self.layout = layout
    } else {
      let panel = Self.panel
      var layout = [Float](repeating: 0, count: (count + panel - 1) / panel * panel * columns)
      for (local, row) in rows.enumerated() {
        for column in 0..<columns {
          layout[(local / panel * columns + column) * panel + local % panel] =
            table.values[row * columns + column]
        }
      }
      self.layout = layout
    }
    largestSquaredNorm = largest
  }
}

/// The search of one shard for a run of query blocks, on one thread.
///
/// First pass, per query block: the Float32 score of every (query, reference) pair, a
/// reference block at a time so that the tile stays in cache (p = 2: one GEMM; p = 1: a
/// loop along the shard's panels, score = −distance). Per query, only scores above a
/// threshold enter its buffer; when the buffer is full, a selection keeps the best
/// `capacity` and the threshold rises to the worst of them, so that after the first blocks
/// almost nothing enters. The kept candidates' distances are then recomputed exactly and
/// the k best taken by (distance, index).
///
/// The Float32 scores are off by a bounded error. When that bound cannot rule out that a
/// reference left out is as near as the k-th (many ties, or a margin too thin), the query
/// is settled by a second pass: the scores are computed again (for the unsettled queries
/// of the block together), and every reference whose score allows it within the k-th
/// distance so far gets its exact distance. So the result never depends on the layout,
/// the blocks or the thread count.
struct NeighbourSearch: ParallelJob {
  /// References per block: the columns of the score tile.
  static let referenceBlock = 1024
  /// Candidates kept beyond k, so that Float32 rounding rarely decides who is in.
  static let margin = 16

  let queries: UnsafePointer<Float>
  let queryCount: Int
  /// Queries per block: the rows of the score tile.
  let queryBlock: Int
  /// The whole reference table (row-major) and its labels, indexed globally.
  let references: UnsafePointer<Float>
  let labels: UnsafePointer<Float>
  let shard: UnsafePointer<Float>
  let shardStart: Int
  let shardCount: Int
  let columns: Int
  let p: Int
  let largestSquaredNorm: Double
  let neighbours: Int
  let distances: UnsafeMutablePointer<Double>
  let indices: UnsafeMutablePointer<Int>
  let neighbourLabels: UnsafeMutablePointer<Float>
  /// Queries settled by a second pass, one count per query block.
  let secondPasses: UnsafeMutablePointer<Int>

  /// Values per query row as the score kernels read them (p = 2: followed by 1).
  var width: Int { p == 2 ? columns + 1 : columns }
  /// Candidates kept per query in the first pass.
  var capacity: Int { min(neighbours + Self.margin, shardCount) }
  /// Unsettled queries searched again together: their heaps of k stay a few MB.
  var group: Int { max(1, min(queryBlock, (1 << 18) / neighbours)) }

  func run(_ blocks: Range<Int>) {
    let scratch = Scratch(self)
    defer { scratch.deallocate() }
    for block in blocks {
      let first = block * queryBlock
      let count = min(queryBlock, queryCount - first)
      let rows: UnsafePointer<Float>
      if p == 2 {
        for query in 0..<count {
          let row = scratch.rows + query * width
          row.update(from: queries + (first + query) * columns, count: columns)
          row[columns] = 1
        }
        rows = UnsafePointer(scratch.rows)
      } else {
        rows = queries + first * columns
      }
      preselect(rows: rows, count: count, scratch: scratch)
      var unsettled = 0
      for query in 0..<count where !settle(first + query, at: query, scratch: scratch) {
        scratch.unsettled[unsettled] = query
        unsettled += 1
      }
      for start in stride(from: 0, to: unsettled, by: group) {
        searchAgain(
          scratch.unsettled + start, count: min(group, unsettled - start), rows: rows,
          first: first, scratch: scratch)
      }
      secondPasses[block] = unsettled
    }
  }

  /// Per-thread buffers, allocated once per run.
  private struct Scratch {
    /// Query rows followed by 1 (p = 2).
    let rows: UnsafeMutablePointer<Float>
    let tile: UnsafeMutablePointer<Float>
    /// First pass: per query, a buffer of scores and shard-local indices, its size and
    /// threshold.
    let scores: UnsafeMutablePointer<Float>
    let locals: UnsafeMutablePointer<Int32>
    let buffer: Int
    let sizes: UnsafeMutablePointer<Int>
    let thresholds: UnsafeMutablePointer<Float>
    /// One query's candidates with exact distances.
    let exactDistances: UnsafeMutablePointer<Double>
    let exactIndices: UnsafeMutablePointer<Int>
    /// Second pass: the unsettled queries (positions in the block), their squared norms
    /// and k-th distances, and a max-heap of k per query of a group.
    let unsettled: UnsafeMutablePointer<Int>
    let squaredNorms: UnsafeMutablePointer<Double>
    let bounds: UnsafeMutablePointer<Double>
    let groupRows: UnsafeMutablePointer<Float>
    let cutoffs: UnsafeMutablePointer<Float>
    let heapDistances: UnsafeMutablePointer<Double>
    let heapIndices: UnsafeMutablePointer<Int>
    let heapSizes: UnsafeMutablePointer<Int>

    init(_ search: NeighbourSearch) {
      let (queryBlock, width, capacity) = (search.queryBlock, search.width, search.capacity)
      rows = .allocate(capacity: queryBlock * width)
      tile = .allocate(capacity: queryBlock * NeighbourSearch.referenceBlock)
      buffer = 2 * capacity + 16
      scores = .allocate(capacity: queryBlock * buffer)
      locals = .allocate(capacity: queryBlock * buffer)
      sizes = .allocate(capacity: queryBlock)
      thresholds = .allocate(capacity: queryBlock)
      exactDistances = .allocate(capacity: capacity)
      exactIndices = .allocate(capacity: capacity)
      unsettled = .allocate(capacity: queryBlock)
      squaredNorms = .allocate(capacity: queryBlock)
      bounds = .allocate(capacity: queryBlock)
      groupRows = .allocate(capacity: search.group * width)
      cutoffs = .allocate(capacity: search.group)
      heapDistances = .allocate(capacity: search.group * search.neighbours)
      heapIndices = .allocate(capacity: search.group * search.neighbours)
      heapSizes = .allocate(capacity: search.group)
    }

    func deallocate() {
      for pointer in [
        UnsafeMutableRawPointer(rows), UnsafeMutableRawPointer(tile),
        UnsafeMutableRawPointer(scores), UnsafeMutableRawPointer(locals),
        UnsafeMutableRawPointer(sizes), UnsafeMutableRawPointer(thresholds),
        UnsafeMutableRawPointer(exactDistances), UnsafeMutableRawPointer(exactIndices),
        UnsafeMutableRawPointer(unsettled), UnsafeMutableRawPointer(squaredNorms),
        UnsafeMutableRawPointer(bounds), UnsafeMutableRawPointer(groupRows),
        UnsafeMutableRawPointer(cutoffs), UnsafeMutableRawPointer(heapDistances),
        UnsafeMutableRawPointer(heapIndices), UnsafeMutableRawPointer(heapSizes),
      ] {
        pointer.deallocate()
      }
    }
  }

  /// The scores of `count` query rows (stride `width`) against the shard's rows `start ..<
  /// start + blockWidth`, into rows of `tile` (stride `ldc`).
  private func scores(
    rows: UnsafePointer<Float>, count: Int, start: Int, blockWidth: Int,
    tile: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if p == 2 {
      gemm(
        .none, .transposed, m: count, n: blockWidth, k: width, a: rows, lda: width,
        b: shard + start * width, ldb: width, c: tile, ldc: ldc)
    } else {
      manhattanScores(
        rows: rows, count: count, start: start, blockWidth: blockWidth, tile: tile, ldc: ldc)
    }
  }

  /// The first pass over the shard for one block of query rows: each query's buffer ends
  /// with its best `capacity` scores (all of the shard's when it has no more), and its
  /// threshold with a score that every reference left out is at most.
  private func preselect(rows: UnsafePointer<Float>, count: Int, scratch: Scratch) {
    let referenceBlock = Self.referenceBlock
    let capacity = capacity
    scratch.sizes.update(repeating: 0, count: count)
    scratch.thresholds.update(repeating: -.infinity, count: count)
    var start = 0
    while start < shardCount {
      let blockWidth = min(referenceBlock, shardCount - start)
      scores(
        rows: rows, count: count, start: start, blockWidth: blockWidth, tile: scratch.tile,
        ldc: referenceBlock)
      for query in 0..<count {
        keepBest(
          scratch.tile + query * referenceBlock, count: blockWidth, start: start,
          scores: scratch.scores + query * scratch.buffer,
          locals: scratch.locals + query * scratch.buffer, size: &scratch.sizes[query],
          threshold: &scratch.thresholds[query], capacity: capacity)
      }
      start += blockWidth
    }
    for query in 0..<count where scratch.sizes[query] > capacity {
      scratch.thresholds[query] = keepLargest(
        scratch.scores + query * scratch.buffer, scratch.locals + query * scratch.buffer,
        count: scratch.sizes[query], keep: capacity)
      scratch.sizes[query] = capacity
    }
  }

  /// Offers one query's scores of a reference block to its buffer (twice `capacity`, and
  /// a chunk): a score enters only above the threshold; a full buffer keeps its best
  /// `capacity`, and the threshold becomes the worst of those.
  @inline(__always)
  private func keepBest(
    _ row: UnsafePointer<Float>, count: Int, start: Int, scores: UnsafeMutablePointer<Float>,
    locals: UnsafeMutablePointer<Int32>, size keptSize: inout Int,
    threshold keptThreshold: inout Float, capacity: Int
  ) {
    // Locals, not the inout places: those could alias the buffers for the compiler.
    var size = keptSize
    var threshold = keptThreshold
    defer {
      keptSize = size
      keptThreshold = threshold
    }
    var thresholds = SIMD16(repeating: threshold)
    var j = 0
    // Sixteen at a time: almost every chunk has no score above the threshold.
    while j < count {
      if j + 16 <= count {
        let chunk = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
        if !any(chunk .> thresholds) {
          j += 16
          continue
        }
      }
      let end = min(j + 16, count)
      // Branch-free: every score is written after the kept ones, and kept if above the
      // threshold.
      while j < end {
        let score = row[j]
        scores[size] = score
        locals[size] = Int32(start + j)
        size += score > threshold ? 1 : 0
        j += 1
      }
      if size >= 2 * capacity {
        threshold = keepLargest(scores, locals, count: size, keep: capacity)
        size = capacity
        thresholds = SIMD16(repeating: threshold)
      }
    }
  }

  /// Recomputes the candidates' distances exactly and writes the query's k best, unless
  /// the Float32 bound cannot vouch for them: then it leaves the query for a second pass,
  /// with its squared norm and k-th distance so far, and returns false.
  private func settle(_ query: Int, at position: Int, scratch: Scratch) -> Bool {
    let q = queries + query * columns
    let size = scratch.sizes[position]
    let locals = scratch.locals + position * scratch.buffer
    for candidate in 0..<size {
      let index = shardStart + Int(locals[candidate])
      scratch.exactDistances[candidate] = exactDistance(
        q, references + index * columns, columns: columns, p: p)
      scratch.exactIndices[candidate] = index
    }
    sortAscending(scratch.exactDistances, scratch.exactIndices, count: size)
    let kept = min(neighbours, size)
    if size < shardCount {
      var squaredNorm = 0.0
      for column in 0..<columns { squaredNorm += Double(q[column]) * Double(q[column]) }
      // Every reference left out scored at most the threshold; one as near as the k-th
      // would score at least the cutoff.
      let bound = scratch.exactDistances[kept - 1]
      guard Double(scratch.thresholds[position]) < smallestScore(within: bound, squaredNorm)
      else {
        scratch.squaredNorms[position] = squaredNorm
        scratch.bounds[position] = bound
        return false
      }
    }
    write(query, scratch.exactDistances, scratch.exactIndices, count: kept)
    return true
  }

  /// The query's neighbours into the output, padded after `count`.
  private func write(
    _ query: Int, _ nearest: UnsafePointer<Double>, _ nearestIndices: UnsafePointer<Int>,
    count: Int
  ) {
    let out = query * neighbours
    for slot in 0..<neighbours {
      if slot < count {
        distances[out + slot] = nearest[slot]
        indices[out + slot] = nearestIndices[slot]
        neighbourLabels[out + slot] = labels[nearestIndices[slot]]
      } else {
        distances[out + slot] = .infinity
        indices[out + slot] = NeighbourCandidates.paddingIndex
        neighbourLabels[out + slot] = 0
      }
    }
  }

  /// The smallest Float32 score a reference within exact distance `distance` of the query
  /// can have (less, and it is certainly farther). The scores' rounding error is bounded
  /// as for any sum of n terms, |error| ≤ n·u·Σ|terms| (u = 2⁻²⁴), taken twice over; for
  /// p = 2 with Σ|q_i·r_i| + ‖r‖²/2 ≤ ‖q‖²/2 + ‖r‖².
  private func smallestScore(within distance: Double, _ squaredNorm: Double) -> Double {
    let unit = 0x1p-24
    if p == 2 {
      let error = 2 * Double(columns + 3) * unit * (squaredNorm + 2 * largestSquaredNorm)
      return (squaredNorm - distance - error) / 2
    }
    return -distance / (1 - 2 * Double(columns + 2) * unit)
  }

  /// The second pass for a group of unsettled queries (positions in the block): their
  /// scores again, and an exact distance for every reference whose score allows it within
  /// the query's k-th distance so far, kept in a max-heap of k by (distance, index).
  private func searchAgain(
    _ group: UnsafePointer<Int>, count: Int, rows: UnsafePointer<Float>, first: Int,
    scratch: Scratch
  ) {
    let k = neighbours
    let referenceBlock = Self.referenceBlock
    for member in 0..<count {
      let position = group[member]
      (scratch.groupRows + member * width).update(from: rows + position * width, count: width)
      scratch.heapSizes[member] = 0
      scratch.cutoffs[member] = floatAtMost(
        smallestScore(within: scratch.bounds[position], scratch.squaredNorms[position]))
    }
    var start = 0
    while start < shardCount {
      let blockWidth = min(referenceBlock, shardCount - start)
      scores(
        rows: scratch.groupRows, count: count, start: start, blockWidth: blockWidth,
        tile: scratch.tile, ldc: referenceBlock)
      for member in 0..<count {
        let position = group[member]
        keepExact(
          scratch.tile + member * referenceBlock, count: blockWidth, start: start,
          query: first + position, squaredNorm: scratch.squaredNorms[position],
          bound: &scratch.bounds[position], cutoff: &scratch.cutoffs[member],
          distances: scratch.heapDistances + member * k,
          indices: scratch.heapIndices + member * k, size: &scratch.heapSizes[member])
      }
      start += blockWidth
    }
    for member in 0..<count {
      sortHeapAscending(
        scratch.heapDistances + member * k, scratch.heapIndices + member * k, count: k)
      write(
        first + group[member], scratch.heapDistances + member * k,
        scratch.heapIndices + member * k, count: k)
    }
  }

  /// Offers one query's scores of a reference block to its exact heap of k: a reference
  /// scoring at least the cutoff gets its exact distance; the bound (and with it the
  /// cutoff) falls to the heap's k-th once the heap is full. The first bound is the k-th
  /// distance among the candidates, so the heap fills.
  @inline(__always)
  private func keepExact(
    _ row: UnsafePointer<Float>, count: Int, start: Int, query: Int, squaredNorm: Double,
    bound keptBound: inout Double, cutoff keptCutoff: inout Float,
    distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int>,
    size keptSize: inout Int
  ) {
    let k = neighbours
    let q = queries + query * columns
    var (bound, cutoff, size) = (keptBound, keptCutoff, keptSize)
    defer { (keptBound, keptCutoff, keptSize) = (bound, cutoff, size) }
    var cutoffs = SIMD16(repeating: cutoff)
    var j = 0
    while j < count {
      if j + 16 <= count {
        let chunk = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
        if !any(chunk .>= cutoffs) {
          j += 16
          continue
        }
      }
      let end = min(j + 16, count)
      while j < end {
        defer { j += 1 }
        guard row[j] >= cutoff else { continue }
        let index = shardStart + start + j
        let exact = exactDistance(q, references + index * columns, columns: columns, p: p)
        if size < k {
          guard exact <= bound else { continue }
          siftUpMax(exact, index, distances, indices, at: size)
          size += 1
        } else if precedes(exact, index, distances[0], indices[0]) {
          siftDownMax(exact, index, distances, indices, from: 0, size: k)
        } else {
          continue
        }
        // Rows come in index order: one at the k-th distance can no longer displace it.
        if size == k && distances[0] < bound {
          bound = distances[0]
          cutoff = floatAtMost(smallestScore(within: bound, squaredNorm))
          cutoffs = SIMD16(repeating: cutoff)
        }
      }
    }
  }

  /// −Σ|q − r| in Float32 for `count` query rows (stride `columns`) against the shard's
  /// rows `start ..< start + blockWidth`, into rows of `tile` (a panel at a time, so up to
  /// the next multiple of 16): two queries and a panel at a time, their sums held in
  /// registers while the features go by.
  private func manhattanScores(
    rows: UnsafePointer<Float>, count: Int, start: Int, blockWidth: Int,
    tile: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let panel = ReferenceShard.panel
    let signless = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
    @inline(__always) func magnitude(_ value: SIMD16<Float>) -> SIMD16<Float> {
      unsafeBitCast(
        unsafeBitCast(value, to: SIMD16<UInt32>.self) & signless, to: SIMD16<Float>.self)
    }
    for pair in stride(from: 0, to: count, by: 2) {
      // An odd last query is paired with itself.
      let second = min(pair + 1, count - 1)
      let a = rows + pair * columns
      let b = rows + second * columns
      let rowA = tile + pair * ldc
      let rowB = tile + second * ldc
      for j in stride(from: 0, to: blockWidth, by: panel) {
        let values = shard + (start + j) / panel * columns * panel
        var sumA = SIMD16<Float>()
        var sumB = SIMD16<Float>()
        for column in 0..<columns {
          let line = UnsafeRawPointer(values + column * panel).loadUnaligned(
            as: SIMD16<Float>.self)
          sumA += magnitude(line - SIMD16(repeating: a[column]))
          sumB += magnitude(line - SIMD16(repeating: b[column]))
        }
        UnsafeMutableRawPointer(rowA + j).storeBytes(of: -sumA, as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(rowB + j).storeBytes(of: -sumB, as: SIMD16<Float>.self)
      }
    }
  }
}

/// The largest Float at most `value`.
private func floatAtMost(_ value: Double) -> Float {
  let rounded = Float(value)
  return Double(rounded) > value ? rounded.nextDown : rounded
}

// MARK: Selection and sorting

/// Moves the `keep` largest scores to the front (Hoare's selection, in place) and returns
/// the smallest of them: every score moved behind is at most that.
private func keepLargest(
  _ scores: UnsafeMutablePointer<Float>, _ locals: UnsafeMutablePointer<Int32>, count: Int,
  keep: Int
) -> Float {
  let target = keep - 1
  var low = 0
  var high = count - 1
  while low < high {
    let (a, b, c) = (scores[low], scores[low + (high - low) / 2], scores[high])
    let pivot = max(min(a, b), min(max(a, b), c))
    var i = low
    var j = high
    while i <= j {
      while scores[i] > pivot { i += 1 }
      while scores[j] < pivot { j -= 1 }
      if i <= j {
        (scores[i], scores[j]) = (scores[j], scores[i])
        (locals[i], locals[j]) = (locals[j], locals[i])
        i += 1
        j -= 1
      }
    }
    // Now scores[low...j] ≥ pivot ≥ scores[i...high], and those between equal the pivot.
    if target <= j {
      high = j
    } else if target >= i {
      low = i
    } else {
      break
    }
  }
  var smallest = scores[0]
  for position in 1..<keep { smallest = min(smallest, scores[position]) }
  return smallest
}

/// Adds (distance, index) at `position` (the size) of a max-heap by (distance, index).
@inline(__always)
private func siftUpMax(
  _ distance: Double, _ index: Int, _ distances: UnsafeMutablePointer<Double>,
  _ indices: UnsafeMutablePointer<Int>, at position: Int
) {
  var position = position
  while position > 0 {
    let parent = (position - 1) / 2
    guard precedes(distances[parent], indices[parent], distance, index) else { break }
    distances[position] = distances[parent]
    indices[position] = indices[parent]
    position = parent
  }
  distances[position] = distance
  indices[position] = index
}

/// Places (distance, index) at `position` of a max-heap by (distance, index) whose
/// children are in order, moving larger children up.
@inline(__always)
private func siftDownMax(
  _ distance: Double, _ index: Int, _ distances: UnsafeMutablePointer<Double>,
  _ indices: UnsafeMutablePointer<Int>, from position: Int, size: Int
) {
  var position = position
  while true {
    var child = 2 * position + 1
    guard child < size else { break }
    if child + 1 < size
      && precedes(distances[child], indices[child], distances[child + 1], indices[child + 1])
    {
      child += 1
    }
    guard precedes(distance, index, distances[child], indices[child]) else { break }
    distances[position] = distances[child]
    indices[position] = indices[child]
    position = child
  }
  distances[position] = distance
  indices[position] = index
}

/// Sorts pairs ascending by (distance, index) in place (heapsort: no allocation).
private func sortAscending(
  _ distances: UnsafeMutablePointer<Double>, _ indices: UnsafeMutablePointer<Int>, count: Int
) {
  guard count > 1 else { return }
  for position in stride(from: count / 2 - 1, through: 0, by: -1) {
    siftDownMax(
      distances[position], indices[position], distances, indices, from: position, size: count)
  }
  sortHeapAscending(distances, indices, count: count)
}

/// Sorts a max-heap by (distance, index) ascending, in place.
private func sortHeapAscending(
  _ distances: UnsafeMutablePointer<Double>, _ indices: UnsafeMutablePointer<Int>, count: Int
) {
  var size = count
  while size > 1 {
    size -= 1
    let (distance, index) = (distances[size], indices[size])
    distances[size] = distances[0]
    indices[size] = indices[0]
    siftDownMax(distance, index, distances, indices, from: 0, size: size)
  }
}
