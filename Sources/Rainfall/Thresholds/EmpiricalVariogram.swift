/// The empirical semivariogram of values at sites, binned as pykrige bins it: the
/// great-circle distances of all pairs (degrees of arc) cut into `lagCount` equal bins
/// between the smallest and the largest (the last bin's end 0.001° beyond, so the largest
/// pair falls in); per non-empty bin, the mean distance (the lag) and the mean of
/// ½ (zᵢ − zⱼ)² over its pairs. Empty bins are left out.
public struct EmpiricalVariogram: Codable, Equatable, Sendable {
  public struct Bin: Codable, Equatable, Sendable {
    /// Mean pair distance, degrees of arc.
    public var lag: Double
    public var semivariance: Double
    public var pairs: Int
  }

  public var bins: [Bin]

  public init(bins: [Bin]) { self.bins = bins }

  /// Two passes over the n(n − 1)/2 pairs (the extent of the distances, then the bins), so
  /// that no pair list is held: 3000 sites make 4.5 million pairs.
  public init(sites: [GeographicPoint], values: [Double], lagCount: Int = 6) {
    precondition(sites.count == values.count, "\(values.count) values for \(sites.count) sites")
    precondition(lagCount > 0, "no lag bins")
    let vectors = sites.map(\.unitVector)
    var shortest = Double.infinity
    var longest = -Double.infinity
    for i in vectors.indices {
      for j in 0..<i {
        let d = GeographicPoint.arcDegrees(vectors[i], vectors[j])
        shortest = min(shortest, d)
        longest = max(longest, d)
      }
    }
    guard shortest <= longest else {
      bins = []
      return
    }
    let width = (longest - shortest) / Double(lagCount)
    let lastEnd = longest + 0.001
    func start(_ bin: Int) -> Double { shortest + Double(bin) * width }
    func end(_ bin: Int) -> Double { bin == lagCount - 1 ? lastEnd : start(bin + 1) }
    var distanceSums = [Double](repeating: 0, count: lagCount)
    var semivarianceSums = [Double](repeating: 0, count: lagCount)
    var counts = [Int](repeating: 0, count: lagCount)
    for i in vectors.indices {
      for j in 0..<i {
        let d = GeographicPoint.arcDegrees(vectors[i], vectors[j])
        // The division's guess, settled by the same comparisons as pykrige's
        // `(d >= bins[n]) & (d < bins[n + 1])`.
        var bin = width > 0 ? min(Int((d - shortest) / width), lagCount - 1) : lagCount - 1
        while bin > 0 && d < start(bin) { bin -= 1 }
        while bin < lagCount - 1 && d >= end(bin) { bin += 1 }
        let difference = values[i] - values[j]
        distanceSums[bin] += d
        semivarianceSums[bin] += 0.5 * difference * difference
        counts[bin] += 1
      }
    }
    bins = (0..<lagCount).filter { counts[$0] > 0 }.map {
      Bin(
        lag: distanceSums[$0] / Double(counts[$0]),
        semivariance: semivarianceSums[$0] / Double(counts[$0]), pairs: counts[$0])
    }
  }
}
