#if canImport(Glibc)
  import Glibc
#endif

/// Irregular contiguous units (geological formations, soil bodies, fields and woods) as the
/// cells of a noise-warped Voronoi partition: one seed point per square of a lattice of
/// `spacing` metres, jittered within its square, and each point (x, y) given to the seed
/// nearest to (x, y) displaced by two smooth noise fields of amplitude `warp`, so that unit
/// borders wander as mapped ones do instead of running straight. Units are numbered over the
/// lattice squares that a `width` × `height` metre area can reach.
public struct CategoricalUnits {
  let spacing: Double
  let warp: Double
  private let jitter: LatticeNoise
  private let warpX: LatticeNoise
  private let warpY: LatticeNoise
  /// The lattice column and row of unit 0, and the columns per row.
  private let first: Int
  private let columns: Int
  /// Seed points of the units (metres), row by row of the lattice.
  private let seedX: [Double]
  private let seedY: [Double]

  public var count: Int { seedX.count }

  /// Seeds lie within ±0.3 spacing of their square's centre: close enough that the nearest
  /// seed of any point is in the 3 × 3 squares around it (√2 (0.5 + a) ≤ 1.5 − a).
  static let jitterFraction = 0.3

  /// Uses the noise layers `layer` (jitter and the units' own draws), `layer + 1` and
  /// `layer + 2` (the warp) of `seed`.
  public init(
    seed: UInt64, layer: UInt64, spacing: Double, warp: Double, width: Double, height: Double
  ) {
    self.spacing = spacing
    self.warp = warp
    let jitter = LatticeNoise(seed: seed, layer: layer)
    self.jitter = jitter
    warpX = LatticeNoise(seed: seed, layer: layer &+ 1)
    warpY = LatticeNoise(seed: seed, layer: layer &+ 2)
    // The warp moves a point by less than `warp`, so its square and the squares around it
    // lie within these.
    let first = Int(floor(-warp / spacing)) - 1
    let columns = Int(floor((width + warp) / spacing)) + 2 - first
    let rows = Int(floor((height + warp) / spacing)) + 2 - first
    let a = CategoricalUnits.jitterFraction
    var (seedX, seedY) = ([Double](), [Double]())
    for row in first..<(first + rows) {
      for column in first..<(first + columns) {
        seedX.append((Double(column) + 0.5 + a * jitter.lattice(column, row, octave: 0)) * spacing)
        seedY.append((Double(row) + 0.5 + a * jitter.lattice(column, row, octave: 1)) * spacing)
      }
    }
    (self.first, self.columns, self.seedX, self.seedY) = (first, columns, seedX, seedY)
  }

  /// The seed point of a unit (metres).
  func seed(_ unit: Int) -> (x: Double, y: Double) { (seedX[unit], seedY[unit]) }

  /// The unit holding the point (x, y) (metres).
  public func unit(_ x: Double, _ y: Double) -> Int {
    let wavelength = 1.5 * spacing
    let px = x + warp * warpX.fractal(x, y, wavelength: wavelength, octaves: 2)
    let py = y + warp * warpY.fractal(x, y, wavelength: wavelength, octaves: 2)
    let column = Int(floor(px / spacing)) - first
    let row = Int(floor(py / spacing)) - first
    var (best, nearest) = (Double.infinity, 0)
    for r in (row - 1)...(row + 1) {
      for unit in (r * columns + column - 1)...(r * columns + column + 1) {
        let (dx, dy) = (seedX[unit] - px, seedY[unit] - py)
        if dx * dx + dy * dy < best { (best, nearest) = (dx * dx + dy * dy, unit) }
      }
    }
    return nearest
  }

  /// A uniform number in [0, 1) of a unit, the `draw`-th (≥ 2; 0 and 1 place its seed).
  public func uniform(_ unit: Int, draw: Int) -> Double {
    (jitter.lattice(unit % columns + first, unit / columns + first, octave: draw) + 1) / 2
  }

  /// The code of `options` whose share of the summed weights covers `u` ∈ [0, 1).
  static func pick(_ options: [(code: Int, weight: Double)], _ u: Double) -> Int {
    var remaining = u * options.reduce(0) { $0 + $1.weight }
    for option in options {
      remaining -= option.weight
      if remaining < 0 { return option.code }
    }
    return options[options.count - 1].code
  }
}

extension ClassicalSyntheticArea {
  /// Lithology, codes 1–20: five formations stacked by stratigraphic level (elevation, plus
  /// warped noise of ±90 m and a gentle eastward dip, in layers 170 m thick), each with four
  /// facies that change from one unit (~1.2 km) to the next, picked with weights 4:3:2:1:
  /// 1–4 Quaternary deposits (alluvium, terrace gravel, pumice flow, dune sand), 5–8 Pliocene
  /// marine sediments (mudstone, sandstone, conglomerate, tuff), 9–12 Miocene sediments
  /// (sandstone–mudstone, conglomerate, non-marine beds, tuff breccia), 13–16 Cretaceous to
  /// Palaeogene groups (mudstone, sandstone, alternations, chert), 17–20 Kamuikotan
  /// metamorphic and ultramafic rocks (pelitic schist, mafic schist, serpentinite, gabbro).
  static func lithology(_ area: Area, elevation: [Float]) -> [Float] {
    let units = area.units(layer: 30, spacing: 1200, warp: 400)
    let facies = (0..<units.count).map {
      CategoricalUnits.pick([(0, 4), (1, 3), (2, 2), (3, 1)], units.uniform($0, draw: 2))
    }
    let level = area.noise(33)
    return area.layer { index, x, y in
      let stratigraphic =
        Double(elevation[index]) + 90 * level.fractal(x, y, wavelength: 5000, octaves: 3)
        + 0.004 * x
      let formation = min(4, max(0, Int(floor(stratigraphic / 170))))
      return Float(1 + 4 * formation + facies[units.unit(x, y)])
    }
  }

  /// Soil, codes 1–17, one per unit (~500 m) from the ground at its seed: lowland (below
  /// 50 m, flatter than 4°): 1 grey lowland, 2 gley, 3 peat, 4 brown lowland soil; thick
  /// tephra (from the volcanoes to the west, thinning eastwards): 8 brown forest soil with
  /// coarse volcanic immature soil, 11 andosol, 12 wet andosol, 13 layered andosol,
  /// 14 volcanic immature soil; high (above 600 m): 9 and 10 brown forest soils (moist,
  /// wet), 15 podzolic soil; steep (steeper than 25°): 5 lithosol, 6 immature soil, 7 dry
  /// brown forest soil, 8; elsewhere 7, 9, 10, 16 grey upland soil, 17 red–yellow soil.
  static func soil(_ area: Area, elevation: [Float], slope: [Float]) -> [Float] {
    let units = area.units(layer: 35, spacing: 500, warp: 170)
    let tephraNoise = area.noise(38)
    let codes = (0..<units.count).map { unit -> Float in
      let (x, y) = units.seed(unit)
      let (z, steepness) = (area.sample(elevation, x, y), area.meanSlope(slope, x, y))
      let tephra =
        0.8 * exp(-x / 20_000) - 0.5 + 0.8 * tephraNoise.fractal(x, y, wavelength: 4000, octaves: 3)
      let options: [(code: Int, weight: Double)] =
        if z < 50 && steepness < 4 {
          [(1, 4), (2, 3), (3, 1.5), (4, 1.5)]
        } else if tephra > 0 {
          [(11, 3.5), (13, 2.5), (14, 2), (12, 1), (8, 1)]
        } else if z > 600 {
          [(15, 4), (9, 3), (10, 3)]
        } else if steepness > 25 {
          [(5, 3), (6, 3), (8, 2), (7, 2)]
        } else {
          [(7, 2), (9, 3), (10, 2.5), (16, 1.5), (17, 1)]
        }
      return Float(CategoricalUnits.pick(options, units.uniform(unit, draw: 2)))
    }
    return area.layer { _, x, y in codes[units.unit(x, y)] }
  }

  /// Land use, codes 1–12, one per unit (~300 m) from the ground at its seed: low flats
  /// (below 40 m, flatter than 3°) 1 paddy, 2 other farmland, 5 buildings, 7 other land;
  /// gentle low ground (below 200 m, flatter than 8°) 2, 1, 11 pasture, 5, 10 golf course,
  /// 4 wasteland; elsewhere mostly 3 forest, with 4, 11, 12 orchard and 7. Drawn over the
  /// units: 6 roads, 8 rivers (`stream`), 9 beach (within 60 m of the sea).
  static func landUse(
    _ area: Area, elevation: [Float], slope: [Float], road: [Bool], stream: [Bool]
  ) -> [Float] {
    let units = area.units(layer: 40, spacing: 300, warp: 100)
    let codes = (0..<units.count).map { unit -> Float in
      let (x, y) = units.seed(unit)
      let (z, steepness) = (area.sample(elevation, x, y), area.meanSlope(slope, x, y))
      let options: [(code: Int, weight: Double)] =
        if z < 40 && steepness < 3 {
          [(1, 5), (2, 2), (5, 2), (7, 1)]
        } else if z < 200 && steepness < 8 {
          [(2, 4), (1, 2), (11, 2), (5, 1), (10, 0.5), (4, 0.5)]
        } else {
          [(3, 85), (4, 5), (11, 4), (12, 3), (7, 3)]
        }
      return Float(CategoricalUnits.pick(options, units.uniform(unit, draw: 2)))
    }
    return area.layer { index, x, y in
      if road[index] { return 6 }
      if stream[index] { return 8 }
      if area.inland(index) < 60 { return 9 }
      return codes[units.unit(x, y)]
    }
  }
}
