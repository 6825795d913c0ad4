import Foundation
import TensorEngine

/// The seed paper's study (seed 001: Mukawa, Abira and Atsuma in Hokkaido and the 2018
/// Eastern Iburi earthquake) as a synthetic area with a known truth, for the classical
/// susceptibility models of SPEC.md §3: 10 m pixels in UTM 54N, the 19 factors of its
/// Table 1 in `factors/` (with the two inventories, the paper's 21 rasters), and two 0/1
/// inventories of landslide polygons (connected groups of pixels) beside the probabilities
/// that drew them.
///
/// The land: sea along the southern edge (~5 % of the pixels, nodata in every layer), then
/// at t metres inland the elevation z = 2 m + 0.008 t + h(t) (380 m (1 − e^(−t / 9 km))
/// + 320 m (1 + f)), a coastal plain rising into hills (h a smoothstep from 0 at the coast
/// to 1 at 2.5 km; f fractal noise, 5 octaves from 1.8 km); the terrain factors through the
/// terrain code, as for a real DEM (aspect −1 below `flatSlope`; curvature in ArcGIS's
/// convention, 100 (profile − plan) = −200 (D + E), in 1/100 m); rivers where the upslope
/// area reaches 0.25 km²; roads 30 m beside the rivers of ≥ 5 km² where the valley is
/// gentler than 12°, and along the coast; three faults striking within 35° of north;
/// lithology, soil and land use as contiguous units (see `CategoricalUnits`); rain rising
/// with elevation; and shaking from an epicentre inside the area, at horizontal distance d:
///   PGA_h = 1.3 g · (1 + R / 15 km)^−1.6 · (1 + 0.35 e^(−z / 150 m)) · e^(0.5 s),
///   N–S = PGA_h (0.7 + 0.4 |cos φ|) e^(0.3 n₁),  E–W = PGA_h (0.7 + 0.4 |sin φ|) e^(0.3 n₂),
///   U–D = PGA_h (0.35 + 0.6 e^(−d / 8 km)) e^(0.4 n₃),  3-D = the norm of the three,
/// with R = √(d² + (10 km)²) (an effective depth: the rupture, not the 37 km hypocentre),
/// z the elevation (soft lowland amplifies), φ the azimuth from the epicentre, s and n
/// smooth site noise; JMA intensity I = 2 log₁₀ a + 0.94 with a, the filtered acceleration
/// sustained for 0.3 s, taken as a third of the 3-D PGA in gal (which turns the seed's
/// 138–1356 gal into its 4.2–6.3).
///
/// The landslides: one starts at a pixel with probability p, where
///   historical: logit p = b + 0.25 (slope − 20°) + λ_H[lithology] + 0.8 (rain − 1180 mm) / 60 mm
///     + 1.0 e^(−river / 150 m) + 0.6 e^(−road / 100 m) + 0.7 e^(−fault / 1500 m) + u_H,
///   earthquake: logit p = b + 0.3 (slope − 25°) + λ_E[lithology] + σ_E[soil] + 2 (I − 5.5)
///     + 0.5 (pre-event rain − 260 mm) / 30 mm + u_E,
/// with river, road and fault the distances to them, u a smooth field of standard deviation
/// ~0.5 (the ground that no map shows), λ and σ the tables below, and b set (by bisection,
/// then once more after a trial draw) so that landslides cover `landslideShare` of the valid
/// pixels. From its start a landslide runs down the steepest descent for a log-normal number
/// of pixels, widening to its half-width (`LandslideShape`), and stops early on ground
/// flatter than 10°.
/// `truth_*.tif` holds p, the initiation probability (not the chance of being covered by a
/// landslide from upslope). Same seed, same bytes.
public enum ClassicalSyntheticArea {
  public struct Specification: Equatable, Sendable {
    public var seed: UInt64
    /// Pixels of 10 m, west to east and north to south.
    public var width: Int
    public var height: Int

    public init(seed: UInt64 = 1, width: Int = 2000, height: Int = 2000) {
      self.seed = seed
      self.width = width
      self.height = height
    }

    /// The seed paper's grid, 4710 × 4432 pixels.
    public static func paperSized(seed: UInt64 = 1) -> Specification {
      Specification(seed: seed, width: 4710, height: 4432)
    }
  }

  public static let pixelSize = 10.0
  /// WGS 84 / UTM zone 54N, as for Hokkaido.
  public static let epsg = 32654
  /// The factors in Table 1 order (A2–A20), each `factors/<name>.tif`.
  public static let factors = [
    "lithology", "soil", "land_use", "elevation", "slope", "aspect", "curvature",
    "distance_to_fault", "distance_to_road", "distance_to_river", "mean_annual_rain",
    "pre_event_rain", "pga_ns", "pga_ew", "pga_ud", "pga_3d", "seismic_intensity",
    "distance_to_epicentre", "azimuth_to_epicentre",
  ]
  /// The categorical factors and their class counts (codes 1…count).
  public static let classCounts = ["lithology": 20, "soil": 17, "land_use": 12]
  /// Aspect is −1 where the slope is below this (degrees).
  public static let flatSlope: Float = 0.5
  /// The inventories and the share of valid pixels their landslides cover (the paper's
  /// two together: ~1–3 %).
  public static let inventories = ["historical", "earthquake"]
  public static let landslideShare = ["historical": 0.015, "earthquake": 0.01]
  /// Upslope area (m²) from which a cell counts as a river.
  static let riverArea = 2.5e5
  /// The smallest area (pixels a side) that holds rivers and landslides.
  public static let minimumSide = 100

  /// λ_H: historical landslides favour the weak metamorphic and ultramafic rocks (17–20),
  /// tuffs and mudstones, and spare the Miocene non-marine beds (11), as the seed found.
  static let historicalLithology: [Double] = [
    -0.6, -0.3, 0.2, -0.4, 0.2, 0, -0.2, 0.4, 0.1, -0.2, -0.6, 0.3, 0.3, 0, 0.4, -0.2, 1.0, 1.2,
    1.4, 0.6,
  ]
  /// λ_E: earthquake-induced landslides were shallow slides of the pumice cover on the
  /// Neogene sediments (5–12).
  static let earthquakeLithology: [Double] = [
    -0.4, 0, 0.5, -0.3, 0.5, 0.4, 0.2, 0.6, 0.6, 0.3, 0.9, 0.4, 0.1, 0, 0.2, -0.1, 0.2, 0.3, 0.4,
    0,
  ]
  /// σ_E: volcanic soils (8, 11–14) fail in shaking, lowland soils (1–4) seldom.
  static let earthquakeSoil: [Double] = [
    -0.5, -0.5, -0.5, -0.5, 0.2, 0.3, 0, 0.9, 0.1, 0.1, 0.6, 0.3, 0.6, 0.7, 0, -0.1, 0,
  ]

  /// Writes the study area into `directory` and returns its manifest (also written as
  /// `study.json`). Each layer is written as soon as it is made and then dropped; the
  /// latent processes are accumulated as the factors pass, so that the paper-sized area
  /// (21 M pixels, 84 MB a layer) holds only a handful of layers at once.
  @discardableResult
  public static func generate(_ specification: Specification, into directory: String)
    throws(RasterError) -> ClassicalStudyManifest
  {
    let s = specification
    guard s.width >= minimumSide, s.height >= minimumSide else {
      throw RasterError(
        path: directory,
        message: "the area must be at least \(minimumSide) × \(minimumSide) pixels; "
          + "\(s.width) × \(s.height) holds no rivers or landslides")
    }
    let factorDirectory = (directory as NSString).appendingPathComponent("factors")
    do {
      try FileManager.default.createDirectory(
        atPath: factorDirectory, withIntermediateDirectories: true)
    } catch {
      throw RasterError(
        path: factorDirectory,
        message: "cannot create the directory (\(error.localizedDescription))")
    }
    let area = try Area(s, directory: directory)

    // Terrain: a coastal plain rising inland into hills.
    let relief = area.noise(1)
    let elevation = area.layer { index, x, y in
      let inland = area.inland(index)
      let hills = min(1, inland / 2500)
      let ramp = hills * hills * (3 - 2 * hills)
      let rise = 380 * (1 - exp(-inland / 9000))
      let ridges =
        320 * (1 + relief.fractal(x, y, wavelength: 1800, octaves: 5, persistence: 0.6))
      return Float(2 + 0.008 * inland + ramp * (rise + ridges))
    }
    var terrain = try writeTerrain(area, elevation: elevation)
    let slope = terrain.slope
    var historical = area.layer { index, _, _ in
      Float(
        0.25 * (Double(slope[index]) - 20)
          + 1.0 * exp(-Double(terrain.distanceToRiver[index]) / 150))
    }
    var earthquake = area.layer { index, _, _ in Float(0.3 * (Double(slope[index]) - 25)) }
    terrain.distanceToRiver = []

    area.markCoastRoad(&terrain.road)
    do {
      let distance = area.distances(to: terrain.road)
      try area.write(factor: "distance_to_road", "distance to road (m)", distance)
      area.add(to: &historical) { 0.6 * exp(-Double(distance[$0]) / 100) }
    }
    do {
      let distance = area.distances(to: area.faults())
      try area.write(factor: "distance_to_fault", "distance to fault (m)", distance)
      area.add(to: &historical) { 0.7 * exp(-Double(distance[$0]) / 1500) }
    }

    do {
      let codes = lithology(area, elevation: elevation)
      try area.write(factor: "lithology", "lithology (class code 1-20)", codes)
      area.add(to: &historical) { historicalLithology[Int(codes[$0]) - 1] }
      area.add(to: &earthquake) { earthquakeLithology[Int(codes[$0]) - 1] }
    }
    do {
      let codes = soil(area, elevation: elevation, slope: slope)
      try area.write(factor: "soil", "soil (class code 1-17)", codes)
      area.add(to: &earthquake) { earthquakeSoil[Int(codes[$0]) - 1] }
    }
    try area.write(
      factor: "land_use", "land use (class code 1-12)",
      landUse(area, elevation: elevation, slope: slope, road: terrain.road, stream: terrain.stream))
    (terrain.road, terrain.stream) = ([], [])

    try writeRain(area, elevation: elevation, historical: &historical, earthquake: &earthquake)
    let shaking = try writeShaking(area, elevation: elevation, earthquake: &earthquake)

    // The ground that no map shows.
    let (hiddenHistorical, hiddenEarthquake) = (area.noise(60), area.noise(61))
    area.add(to: &historical) {
      let (x, y) = area.position($0)
      return 2 * hiddenHistorical.fractal(x, y, wavelength: 1500, octaves: 3)
    }
    area.add(to: &earthquake) {
      let (x, y) = area.position($0)
      return 2 * hiddenEarthquake.fractal(x, y, wavelength: 800, octaves: 3)
    }

    var landslidePixels: [String: Int] = [:]
    var landslides: [String: Int] = [:]
    for (name, shape, layer) in [
      ("historical", LandslideShape.historical, 70 as UInt64), ("earthquake", .earthquake, 71),
    ] {
      let drawn = drawLandslides(
        linear: name == "historical" ? historical : earthquake, share: landslideShare[name]!,
        shape: shape, layer: layer, area: area, elevation: elevation, slope: slope)
      if name == "historical" { historical = [] } else { earthquake = [] }
      try area.write(
        file: "truth_\(name).tif", "true probability that a \(name) landslide starts here",
        drawn.probability)
      try area.write(
        file: "inventory_\(name).tif", "\(name) landslides (1 inside, 0 outside)",
        drawn.inventory)
      landslidePixels[name] = drawn.inventory.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
      landslides[name] = drawn.count
    }

    let origin = area.grid.geoTransform
    let manifest = ClassicalStudyManifest(
      seed: s.seed, width: s.width, height: s.height, pixelSize: pixelSize, epsg: epsg,
      factors: factors, categorical: classCounts,
      inventories: Dictionary(
        uniqueKeysWithValues: inventories.map { ($0, "inventory_\($0).tif") }),
      truth: Dictionary(uniqueKeysWithValues: inventories.map { ($0, "truth_\($0).tif") }),
      epicentre: [origin.originX + shaking.epicentre.x, origin.originY - shaking.epicentre.y],
      validPixels: area.validCount, landslidePixels: landslidePixels, landslides: landslides)
    try manifest.write(
      to: (directory as NSString).appendingPathComponent(ClassicalStudyManifest.fileName))
    return manifest
  }
}

extension ClassicalSyntheticArea {
  /// Writes elevation, slope, aspect, curvature and distance to river through the terrain
  /// code and returns what later layers need: slope, the distance to river, and the pixels
  /// of valley roads and of rivers of ≥ 2 km² (for land use).
  static func writeTerrain(_ area: Area, elevation: [Float]) throws(RasterError) -> (
    slope: [Float], distanceToRiver: [Float], road: [Bool], stream: [Bool]
  ) {
    var slope: [Float] = []
    var northness: [Float] = []
    var profile: [Float] = []
    var distanceToRiver: [Float] = []
    var road = [Bool](repeating: false, count: area.count)
    var stream = road
    try TerrainLayers.produce(
      ElevationModel(grid: area.grid, elevation: elevation), riverArea: riverArea
    ) { layer, values throws(RasterError) in
      switch layer {
      case .elevation:
        try area.write(factor: "elevation", "elevation (m)", values)
      case .slope:
        slope = values
        try area.write(factor: "slope", "slope (degrees)", values)
      case .northness:
        northness = values
      case .eastness:
        let aspect = area.layer { index, _, _ in
          guard slope[index] >= flatSlope else { return -1 }
          let degrees = atan2(Double(values[index]), Double(northness[index])) * 180 / .pi
          let azimuth = Float(degrees < 0 ? degrees + 360 : degrees)
          return azimuth < 360 ? azimuth : 0
        }
        northness = []
        try area.write(
          factor: "aspect", "aspect (degrees clockwise from north; -1 flat)", aspect)
      case .profileCurvature:
        profile = values
      case .planCurvature:
        let curvature = area.layer { index, _, _ in 100 * (profile[index] - values[index]) }
        profile = []
        try area.write(factor: "curvature", "curvature (1/100 m; positive convex)", curvature)
      case .flowAccumulation:
        for index in 0..<area.count where area.valid[index] {
          let upslope = Double(values[index]) * pixelSize * pixelSize
          stream[index] = upslope >= 2e6
          // Valley roads run 30 m north of the river, where the valley is gentle.
          let beside = index - 3 * area.width
          if upslope >= 5e6, slope[index] < 12, beside >= 0, area.valid[beside] {
            road[beside] = true
          }
        }
      case .twi:
        break
      case .distanceToRiver:
        distanceToRiver = values
        try area.write(factor: "distance_to_river", "distance to river (m)", values)
      }
    }
    guard !zip(distanceToRiver, area.valid).contains(where: { $0.isNaN && $1 }) else {
      throw RasterError(
        path: area.directory,
        message: "the area holds no river (upslope area ≥ 0.25 km²); enlarge it")
    }
    return (slope, distanceToRiver, road, stream)
  }

  /// Writes the rain factors, rising with elevation: the yearly mean and the month before
  /// the earthquake; adds their terms to the latent processes.
  static func writeRain(
    _ area: Area, elevation: [Float], historical: inout [Float], earthquake: inout [Float]
  ) throws(RasterError) {
    do {
      let pattern = area.noise(45)
      let rain = area.layer { index, x, y in
        Float(
          1090 + 0.2 * Double(elevation[index])
            + 60 * pattern.fractal(x, y, wavelength: 12_000, octaves: 3))
      }
      try area.write(factor: "mean_annual_rain", "mean annual rainfall (mm)", rain)
      area.add(to: &historical) { 0.8 * (Double(rain[$0]) - 1180) / 60 }
    }
    let pattern = area.noise(46)
    let rain = area.layer { index, x, y in
      Float(
        230 + 0.07 * Double(elevation[index])
          + 35 * pattern.fractal(x, y, wavelength: 8000, octaves: 3))
    }
    try area.write(
      factor: "pre_event_rain", "rainfall in the month before the earthquake (mm)", rain)
    area.add(to: &earthquake) { 0.5 * (Double(rain[$0]) - 260) / 30 }
  }

  /// Writes the distance and azimuth to the epicentre, the PGA components, their norm and
  /// the intensity; adds the intensity term to the earthquake's latent process.
  static func writeShaking(_ area: Area, elevation: [Float], earthquake: inout [Float])
    throws(RasterError) -> Shaking
  {
    let shaking = Shaking(area, elevation: elevation)
    try area.write(
      factor: "distance_to_epicentre", "distance to the epicentre (m)",
      area.layer { _, x, y in Float(shaking.distance(x, y)) })
    try area.write(
      factor: "azimuth_to_epicentre", "azimuth to the epicentre (degrees clockwise from north)",
      area.layer { _, x, y in shaking.azimuthToEpicentre(x, y) })
    let horizontal = area.layer { index, x, y in Float(shaking.horizontal(index, x, y)) }
    var norm = [Float](repeating: 0, count: area.count)
    for (component, name, description) in [
      (Shaking.Component.northSouth, "pga_ns", "peak ground acceleration, north-south (g)"),
      (.eastWest, "pga_ew", "peak ground acceleration, east-west (g)"),
      (.upDown, "pga_ud", "peak ground acceleration, up-down (g)"),
    ] {
      let pga = area.layer { index, x, y in
        horizontal[index] * Float(shaking.share(component, x, y))
      }
      try area.write(factor: name, description, pga)
      for index in 0..<area.count { norm[index] += pga[index] * pga[index] }
    }
    for index in 0..<area.count { norm[index] = norm[index].squareRoot() }
    try area.write(factor: "pga_3d", "peak ground acceleration, 3-D vector (g)", norm)
    for index in 0..<area.count { norm[index] = Shaking.intensity(pga3D: norm[index]) }
    try area.write(factor: "seismic_intensity", "JMA seismic intensity", norm)
    area.add(to: &earthquake) { 2 * (Double(norm[$0]) - 5.5) }
    return shaking
  }
}

extension ClassicalSyntheticArea {
  /// The pixel grid of one generation: where each pixel lies, which pixels are land, and
  /// how a layer is made, sampled and written.
  struct Area {
    let seed: UInt64
    let grid: RasterGrid
    let width: Int
    let height: Int
    let directory: String
    /// Metres north of the southern edge at which the land begins, per column.
    let coast: [Double]
    let valid: [Bool]
    let validCount: Int

    var count: Int { width * height }
    var widthMetres: Double { Double(width) * pixelSize }
    var heightMetres: Double { Double(height) * pixelSize }

    /// The grid's south-western corner lies on the Pacific coast near Mukawa.
    init(_ s: Specification, directory: String) throws(RasterError) {
      seed = s.seed
      (width, height) = (s.width, s.height)
      self.directory = directory
      grid = try RasterGrid(
        width: s.width, height: s.height,
        geoTransform: GeoTransform(
          originX: 560_000, pixelWidth: pixelSize,
          originY: 4_710_000 + Double(s.height) * pixelSize, pixelHeight: -pixelSize),
        epsg: epsg)
      let shore = LatticeNoise(seed: s.seed, layer: 0)
      let heightMetres = Double(s.height) * pixelSize
      let wavelength = max(Double(s.width) * pixelSize / 3, 2000)
      coast = (0..<s.width).map { column in
        let x = (Double(column) + 0.5) * pixelSize
        return heightMetres
          * (0.045 + 0.025 * shore.fractal(x, 0.5, wavelength: wavelength, octaves: 4))
      }
      var valid = [Bool](repeating: false, count: s.width * s.height)
      var validCount = 0
      for index in valid.indices {
        let northOfEdge = heightMetres - (Double(index / s.width) + 0.5) * pixelSize
        valid[index] = northOfEdge > coast[index % s.width]
        if valid[index] { validCount += 1 }
      }
      self.valid = valid
      self.validCount = validCount
    }

    func noise(_ layer: UInt64) -> LatticeNoise { LatticeNoise(seed: seed, layer: layer) }

    func units(layer: UInt64, spacing: Double, warp: Double) -> CategoricalUnits {
      CategoricalUnits(
        seed: seed, layer: layer, spacing: spacing, warp: warp, width: widthMetres,
        height: heightMetres)
    }

    /// The pixel's centre in metres east of the western edge and south of the northern one.
    func position(_ index: Int) -> (x: Double, y: Double) {
      ((Double(index % width) + 0.5) * pixelSize, (Double(index / width) + 0.5) * pixelSize)
    }

    /// Metres from the coast, northwards (negative at sea).
    func inland(_ index: Int) -> Double {
      heightMetres - (Double(index / width) + 0.5) * pixelSize - coast[index % width]
    }

    /// A layer of `value(index, x, y)` on land, NaN at sea.
    func layer(_ value: (Int, Double, Double) -> Float) -> [Float] {
      var values = [Float](repeating: .nan, count: count)
      values.withUnsafeMutableBufferPointer { output in
        forEachLand { index in
          let (x, y) = position(index)
          output[index] = value(index, x, y)
        }
      }
      return values
    }

    /// Adds `term(index)` to a latent process on land.
    func add(to linear: inout [Float], _ term: (Int) -> Double) {
      linear.withUnsafeMutableBufferPointer { output in
        forEachLand { output[$0] += Float(term($0)) }
      }
    }

    /// Runs `body` on every land pixel, split over the engine's threads: each pixel depends
    /// on nothing but itself, so the bytes do not depend on the thread count.
    private func forEachLand(_ body: (Int) -> Void) {
      withoutActuallyEscaping(body) { body in
        valid.withUnsafeBufferPointer { valid in
          ThreadPool.shared.parallelFor(count, work: 64 * count, LandJob(valid: valid, body: body))
        }
      }
    }

    private struct LandJob: ParallelJob {
      let valid: UnsafeBufferPointer<Bool>
      let body: (Int) -> Void

      func run(_ range: Range<Int>) {
        for index in range where valid[index] { body(index) }
      }
    }

    /// The value at the pixel holding (x, y), clamped to the grid; NaN (sea) reads as 0.
    func sample(_ values: [Float], _ x: Double, _ y: Double) -> Double {
      let column = min(max(Int(floor(x / pixelSize)), 0), width - 1)
      let row = min(max(Int(floor(y / pixelSize)), 0), height - 1)
      let value = values[row * width + column]
      return value.isNaN ? 0 : Double(value)
    }

    /// The mean slope of the 7 × 7 pixels around the pixel holding (x, y), clamped to the
    /// grid (single pixels are too rough to characterise a unit); 0 at sea.
    func meanSlope(_ slope: [Float], _ x: Double, _ y: Double) -> Double {
      let column = min(max(Int(floor(x / pixelSize)), 0), width - 1)
      let row = min(max(Int(floor(y / pixelSize)), 0), height - 1)
      var (total, cells) = (0.0, 0)
      for r in max(row - 3, 0)...min(row + 3, height - 1) {
        for c in max(column - 3, 0)...min(column + 3, width - 1) {
          let value = slope[r * width + c]
          if !value.isNaN { (total, cells) = (total + Double(value), cells + 1) }
        }
      }
      return cells == 0 ? 0 : total / Double(cells)
    }

    /// Metres to the nearest marked pixel (`DistanceTransform`), NaN at sea.
    func distances(to marked: [Bool]) -> [Float] {
      let distances = DistanceTransform.distances(
        marked: marked, width: width, height: height,
        cellWidth: Array(repeating: pixelSize, count: height),
        cellHeight: Array(repeating: pixelSize, count: height))
      return layer { index, _, _ in Float(distances[index]) }
    }

    /// Marks a road that runs 250 m inland along the coast, column by column, joined up
    /// where the coast steps.
    func markCoastRoad(_ road: inout [Bool]) {
      var previous: Int?
      for column in 0..<width {
        let row = Int(floor((heightMetres - coast[column] - 250) / pixelSize))
        guard (0..<height).contains(row) else {
          previous = nil
          continue
        }
        let from = previous ?? row
        for r in min(from, row)...max(from, row) where valid[r * width + column] {
          road[r * width + column] = true
        }
        previous = row
      }
    }

    /// Three faults across the area, each through a point inside it, striking within 35°
    /// of north and bending by up to 400 m; traced in half-pixel steps, so each is a
    /// connected line of pixels.
    func faults() -> [Bool] {
      let trace = noise(20)
      var marked = [Bool](repeating: false, count: count)
      let reach = (widthMetres * widthMetres + heightMetres * heightMetres).squareRoot()
      for fault in 0..<3 {
        let u = { (draw: Int) in (trace.lattice(fault, 0, octave: draw) + 1) / 2 }
        let centre = (x: widthMetres * (0.15 + 0.7 * u(0)), y: heightMetres * (0.1 + 0.7 * u(1)))
        let strike = (u(2) - 0.5) * 70 * .pi / 180
        // Along the strike (north is −y) and across it.
        let (along, across) = ((x: sin(strike), y: -cos(strike)), (x: cos(strike), y: sin(strike)))
        for step in 0...Int(4 * reach / pixelSize) {
          let distance = Double(step) * pixelSize / 2 - reach
          let bend = 400 * trace.value(distance / 6000, Double(fault) + 0.5, octave: 3)
          let x = centre.x + distance * along.x + bend * across.x
          let y = centre.y + distance * along.y + bend * across.y
          let (column, row) = (Int(floor(x / pixelSize)), Int(floor(y / pixelSize)))
          if (0..<width).contains(column), (0..<height).contains(row) {
            marked[row * width + column] = true
          }
        }
      }
      return marked
    }

    /// Writes `factors/<name>.tif`.
    func write(factor name: String, _ description: String, _ values: [Float])
      throws(RasterError)
    {
      try write(file: "factors/\(name).tif", description, values)
    }

    /// Writes a one-band Float32 GeoTIFF into the study directory, NaN as nodata.
    func write(file: String, _ description: String, _ values: [Float]) throws(RasterError) {
      try writeGeoTIFF(
        path: (directory as NSString).appendingPathComponent(file), grid: grid,
        bands: [RasterBand(description: description, values: values)],
        noDataValue: Double(TerrainLayers.noData))
    }
  }

  /// The earthquake's ground motion (see the type's documentation for the formulas).
  struct Shaking {
    enum Component { case northSouth, eastWest, upDown }

    /// Metres east of the western edge and south of the northern one.
    let epicentre: (x: Double, y: Double)
    private let elevation: [Float]
    private let site: LatticeNoise
    private let northSouth: LatticeNoise
    private let eastWest: LatticeNoise
    private let upDown: LatticeNoise

    init(_ area: Area, elevation: [Float]) {
      let place = area.noise(50)
      let u = { (draw: Int) in (place.lattice(0, 0, octave: draw) + 1) / 2 }
      epicentre = (area.widthMetres * (0.3 + 0.4 * u(0)), area.heightMetres * (0.2 + 0.4 * u(1)))
      self.elevation = elevation
      (site, northSouth, eastWest, upDown) = (
        area.noise(51), area.noise(52), area.noise(53), area.noise(54)
      )
    }

    func distance(_ x: Double, _ y: Double) -> Double {
      ((x - epicentre.x) * (x - epicentre.x) + (y - epicentre.y) * (y - epicentre.y))
        .squareRoot()
    }

    /// Degrees clockwise from north, in [0, 360), of the direction to the epicentre.
    func azimuthToEpicentre(_ x: Double, _ y: Double) -> Float {
      let degrees = atan2(epicentre.x - x, y - epicentre.y) * 180 / .pi
      let azimuth = Float(degrees < 0 ? degrees + 360 : degrees)
      return azimuth < 360 ? azimuth : 0
    }

    /// PGA_h (g) at a land pixel.
    func horizontal(_ index: Int, _ x: Double, _ y: Double) -> Double {
      let d = distance(x, y)
      return 1.3 * pow(1 + (d * d + 1e8).squareRoot() / 15_000, -1.6)
        * (1 + 0.35 * exp(-Double(elevation[index]) / 150))
        * exp(0.5 * site.fractal(x, y, wavelength: 3000, octaves: 3))
    }

    /// A component's peak ground acceleration as a multiple of PGA_h.
    func share(_ component: Component, _ x: Double, _ y: Double) -> Double {
      let d = distance(x, y)
      // |cos φ| and |sin φ| of the azimuth from the epicentre.
      let (north, east) = (abs(y - epicentre.y) / max(d, 1), abs(x - epicentre.x) / max(d, 1))
      switch component {
      case .northSouth:
        return (0.7 + 0.4 * north)
          * exp(0.3 * northSouth.fractal(x, y, wavelength: 4000, octaves: 3))
      case .eastWest:
        return (0.7 + 0.4 * east) * exp(0.3 * eastWest.fractal(x, y, wavelength: 4000, octaves: 3))
      case .upDown:
        return (0.35 + 0.6 * exp(-d / 8000))
          * exp(0.4 * upDown.fractal(x, y, wavelength: 4000, octaves: 3))
      }
    }

    /// JMA intensity from the 3-D PGA (g), in [0, 7].
    static func intensity(pga3D: Float) -> Float {
      guard !pga3D.isNaN else { return .nan }
      let sustained = Double(pga3D) * 980.665 / 3
      return Float(min(7, max(0, 2 * log10(max(sustained, 1e-9)) + 0.94)))
    }
  }

  /// How the landslides of an inventory look: a run-out of a log-normal number of pixels
  /// (median, spread of its logarithm, cap) down the steepest descent, widening from half
  /// its half-width at the head to the full half-width (drawn uniformly from
  /// 1…`maximumHalfWidth` pixels) at the toe.
  struct LandslideShape {
    var medianLength: Double
    var lengthSpread: Double
    var maximumLength: Int
    var maximumHalfWidth: Int

    /// Older, often deeper landslides: ~10 pixels long, up to 7 wide.
    static let historical = LandslideShape(
      medianLength: 10, lengthSpread: 0.5, maximumLength: 50, maximumHalfWidth: 3)
    /// Shallow co-seismic slides: ~8 pixels long, up to 5 wide.
    static let earthquake = LandslideShape(
      medianLength: 8, lengthSpread: 0.45, maximumLength: 40, maximumHalfWidth: 2)

    /// A first guess of the pixels a landslide covers.
    var typicalArea: Double { medianLength * Double(maximumHalfWidth + 2) }
  }

  /// Ground flatter than this (degrees) stops a landslide's run-out.
  static let runoutSlope: Float = 10

  /// The inventory drawn from a latent process: p = sigmoid(b + linear) with b set so
  /// that landslides cover `share` of the land (a first b from a guessed area per
  /// landslide, then one corrected by the coverage of a trial draw), a landslide started
  /// wherever a uniform draw of the pixel falls below p, and each run out downslope.
  static func drawLandslides(
    linear: [Float], share: Double, shape: LandslideShape, layer: UInt64, area: Area,
    elevation: [Float], slope: [Float]
  ) -> (probability: [Float], inventory: [Float], count: Int) {
    func draw(rate: Double) -> (probability: [Float], inventory: [Float], count: Int) {
      let intercept = Self.intercept(linear, valid: area.valid, rate: rate)
      let probability = area.layer { index, _, _ in
        Float(1 / (1 + exp(-(intercept + Double(linear[index])))))
      }
      let (inventory, count) = runOut(
        probability: probability, shape: shape, area: area, elevation: elevation, slope: slope,
        layer: layer)
      return (probability, inventory, count)
    }
    let guess = share / shape.typicalArea
    let covered = draw(rate: guess).inventory.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
    return draw(rate: min(0.05, guess * share * Double(area.validCount) / Double(max(covered, 1))))
  }

  /// The b for which sigmoid(b + linear) averages `rate` over every 7th land pixel
  /// (bisection).
  static func intercept(_ linear: [Float], valid: [Bool], rate: Double) -> Double {
    let sample = stride(from: 0, to: linear.count, by: 7).compactMap {
      valid[$0] ? Double(linear[$0]) : nil
    }
    var (low, high) = (-60.0, 30.0)
    for _ in 0..<60 {
      let middle = (low + high) / 2
      let mean = sample.reduce(0) { $0 + 1 / (1 + exp(-(middle + $1))) } / Double(sample.count)
      if mean > rate { high = middle } else { low = middle }
    }
    return (low + high) / 2
  }

  /// Starts a landslide where the pixel's uniform draw (noise `layer`) falls below its
  /// probability and runs each out; 1 inside landslides, 0 outside, NaN at sea.
  static func runOut(
    probability: [Float], shape: LandslideShape, area: Area, elevation: [Float],
    slope: [Float], layer: UInt64
  ) -> (inventory: [Float], count: Int) {
    let (width, height) = (area.width, area.height)
    let dice = area.noise(layer)
    let discs = (0...shape.maximumHalfWidth).map { radius in
      (-radius...radius).flatMap { dr in
        (-radius...radius).compactMap { dc -> (Int, Int)? in
          let reach = Double(radius) + 0.5
          return Double(dr * dr + dc * dc) <= reach * reach ? (dr, dc) : nil
        }
      }
    }
    var inventory = area.layer { _, _, _ in 0 }
    var count = 0
    for start in 0..<area.count where area.valid[start] {
      let (row, column) = (start / width, start % width)
      guard (dice.lattice(column, row, octave: 0) + 1) / 2 < Double(probability[start]) else {
        continue
      }
      count += 1
      let drawnLength =
        shape.medianLength * exp(shape.lengthSpread * dice.gaussian(column, row, octave: 2))
      let length = min(shape.maximumLength, max(2, Int(drawnLength.rounded())))
      let u = (dice.lattice(column, row, octave: 4) + 1) / 2
      let halfWidth = 1 + min(shape.maximumHalfWidth - 1, Int(u * Double(shape.maximumHalfWidth)))
      var current = start
      for step in 0..<length {
        let radius = Int(
          (Double(halfWidth) * (0.5 + 0.5 * Double(step) / Double(length - 1))).rounded())
        let (r, c) = (current / width, current % width)
        for (dr, dc) in discs[radius] {
          let (rr, cc) = (r + dr, c + dc)
          guard (0..<height).contains(rr), (0..<width).contains(cc) else { continue }
          if area.valid[rr * width + cc] { inventory[rr * width + cc] = 1 }
        }
        if step >= 2 && slope[current] < runoutSlope { break }
        guard let next = steepestDescent(from: current, area: area, elevation: elevation) else {
          break
        }
        current = next
      }
    }
    return (inventory, count)
  }

  /// The land neighbour of steepest descent (drop over distance), nil in a pit.
  static func steepestDescent(from index: Int, area: Area, elevation: [Float]) -> Int? {
    let (row, column) = (index / area.width, index % area.width)
    var (steepest, target) = (Float(0), Int?.none)
    for (dr, dc) in FlowRouting.neighbours {
      let (r, c) = (row + dr, column + dc)
      guard (0..<area.height).contains(r), (0..<area.width).contains(c) else { continue }
      let neighbour = r * area.width + c
      guard area.valid[neighbour] else { continue }
      let drop = (elevation[index] - elevation[neighbour]) / (dr != 0 && dc != 0 ? 1.4142135 : 1)
      if drop > steepest { (steepest, target) = (drop, neighbour) }
    }
    return target
  }
}

extension ClassicalSyntheticArea {
  /// Generates the area into `directory` unless a study of this specification is there
  /// already (its `study.json` names the same seed and size).
  public static func ensure(
    _ specification: Specification, in directory: String, log: (String) -> Void
  ) throws(RasterError) {
    let manifestPath = (directory as NSString).appendingPathComponent(
      ClassicalStudyManifest.fileName)
    if let manifest = try? ClassicalStudyManifest.read(from: manifestPath),
      manifest.seed == specification.seed, manifest.width == specification.width,
      manifest.height == specification.height
    {
      return
    }
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw RasterError(path: directory, message: "cannot create the directory")
    }
    log("synthesising the study area in \(directory)")
    let manifest = try generate(specification, into: directory)
    log(manifest.summary(in: directory))
  }
}

extension ClassicalStudyManifest {
  /// One line for logs: the grid, the factors and each inventory's landslides.
  public func summary(in directory: String) -> String {
    "\(directory): \(width) × \(height) pixels of \(Int(pixelSize)) m, \(validPixels) valid, "
      + "\(factors.count) factors; "
      + inventories.keys.sorted().map {
        "\($0): \(landslides[$0] ?? 0) landslides, \(landslidePixels[$0] ?? 0) pixels"
      }.joined(separator: "; ")
  }
}
