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
  /// `study.json`). Every pixel layer is made and written in strips of `tileSize` rows and
  /// the terrain in tiles of `tileSize` cells a side (`TerrainLayers`), so that a national
  /// area (12,800 × 12,800 pixels, 655 MB a layer) holds a few strips in memory, never a
  /// layer; the values do not depend on `tileSize` (a multiple of the cell's pixels).
  @discardableResult
  public static func generate(
    _ specification: Specification, into directory: String,
    tileSize: Int = TerrainLayers.defaultTileSize
  ) throws(RasterError) -> StudyManifest {
    let s = specification
    precondition(tileSize > 0 && tileSize % s.cellPixels == 0, "tiles must hold whole cells")
    let pixel = 1000 / Double(s.cellPixels)
    let (width, height) = (s.widthKm * s.cellPixels, s.heightKm * s.cellPixels)
    let origin = (x: 300_000.0, y: 3_100_000.0 + Double(s.heightKm) * 1000)
    let grid = try RasterGrid(
      width: width, height: height,
      geoTransform: GeoTransform(
        originX: origin.x, pixelWidth: pixel, originY: origin.y, pixelHeight: -pixel),
      epsg: 32645)
    let noise = { (layer: UInt64) in LatticeNoise(seed: s.seed, layer: layer) }
    let strips = grid.strips(of: tileSize)
    /// Visits each pixel of `window` with its centre's position (x, y) in metres and its
    /// index in the window (row-major).
    func forEachPixel(in window: RasterWindow, _ body: (Double, Double, Int) -> Void) {
      for row in 0..<window.height {
        let y = (Double(window.y + row) + 0.5) * pixel
        for column in 0..<window.width {
          body((Double(window.x + column) + 0.5) * pixel, y, row * window.width + column)
        }
      }
    }

    let predictors = (directory as NSString).appendingPathComponent("predictors")
    do {
      try FileManager.default.createDirectory(atPath: predictors, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: predictors, message: "cannot create the directory (\(error.localizedDescription))")
    }
    func predictor(_ name: String, bands: Int = 1) throws(RasterError) -> GeoTIFFBandWriter {
      try GeoTIFFBandWriter(
        path: (predictors as NSString).appendingPathComponent("\(name).tif"), grid: grid,
        bandCount: bands, noDataValue: Double(TerrainLayers.noData))
    }
    func cellMeans() -> CellMeans {
      CellMeans(cellsX: s.widthKm, cellsY: s.heightKm, pixels: s.cellPixels)
    }

    // Terrain: fractal relief rising towards the north (Himalayan foothill slopes), written
    // first so that the terrain layers and the rain read it back a window at a time.
    let relief = noise(1)
    let elevationFile = try predictor(TerrainLayer.elevation.rawValue)
    for strip in strips {
      var elevation = [Float](repeating: 0, count: strip.width * strip.height)
      forEachPixel(in: strip) { x, y, index in
        let rise = 1200 * (1 - y / (Double(height) * pixel))
        elevation[index] = Float(
          max(100, 1500 + rise + 3000 * relief.fractal(x, y, wavelength: 12_000, octaves: 7)))
      }
      try elevationFile.write(
        band: 0, description: TerrainLayer.elevation.description, window: strip,
        values: elevation)
    }
    try elevationFile.finish()
    let elevation = try RasterDataset(path: elevationFile.path)
    // Flow accumulation is not one of the study's predictors.
    let terrainLayers = TerrainLayer.allCases.filter {
      $0 != .elevation && StudyManifest.staticPredictors.contains($0.rawValue)
    }
    var terrainFiles: [TerrainLayer: GeoTIFFBandWriter] = [:]
    for layer in terrainLayers { terrainFiles[layer] = try predictor(layer.rawValue) }
    var meanSlope = cellMeans()
    try TerrainLayers.produce(elevation, tileSize: tileSize) {
      layer, window, values throws(RasterError) in
      if layer == .slope { meanSlope.add(values, over: window) }
      try terrainFiles[layer]?.write(
        band: 0, description: layer.description, window: window, values: values)
    }
    for layer in terrainLayers { try terrainFiles[layer]!.finish() }

    // Shaking: PGA (g) decays with distance from the epicentre.
    let epicentre = (
      x: Double(width) * pixel * (0.2 + 0.3 * (noise(2).lattice(0, 0, octave: 0) + 1)),
      y: Double(height) * pixel * (0.2 + 0.3 * (noise(2).lattice(1, 0, octave: 0) + 1))
    )
    var meanPGA = cellMeans()
    do {
      let (shakeNoise, spreadNoise) = (noise(3), noise(4))
      let (meanFile, spreadFile) = (try predictor("pga_mean"), try predictor("pga_std"))
      for strip in strips {
        var pgaMean = [Float](repeating: 0, count: strip.width * strip.height)
        var pgaSpread = pgaMean
        forEachPixel(in: strip) { x, y, index in
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
        try meanFile.write(
          band: 0, description: "peak ground acceleration, mean (g)", window: strip,
          values: pgaMean)
        try spreadFile.write(
          band: 0, description: "peak ground acceleration, spread (g)", window: strip,
          values: pgaSpread)
        meanPGA.add(pgaMean, over: strip)
      }
      try meanFile.finish()
      try spreadFile.finish()
    }

    // Rain per period: the maximum and the 2.5–97.5 % spread of daily rain (mm), one band
    // of each file per period.
    let monsoonCounts = monsoons(periods: s.periods)
    let (rainMax, rainSpread) = (
      try predictor("rain_max", bands: s.periods), try predictor("rain_spread", bands: s.periods)
    )
    var meanRain = Array(repeating: cellMeans(), count: s.periods)
    for strip in strips {
      let ground = try elevation.read(band: 0, window: strip).values
      for period in 0..<s.periods {
        let season = period == 0 ? 30.0 : (period % 2 == 1 ? 180.0 : 60.0)
        let year = 1 + 0.15 * noise(5).lattice(period, 0, octave: 0)
        let (pattern, wobble) = (noise(10 + UInt64(period)), noise(40 + UInt64(period)))
        var maxima = [Float](repeating: 0, count: strip.width * strip.height)
        var spread = maxima
        forEachPixel(in: strip) { x, y, index in
          let orographic = 0.2 * (Double(ground[index]) - 1500) / 1800
          let value = max(
            5,
            season * year
              * (1 + 0.3 * pattern.fractal(x, y, wavelength: 20_000, octaves: 3) + orographic))
          maxima[index] = Float(value)
          spread[index] = Float(
            value * (0.55 + 0.1 * wobble.fractal(x, y, wavelength: 10_000, octaves: 2)))
        }
        try rainMax.write(
          band: period, description: "maximum daily rain (mm), period \(period)", window: strip,
          values: maxima)
        try rainSpread.write(
          band: period, description: "2.5–97.5 % spread of daily rain (mm), period \(period)",
          window: strip, values: spread)
        meanRain[period].add(maxima, over: strip)
      }
    }
    try rainMax.finish()
    try rainSpread.finish()

    // The latent process on the 1 km grid.
    let cells = LatentProcess(
      specification: s, slope: meanSlope.means, pga: meanPGA.means, rain: meanRain.map(\.means),
      monsoons: monsoonCounts,
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
