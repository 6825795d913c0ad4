import GeoData

#if canImport(Glibc)
  import Glibc
#endif

extension SyntheticCountry {
  /// The country's shape and ground: a northern plain and Alps, a peninsula down a
  /// mountain spine to the south-east, two islands; the five macro-regions; the statics.
  struct Land {
    let width: Int
    let height: Int
    let seed: UInt64
    /// Each cell's region (index into `regions`), −1 at sea.
    let region: [Int]

    init(specification s: Specification) {
      (width, height, seed) = (s.width, s.height, UInt64(s.seed))
      let noise = LatticeNoise(seed: UInt64(s.seed), layer: 40)
      var region = [Int](repeating: -1, count: s.width * s.height)
      for row in 0..<s.height {
        for column in 0..<s.width {
          let (u, v) = (Double(column) / Double(s.width), Double(row) / Double(s.height))
          let wobble = 0.04 * noise.fractal(u, v, wavelength: 0.2, octaves: 3)
          let spine = Land.distanceToSpine(u, v)
          let north = v < 0.25 + wobble && u > 0.05 + wobble && u < 0.95 + wobble
          let peninsula = v < 0.9 && spine < 0.12 + wobble
          let index = row * s.width + column
          if north || peninsula {
            region[index] = v < 0.25 + wobble ? (u < 0.5 ? 0 : 1) : (v < 0.55 ? 2 : 3)
          } else if Land.isIsland(u, v, wobble) {
            region[index] = 4
          }
        }
      }
      self.region = region
    }

    /// Distance (in shares of the grid) to the spine from (0.3, 0.2) to (0.78, 0.85).
    static func distanceToSpine(_ u: Double, _ v: Double) -> Double {
      let (ax, ay, bx, by) = (0.3, 0.2, 0.78, 0.85)
      let (dx, dy) = (bx - ax, by - ay)
      let t = max(0, min(1, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
      return hypot(u - ax - t * dx, v - ay - t * dy)
    }

    static func isIsland(_ u: Double, _ v: Double, _ wobble: Double) -> Bool {
      hypot(u - 0.14, v - 0.74) < 0.12 + wobble || hypot(u - 0.48, v - 0.95) < 0.08 + wobble
    }

    /// The statics in `staticNames` order, NaN at sea.
    func statics(grid: RasterGrid) -> [[Float]] {
      let count = width * height
      let relief = LatticeNoise(seed: seed, layer: 41)
      var elevation = [Float](repeating: .nan, count: count)
      for index in 0..<count where region[index] >= 0 {
        let (u, v) = (
          Double(index % width) / Double(width), Double(index / width) / Double(height)
        )
        let spine = 1800 * exp(-pow(Land.distanceToSpine(u, v) / 0.07, 2))
        let alps = 2600 * max(0, 0.12 - v) / 0.12
        let hills = 350 * (1 + relief.fractal(u, v, wavelength: 0.15, octaves: 5))
        elevation[index] = Float(max(1, spine + alps + hills))
      }
      let dem = ElevationModel(grid: grid, elevation: elevation)
      let surface = SurfaceDerivatives(dem)
      var aspect = [Float](repeating: .nan, count: count)
      for index in 0..<count where region[index] >= 0 {
        let degrees =
          atan2(Double(surface.eastness[index]), Double(surface.northness[index]))
          * 180 / .pi
        aspect[index] =
          surface.slopeDegrees[index] == 0
          ? -1 : Float((degrees + 360).truncatingRemainder(dividingBy: 360))
      }
      func distance(layer: UInt64, width lineWidth: Double) -> [Float] {
        let lines = LatticeNoise(seed: seed, layer: layer)
        var marked = [Bool](repeating: false, count: count)
        for index in 0..<count where region[index] >= 0 {
          let (u, v) = (
            Double(index % width) / Double(width), Double(index / width) / Double(height)
          )
          marked[index] = abs(lines.fractal(u, v, wavelength: 0.3, octaves: 3)) < lineWidth
        }
        let metres = DistanceTransform.distances(
          marked: marked, width: width, height: height, cellWidth: dem.cellWidth,
          cellHeight: dem.cellHeight)
        return metres.indices.map { region[$0] >= 0 ? Float(min(metres[$0], 1e6)) : .nan }
      }
      func classes(_ name: String, layer: UInt64, spacing: Double) -> [Float] {
        // In kilometres: a cell is 0.05° ≈ 5 km.
        let units = CategoricalUnits(
          seed: seed, layer: layer, spacing: spacing, warp: spacing / 3,
          width: 5 * Double(width), height: 5 * Double(height))
        let count = SyntheticCountry.classes[name]!
        return region.indices.map { index in
          guard region[index] >= 0 else { return .nan }
          let unit = units.unit(5 * Double(index % width), 5 * Double(index / width))
          return Float(1 + min(count - 1, Int(units.uniform(unit, draw: 2) * Double(count))))
        }
      }
      return [
        elevation,
        surface.slopeDegrees.indices.map { region[$0] >= 0 ? surface.slopeDegrees[$0] : .nan },
        aspect,
        surface.planCurvature.indices.map { region[$0] >= 0 ? surface.planCurvature[$0] : .nan },
        surface.profileCurvature.indices.map {
          region[$0] >= 0 ? surface.profileCurvature[$0] : .nan
        },
        distance(layer: 42, width: 0.025), distance(layer: 43, width: 0.03),
        classes("lithology", layer: 50, spacing: 40), classes("soil", layer: 53, spacing: 30),
        classes("land_use", layer: 56, spacing: 15),
      ]
    }
  }
}
