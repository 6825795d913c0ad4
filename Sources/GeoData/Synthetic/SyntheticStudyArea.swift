import Foundation

/// A synthetic but physically plausible study area with a known truth, so that models can
/// be scored against the process that made their labels (SPEC.md §1, data layout).
///
/// A fractal DEM at 1/32 km pixels in UTM 45N; the terrain predictors through the same
/// terrain code as real DEMs; peak ground acceleration (mean and spread) decaying with
/// distance from an epicentre, with spatially correlated noise; per period the maximum and
/// the 95 % spread of daily rain (monsoon periods wetter, orographic gain); and per 1 km
/// cell and period a latent logistic process in which slope, shaking, rain and an
/// earthquake legacy that fades with each monsoon set the probability of new landslides,
/// and a log-normal their area density. The cumulative inventory re-vegetates by 10 % a
/// period where nothing new fails. Same seed, same bytes.
public enum SyntheticStudyArea {
  public struct Specification: Equatable, Sendable {
    public var seed: UInt64
    public var widthKm: Int
    public var heightKm: Int
    public var periods: Int
    public var cellPixels: Int

    public init(
      seed: UInt64 = 1, widthKm: Int = 48, heightKm: Int = 48, periods: Int = 8,
      cellPixels: Int = 32
    ) {
      self.seed = seed
      self.widthKm = widthKm
      self.heightKm = heightKm
      self.periods = periods
      self.cellPixels = cellPixels
    }
  }

  /// Monsoons since the earthquake at the end of each period: co-seismic, then post- and
  /// pre-monsoon periods in turn (0, 1, 1, 2, 2, …).
  public static func monsoons(periods: Int) -> [Int] { (0..<periods).map { ($0 + 1) / 2 } }

  /// Writes the study area into `directory` and returns its manifest (also written as
  /// `study.json`). Each pixel layer is written as soon as it is made and then dropped, so
  /// that a national area (12,800 × 12,800 pixels, 655 MB a layer) needs only a few in
  /// memory at once.
  @discardableResult
  public static func generate(_ specification: Specification, into directory: String)
    throws(RasterError)
    -> StudyManifest
  {
    let s = specification
    let pixel = 1000 / Double(s.cellPixels)
    let (width, height) = (s.widthKm * s.cellPixels, s.heightKm * s.cellPixels)
    let origin = (x: 300_000.0, y: 3_100_000.0 + Double(s.heightKm) * 1000)
    let grid = try RasterGrid(
      width: width, height: height,
      geoTransform: GeoTransform(
        originX: origin.x, pixelWidth: pixel, originY: origin.y, pixelHeight: -pixel),
      epsg: 32645)
    let noise = { (layer: UInt64) in LatticeNoise(seed: s.seed, layer: layer) }
    func position(_ index: Int) -> (x: Double, y: Double) {
      ((Double(index % width) + 0.5) * pixel, (Double(index / width) + 0.5) * pixel)
    }

    let predictors = (directory as NSString).appendingPathComponent("predictors")
    do {
      try FileManager.default.createDirectory(atPath: predictors, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: predictors, message: "cannot create the directory (\(error.localizedDescription))")
    }
    func predictorPath(_ name: String) -> String {
      (predictors as NSString).appendingPathComponent("\(name).tif")
    }
    func writePredictor(_ name: String, _ description: String, _ values: [Float])
      throws(RasterError)
    {
      try writeGeoTIFF(
        path: predictorPath(name), grid: grid,
        bands: [RasterBand(description: description, values: values)],
        noDataValue: Double(TerrainLayers.noData))
    }
    // All the latent process needs of a pixel layer.
    func cellMeans(_ values: [Float]) -> [Double] {
      LatentProcess.cellMeans(values, cellsX: s.widthKm, cellsY: s.heightKm, pixels: s.cellPixels)
    }

    // Terrain: fractal relief rising towards the north (Himalayan foothill slopes).
    let relief = noise(1)
    let elevation = (0..<(width * height)).map { index -> Float in
      let (x, y) = position(index)
      let rise = 1200 * (1 - y / (Double(height) * pixel))
      return Float(
        max(100, 1500 + rise + 3000 * relief.fractal(x, y, wavelength: 12_000, octaves: 7)))
    }
    var meanSlope: [Double] = []
    try TerrainLayers.produce(ElevationModel(grid: grid, elevation: elevation)) {
      layer, values throws(RasterError) in
      if layer == .slope { meanSlope = cellMeans(values) }
      // Flow accumulation is not one of the study's predictors.
      guard StudyManifest.staticPredictors.contains(layer.rawValue) else { return }
      try writePredictor(layer.rawValue, layer.description, values)
    }

    // Shaking: PGA (g) decays with distance from the epicentre.
    let epicentre = (
      x: Double(width) * pixel * (0.2 + 0.3 * (noise(2).lattice(0, 0, octave: 0) + 1)),
      y: Double(height) * pixel * (0.2 + 0.3 * (noise(2).lattice(1, 0, octave: 0) + 1))
    )
    let meanPGA: [Double]
    do {
      let (shakeNoise, spreadNoise) = (noise(3), noise(4))
      var pgaMean = [Float](repeating: 0, count: width * height)
      var pgaSpread = pgaMean
      for index in 0..<(width * height) {
        let (x, y) = position(index)
        let distanceKm =
          ((x - epicentre.x) * (x - epicentre.x) + (y - epicentre.y) * (y - epicentre.y))
          .squareRoot() / 1000
        let mean =
          0.9 / (1 + distanceKm / 12)
          * (1 + 0.15 * shakeNoise.fractal(x, y, wavelength: 8000, octaves: 4))
        pgaMean[index] = Float(max(0.02, mean))
        pgaSpread[index] = Float(
          0.05 + 0.1 * mean + 0.02 * abs(spreadNoise.fractal(x, y, wavelength: 6000, octaves: 3)))
      }
      try writePredictor("pga_mean", "peak ground acceleration, mean (g)", pgaMean)
      try writePredictor("pga_std", "peak ground acceleration, spread (g)", pgaSpread)
      meanPGA = cellMeans(pgaMean)
    }

    // Rain per period: the maximum and the 2.5–97.5 % spread of daily rain (mm), one band
    // of each file per period.
    let monsoonCounts = monsoons(periods: s.periods)
    let rainMax = try GeoTIFFBandWriter(
      path: predictorPath("rain_max"), grid: grid, bandCount: s.periods)
    let rainSpread = try GeoTIFFBandWriter(
      path: predictorPath("rain_spread"), grid: grid, bandCount: s.periods)
    var meanRain: [[Double]] = []
    for period in 0..<s.periods {
      let season = period == 0 ? 30.0 : (period % 2 == 1 ? 180.0 : 60.0)
      let year = 1 + 0.15 * noise(5).lattice(period, 0, octave: 0)
      let (pattern, wobble) = (noise(10 + UInt64(period)), noise(40 + UInt64(period)))
      var maximum = [Float](repeating: 0, count: width * height)
      var spread = maximum
      for index in 0..<(width * height) {
        let (x, y) = position(index)
        let orographic = 0.2 * (Double(elevation[index]) - 1500) / 1800
        let value = max(
          5,
          season * year
            * (1 + 0.3 * pattern.fractal(x, y, wavelength: 20_000, octaves: 3) + orographic))
        maximum[index] = Float(value)
        spread[index] = Float(
          value * (0.55 + 0.1 * wobble.fractal(x, y, wavelength: 10_000, octaves: 2)))
      }
      try rainMax.write(
        band: period, description: "maximum daily rain (mm), period \(period)", values: maximum)
      try rainSpread.write(
        band: period, description: "2.5–97.5 % spread of daily rain (mm), period \(period)",
        values: spread)
      meanRain.append(cellMeans(maximum))
    }
    try rainMax.finish()
    try rainSpread.finish()

    // The latent process on the 1 km grid.
    let cells = LatentProcess(
      specification: s, slope: meanSlope, pga: meanPGA, rain: meanRain, monsoons: monsoonCounts,
      noise: noise)
    let cellGrid = try RasterGrid(
      width: s.widthKm, height: s.heightKm,
      geoTransform: GeoTransform(
        originX: origin.x, pixelWidth: 1000, originY: origin.y, pixelHeight: -1000),
      epsg: 32645)
    for (file, what, values) in [
      ("inventory.tif", "cumulative landslide area (% of cell)", cells.inventory),
      ("truth_probability.tif", "true probability of new landslides", cells.probability),
      ("truth_density.tif", "true expected area density of new landslides (%)", cells.density),
    ] {
      try writeGeoTIFF(
        path: (directory as NSString).appendingPathComponent(file), grid: cellGrid,
        bands: values.enumerated().map {
          RasterBand(description: "\(what), period \($0.offset)", values: $0.element)
        })
    }
    let manifest = StudyManifest(
      seed: s.seed, widthKm: s.widthKm, heightKm: s.heightKm, periods: s.periods,
      cellPixels: s.cellPixels,
      epsg: 32645, epicentre: [origin.x + epicentre.x, origin.y - epicentre.y],
      monsoons: monsoonCounts,
      staticPredictors: StudyManifest.staticPredictors,
      timeVaryingPredictors: ["rain_max", "rain_spread"])
    try manifest.write(to: (directory as NSString).appendingPathComponent("study.json"))
    return manifest
  }
}
