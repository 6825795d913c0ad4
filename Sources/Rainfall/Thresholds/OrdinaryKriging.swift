import TensorEngine

/// Ordinary kriging of values at sites on the sphere with a spherical semivariogram and a
/// moving neighbourhood: each point is estimated from its `neighbours` nearest sites
/// (ArcGIS's "variable" search radius: whatever distance holds them), the weights solving
///
///     [ Γ  1 ] [ w ]   [ γ₀ ]
///     [ 1ᵀ 0 ] [ μ ] = [ 1  ]
///
/// with Γᵢⱼ = γ(dᵢⱼ) (0 on the diagonal) and γ₀ᵢ = γ(distance from the point to site i),
/// the nugget itself at distance 0: the nugget is taken as noise in the per-site
/// thresholds (each is a mean of a few events' model searches), so the surface passes
/// near a site's value rather than through it, and a map cell centred on a site (sites are
/// rain cells, on the maps' lattice) shows no spike. Without a nugget the estimate is the
/// site's value there, with zero variance. The estimate is wᵀz, the kriging variance
/// wᵀγ₀ + μ (rounding below 0 taken as 0). Distances are great-circle degrees of arc.
/// This is pykrige's `OrdinaryKriging(coordinates_type="geographic", exact_values=False)`
/// with `execute(..., n_closest_points=k)`.
public struct OrdinaryKriging: Sendable {
  public let sites: [GeographicPoint]
  public let values: [Double]
  public let variogram: SphericalVariogram
  /// Sites per estimate (all of them when there are fewer).
  public let neighbours: Int
  private let tree: NearestSites

  public init(
    sites: [GeographicPoint], values: [Double], variogram: SphericalVariogram,
    neighbours: Int = 12
  ) {
    precondition(sites.count == values.count, "\(values.count) values for \(sites.count) sites")
    precondition(!sites.isEmpty && neighbours > 0, "kriging needs sites and neighbours")
    self.sites = sites
    self.values = values
    self.variogram = variogram
    self.neighbours = min(neighbours, sites.count)
    tree = NearestSites(sites.map(\.unitVector))
  }

  public struct Prediction: Equatable, Sendable {
    public var estimates: [Double]
    /// Kriging variances (units of the values squared).
    public var variances: [Double]
    /// Points whose kriging system was singular (sites at the same place with no nugget):
    /// NaN in both arrays.
    public var singular: Int
  }

  /// Estimates and variances at `points`, in parallel over the engine's threads.
  public func predict(at points: [GeographicPoint]) -> Prediction {
    var estimates = [Double](repeating: .nan, count: points.count)
    var variances = [Double](repeating: .nan, count: points.count)
    let size = neighbours + 1
    points.withUnsafeBufferPointer { points in
      values.withUnsafeBufferPointer { values in
        estimates.withUnsafeMutableBufferPointer { estimates in
          variances.withUnsafeMutableBufferPointer { variances in
            let job = KrigingJob(
              tree: tree, values: values.baseAddress!, variogram: variogram,
              neighbours: neighbours, points: points.baseAddress!,
              estimates: estimates.baseAddress!, variances: variances.baseAddress!)
            ThreadPool.shared.parallelFor(
              points.count, work: points.count * size * size * size, job)
          }
        }
      }
    }
    return Prediction(
      estimates: estimates, variances: variances, singular: estimates.count(where: \.isNaN))
  }
}

/// Kriges a contiguous range of points with buffers allocated once per range.
private struct KrigingJob: ParallelJob {
  let tree: NearestSites
  let values: UnsafePointer<Double>
  let variogram: SphericalVariogram
  let neighbours: Int
  let points: UnsafePointer<GeographicPoint>
  let estimates: UnsafeMutablePointer<Double>
  let variances: UnsafeMutablePointer<Double>

  func run(_ range: Range<Int>) {
    let n = neighbours
    let size = n + 1
    let sites = UnsafeMutablePointer<Int>.allocate(capacity: n)
    let chords = UnsafeMutablePointer<Double>.allocate(capacity: n)
    let vectors = UnsafeMutablePointer<SIMD3<Double>>.allocate(capacity: n)
    // The system [A | b] row by row, then its solution in b.
    let system = UnsafeMutablePointer<Double>.allocate(capacity: size * (size + 1))
    let targets = UnsafeMutablePointer<Double>.allocate(capacity: n)
    defer {
      sites.deallocate()
      chords.deallocate()
      vectors.deallocate()
      system.deallocate()
      targets.deallocate()
    }
    let width = size + 1
    tree.vectors.withUnsafeBufferPointer { siteVectors in
      for index in range {
        let point = points[index].unitVector
        tree.nearest(to: point, k: n, sites: sites, squaredChords: chords)
        for i in 0..<n { vectors[i] = siteVectors[sites[i]] }
        for i in 0..<n {
          system[i * width + i] = 0
          for j in 0..<i {
            let gamma = variogram(GeographicPoint.arcDegrees(vectors[i], vectors[j]))
            system[i * width + j] = gamma
            system[j * width + i] = gamma
          }
          system[i * width + n] = 1
          system[n * width + i] = 1
          targets[i] = variogram(GeographicPoint.arcDegrees(point, vectors[i]))
          system[i * width + size] = targets[i]
        }
        system[n * width + n] = 0
        system[n * width + size] = 1
        guard solveInPlace(system, size: size) else { continue }
        var estimate = 0.0
        var variance = system[n * width + size]
        for i in 0..<n {
          let weight = system[i * width + size]
          estimate += weight * values[sites[i]]
          variance += weight * targets[i]
        }
        estimates[index] = estimate
        variances[index] = max(0, variance)
      }
    }
  }
}

/// Solves the `size` × `size` system stored as rows of [A | b] by Gaussian elimination
/// with partial pivoting (the kriging matrix has zeros on its diagonal, so pivoting is
/// needed); the solution replaces b. False when a pivot is zero to rounding, relative to
/// the largest entry of A: a singular system.
@inline(__always)
private func solveInPlace(_ system: UnsafeMutablePointer<Double>, size: Int) -> Bool {
  let width = size + 1
  var largest = 0.0
  for row in 0..<size {
    for column in 0..<size { largest = max(largest, abs(system[row * width + column])) }
  }
  let tolerance = 1e-13 * largest
  for column in 0..<size {
    var pivot = column
    for row in (column + 1)..<size
    where abs(system[row * width + column]) > abs(system[pivot * width + column]) {
      pivot = row
    }
    guard abs(system[pivot * width + column]) > tolerance else { return false }
    if pivot != column {
      for k in column..<width {
        (system[pivot * width + k], system[column * width + k]) =
          (system[column * width + k], system[pivot * width + k])
      }
    }
    let inverse = 1 / system[column * width + column]
    for row in (column + 1)..<size {
      let factor = system[row * width + column] * inverse
      guard factor != 0 else { continue }
      for k in column..<width { system[row * width + k] -= factor * system[column * width + k] }
    }
  }
  for row in stride(from: size - 1, through: 0, by: -1) {
    var sum = system[row * width + size]
    for k in (row + 1)..<size { sum -= system[row * width + k] * system[k * width + size] }
    system[row * width + size] = sum / system[row * width + row]
  }
  return true
}
