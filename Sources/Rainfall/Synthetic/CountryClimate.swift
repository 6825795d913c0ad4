import GeoData
import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

extension SyntheticCountry {
  /// Daily rain and soil moisture, one region's weather at a time: per region a Markov
  /// chain of wet days (P(wet | dry), P(wet | wet), October–May and June–September), a
  /// gamma-distributed storm depth, and per cell an orographic gain and a smooth daily
  /// field that leaves some cells dry; soil moisture from a 200 mm bucket.
  struct Climate {
    let specification: Specification
    let land: Land

    /// Per region: wet-season P(wet | dry), P(wet | wet), mean depth (mm), gamma shape.
    /// The dry season scales the chain by 0.15 and 0.7 and the depth by 0.8.
    static let wetSeason: [(dryToWet: Double, wetToWet: Double, depth: Double, shape: Double)] = [
      (0.22, 0.55, 21, 0.8), (0.20, 0.52, 15, 0.75), (0.21, 0.54, 21, 0.8), (0.19, 0.50, 20, 0.7),
      (0.18, 0.48, 20, 0.7),
    ]
    static let summerMonths = 6...9

    /// Writes `rain/rain_YYYY.tif` and `soil_moisture/soil_moisture_YYYY.tif` year by year
    /// and returns the series at the `recording` cells.
    func write(grid: RasterGrid, into directory: String, elevation: [Float], recording: [Int])
      throws(RainfallError) -> [DailySeries]
    {
      let s = specification
      let count = s.width * s.height
      var random = RandomGenerator(seed: UInt64(s.seed) &+ 0xC11A)
      var wet = [Bool](repeating: false, count: SyntheticCountry.regions.count)
      var bucket = [Double](repeating: 100, count: count)
      let first = Day(year: s.firstYear, month: 1, day: 1)!
      let end = Day(year: s.firstYear + s.years, month: 1, day: 1)!
      var rainAt = [[Float]](repeating: [], count: recording.count)
      var moistureAt = rainAt
      var rain = [Float](repeating: .nan, count: count)
      var moisture = rain
      var gain = [Double](repeating: 0, count: count)
      for index in 0..<count where land.region[index] >= 0 {
        gain[index] = 1 + 0.5 * Double(elevation[index]) / 1000
      }
      for year in s.firstYear..<(s.firstYear + s.years) {
        let start = Day(year: year, month: 1, day: 1)!
        let days = Day(year: year + 1, month: 1, day: 1)! - start
        func writer(_ folder: String, _ name: String) throws(RainfallError) -> GeoTIFFBandWriter {
          let path = [directory, folder, "\(name)_\(year).tif"].joined(separator: "/")
          do {
            return try GeoTIFFBandWriter(
              path: path, grid: grid, bandCount: days, noDataValue: -9999)
          } catch { throw RainfallError(path, error.message) }
        }
        let rainFile = try writer("rain", "rain")
        let moistureFile = try writer("soil_moisture", "soil_moisture")
        for offset in 0..<days {
          let day = start + offset
          let summer = Self.summerMonths.contains(day.month)
          var depth = [Double](repeating: 0, count: wet.count)
          for region in wet.indices {
            let c = Self.wetSeason[region]
            let p = wet[region] ? c.wetToWet * (summer ? 0.7 : 1) : c.dryToWet * (summer ? 0.15 : 1)
            wet[region] = Double(random.nextUniform()) < p
            if wet[region] {
              let mean = c.depth * (summer ? 0.8 : 1)
              depth[region] = Self.gamma(shape: c.shape, using: &random) * mean / c.shape
            }
          }
          let field = LatticeNoise(
            seed: UInt64(s.seed), layer: 1000 &+ UInt64(day.number - first.number))
          let evaporation = summer ? 4.5 : ([4, 5, 10].contains(day.month) ? 2.5 : 1.2)
          for index in 0..<count {
            let region = land.region[index]
            guard region >= 0 else { continue }
            var amount = 0.0
            if depth[region] > 0 {
              let (u, v) = (
                Double(index % s.width) / Double(s.width),
                Double(index / s.width) / Double(s.height)
              )
              let local = field.fractal(u, v, wavelength: 0.3, octaves: 2)
              if local > -0.45 { amount = depth[region] * gain[index] * exp(0.7 * local) }
            }
            var water = bucket[index] + amount
            water -= evaporation * water / 200 + 0.03 * max(0, water - 100)
            bucket[index] = min(200, max(0, water))
            rain[index] = Float(amount)
            moisture[index] = Float(0.08 + 0.37 * bucket[index] / 200)
          }
          do {
            try rainFile.write(band: offset, description: "\(day)", values: rain)
            try moistureFile.write(band: offset, description: "\(day)", values: moisture)
          } catch { throw RainfallError(directory, error.message) }
          for (site, cell) in recording.enumerated() {
            rainAt[site].append(rain[cell])
            moistureAt[site].append(moisture[cell])
          }
        }
        do {
          try rainFile.finish()
          try moistureFile.finish()
        } catch { throw RainfallError(directory, error.message) }
      }
      precondition(rainAt.first?.count == end - first)
      return recording.indices.map {
        DailySeries(first: first, rain: rainAt[$0], soilMoisture: moistureAt[$0])
      }
    }

    /// A Gamma(shape, 1) deviate (Marsaglia & Tsang; shapes below 1 through
    /// Gamma(shape + 1) · U^(1/shape)).
    static func gamma(shape: Double, using random: inout RandomGenerator) -> Double {
      if shape < 1 {
        let u = max(Double(random.nextUniform()), 1e-12)
        return gamma(shape: shape + 1, using: &random) * pow(u, 1 / shape)
      }
      let d = shape - 1.0 / 3
      let c = 1 / (9 * d).squareRoot()
      while true {
        let x = Double(random.nextNormal())
        let v = pow(1 + c * x, 3)
        guard v > 0 else { continue }
        let u = max(Double(random.nextUniform()), 1e-12)
        if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
      }
    }
  }
}
