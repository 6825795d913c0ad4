#if canImport(Glibc)
  import Glibc
#endif

/// The process behind the synthetic inventory, per 1 km cell and period:
///   logit P(new landslides) = b₀ + 3·(slope − 25°)/8° + 10·PGA·L + 1.5·(rain − 100 mm)/60 mm + 0.5·u,
///   log(area density %) ~ N(0.6 + 0.1·(slope − 25°) + 3·PGA·L + 0.4·(rain − 100)/60, 0.3²),
/// with cell means of slope, PGA and maximum daily rain, u a standard normal per cell (the
/// unobserved ground), and L the earthquake's reach into the period: 1 while it shakes
/// (period 0), then a legacy 0.6·e^(−monsoons/1.5) that fades with each monsoon. b₀ is set
/// so that 12 % of cell-periods are expected to fail, as in the papers' data.
struct LatentProcess {
  /// Per period, per cell (row-major on the 1 km grid).
  var probability: [[Float]] = []
  /// Expected area density (%) of new landslides where they occur.
  var density: [[Float]] = []
  /// Cumulative landslide area (%) at the end of each period.
  var inventory: [[Float]] = []

  static let targetRate = 0.12

  /// - Parameters: slope, pga, rain: the cell means (`CellMeans`) of slope, mean PGA and,
  ///   per period, maximum daily rain.
  init(
    specification s: SyntheticStudyArea.Specification, slope meanSlope: [Double],
    pga meanPGA: [Double], rain meanRain: [[Double]], monsoons: [Int],
    noise: (UInt64) -> LatticeNoise
  ) {
    let cellsX = s.widthKm
    let count = cellsX * s.heightKm
    let ground = noise(50)
    let hidden = (0..<count).map { ground.gaussian($0 % cellsX, $0 / cellsX) }
    var linear: [[Double]] = []
    var logDensity: [[Double]] = []
    for period in 0..<s.periods {
      let legacy = period == 0 ? 1 : 0.6 * exp(-Double(monsoons[period]) / 1.5)
      var scores = [Double](repeating: 0, count: count)
      var means = scores
      for cell in 0..<count {
        let rainTerm = (meanRain[period][cell] - 100) / 60
        scores[cell] =
          3 * (meanSlope[cell] - 25) / 8 + 10 * meanPGA[cell] * legacy + 1.5 * rainTerm + 0.5
          * hidden[cell]
        means[cell] =
          0.6 + 0.1 * (meanSlope[cell] - 25) + 3 * meanPGA[cell] * legacy + 0.4 * rainTerm
      }
      linear.append(scores)
      logDensity.append(means)
    }
    let intercept = LatentProcess.intercept(
      for: linear.flatMap { $0 }, rate: LatentProcess.targetRate)

    var cumulative = [Float](repeating: 0, count: count)
    for period in 0..<s.periods {
      let (occurrence, size) = (noise(70 + UInt64(period)), noise(90 + UInt64(period)))
      var p = [Float](repeating: 0, count: count)
      var expected = p
      for cell in 0..<count {
        let probability = 1 / (1 + exp(-(intercept + linear[period][cell])))
        p[cell] = Float(probability)
        expected[cell] = Float(min(100, exp(logDensity[period][cell] + 0.045)))
        let (cx, cy) = (cell % cellsX, cell / cellsX)
        if (occurrence.lattice(cx, cy, octave: 0) + 1) / 2 < probability {
          let drawn = min(100, exp(logDensity[period][cell] + 0.3 * size.gaussian(cx, cy)))
          cumulative[cell] = min(100, cumulative[cell] + Float(drawn))
        } else {
          cumulative[cell] *= 0.9
        }
      }
      probability.append(p)
      density.append(expected)
      inventory.append(cumulative)
    }
  }

  /// The b₀ for which the mean of sigmoid(b₀ + scores) is `rate` (bisection).
  static func intercept(for scores: [Double], rate: Double) -> Double {
    var (low, high) = (-30.0, 30.0)
    for _ in 0..<80 {
      let middle = (low + high) / 2
      let mean = scores.reduce(0) { $0 + 1 / (1 + exp(-(middle + $1))) } / Double(scores.count)
      if mean > rate { high = middle } else { low = middle }
    }
    return (low + high) / 2
  }
}

/// The mean of a pixel layer over each cell of `pixels` × `pixels` (row-major on the cell
/// grid), gathered window by window so that no layer is ever whole in memory. Windows must
/// cover whole cells; each cell's pixels are then summed in the same row-major order
/// whatever the windows, so the means do not depend on them.
struct CellMeans {
  let cellsX: Int
  let pixels: Int
  private var totals: [Double]

  init(cellsX: Int, cellsY: Int, pixels: Int) {
    self.cellsX = cellsX
    self.pixels = pixels
    totals = Array(repeating: 0, count: cellsX * cellsY)
  }

  /// Adds `values`, row-major over `window` of the pixel grid.
  mutating func add(_ values: [Float], over window: RasterWindow) {
    precondition(
      [window.x, window.y, window.width, window.height].allSatisfy { $0 % pixels == 0 },
      "windows of cell means must cover whole cells")
    for row in 0..<window.height {
      let cellRow = (window.y + row) / pixels * cellsX
      for column in 0..<window.width {
        totals[cellRow + (window.x + column) / pixels] += Double(
          values[row * window.width + column])
      }
    }
  }

  var means: [Double] { totals.map { $0 / Double(pixels * pixels) } }
}
