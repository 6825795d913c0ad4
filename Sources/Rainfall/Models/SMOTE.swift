import Classical
import TensorEngine

/// SMOTE (Chawla et al. 2002, as imbalanced-learn's `SMOTE(k_neighbors=k)` draws it):
/// minority rows are added until the classes balance, each on the segment from a minority
/// row drawn at random to one of its `neighbours` nearest minority rows (Euclidean, on the
/// encoded features the model sees), at a uniform random point. Class-code columns, which
/// have no points between them, take the code of the nearer end. Applied to a training
/// fold only: the rows it validates on are never resampled.
public struct SMOTE: Sendable {
  public var neighbours = 5
  public var seed: UInt64 = 0

  public init(neighbours: Int = 5, seed: UInt64 = 0) {
    self.neighbours = neighbours
    self.seed = seed
  }

  /// What resampling added: the rows and, for each, the minority rows it lies between and
  /// how far along (for checks and reports).
  public struct Synthetic: Sendable {
    public var features: FeatureMatrix
    public var from: [Int]
    public var to: [Int]
    public var gap: [Float]
  }

  /// `x` and `y` with synthetic minority rows appended, and those rows' provenance.
  /// `codeColumns` are columns holding class codes. Nothing is added when the classes
  /// already balance; fewer than 2 minority rows cannot be interpolated.
  public func resample(_ x: FeatureMatrix, _ y: [Float], codeColumns: Set<Int> = [])
    throws(ClassicalError) -> (x: FeatureMatrix, y: [Float], synthetic: Synthetic)
  {
    let positives = y.indices.filter { y[$0] == 1 }
    let negatives = y.indices.filter { y[$0] != 1 }
    let (minority, label): ([Int], Float) =
      positives.count <= negatives.count ? (positives, 1) : (negatives, 0)
    let needed = abs(positives.count - negatives.count)
    let empty = Synthetic(
      features: FeatureMatrix(rows: 0, columns: x.columns, values: []), from: [], to: [], gap: [])
    guard needed > 0 else { return (x, y, empty) }
    guard minority.count >= 2 else {
      throw ClassicalError(
        "smote", "\(minority.count) minority row(s): SMOTE needs at least 2 to interpolate")
    }
    let k = min(neighbours, minority.count - 1)
    let nearest = Self.nearest(x, among: minority, k: k)
    var random = RandomGenerator(seed: seed)
    var values = [Float](repeating: 0, count: needed * x.columns)
    var synthetic = Synthetic(
      features: empty.features, from: [], to: [], gap: [])
    let isCode = (0..<x.columns).map { codeColumns.contains($0) }
    for row in 0..<needed {
      let sample = Int(random.next() % UInt64(minority.count))
      let neighbour = nearest[sample * k + Int(random.next() % UInt64(k))]
      let gap = random.nextUniform()
      let (a, b) = (minority[sample], minority[neighbour])
      for column in 0..<x.columns {
        let (start, end) = (x[a, column], x[b, column])
        values[row * x.columns + column] =
          isCode[column] ? (gap < 0.5 ? start : end) : start + gap * (end - start)
      }
      synthetic.from.append(a)
      synthetic.to.append(b)
      synthetic.gap.append(gap)
    }
    synthetic.features = FeatureMatrix(rows: needed, columns: x.columns, values: values)
    let labels = y + [Float](repeating: label, count: needed)
    return (
      FeatureMatrix(rows: x.rows + needed, columns: x.columns, values: x.values + values), labels,
      synthetic
    )
  }

  /// For each of `rows`, the positions (in `rows`) of its `k` nearest others, nearest first
  /// (ties to the lower position), brute force over the rows gathered into one buffer,
  /// keeping the best `k` as it goes: it runs once per training fold, thousands of times
  /// in a protocol, so it must cost far less than the fit it feeds.
  static func nearest(_ x: FeatureMatrix, among rows: [Int], k: Int) -> [Int] {
    let (count, columns) = (rows.count, x.columns)
    var packed = [Float](repeating: 0, count: count * columns)
    x.values.withUnsafeBufferPointer { values in
      for (i, row) in rows.enumerated() {
        for column in 0..<columns { packed[i * columns + column] = values[row * columns + column] }
      }
    }
    var result = [Int](repeating: 0, count: count * k)
    let bestDistances = UnsafeMutablePointer<Float>.allocate(capacity: k)
    let bestRows = UnsafeMutablePointer<Int>.allocate(capacity: k)
    defer {
      bestDistances.deallocate()
      bestRows.deallocate()
    }
    packed.withUnsafeBufferPointer { packed in
      result.withUnsafeMutableBufferPointer { result in
        let base = packed.baseAddress!
        for i in 0..<count {
          let a = base + i * columns
          var filled = 0
          for j in 0..<count where j != i {
            let b = base + j * columns
            var sum: Float = 0
            for column in 0..<columns {
              let d = a[column] - b[column]
              sum += d * d
            }
            // Later rows lose ties: they go after equal distances, and not in when full.
            guard filled < k || sum < bestDistances[k - 1] else { continue }
            var slot = filled < k ? filled : k - 1
            if filled < k { filled += 1 }
            while slot > 0 && bestDistances[slot - 1] > sum {
              bestDistances[slot] = bestDistances[slot - 1]
              bestRows[slot] = bestRows[slot - 1]
              slot -= 1
            }
            bestDistances[slot] = sum
            bestRows[slot] = j
          }
          for n in 0..<k { result[i * k + n] = bestRows[n] }
        }
      }
    }
    return result
  }
}
