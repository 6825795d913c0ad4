import Configuration
import Foundation
import GeoData
import TensorEngine

#if canImport(Glibc)
  import Glibc
#endif

/// A synthetic country for the rainfall thresholds (SPEC.md §4), written in the formats
/// of the real inputs so that the synthetic path runs the real readers:
/// - `rain/rain_YYYY.tif`, `soil_moisture/soil_moisture_YYYY.tif`: one band per day
///   (descriptions are the ISO dates), 0.05° cells in EPSG:4326, sea as nodata;
/// - `statics/*.tif`: elevation (m), slope (°), aspect (°), plan and profile curvature
///   (1/m), distances to roads and rivers (m), lithology (19 classes), soil (10) and land
///   use (21) as class codes;
/// - `regions.tif`: the five macro-regions as codes 1–5 (names in `country.json`);
/// - `catalogue.csv`: `id, date, longitude, latitude, trigger, region, true_probability`;
/// - `country.json`: the specification, regions, statics and the latent process.
///
/// Climate: each region has its own daily Markov chain of wet and dry days (wetter and
/// more persistent October–May than June–September), gamma-distributed amounts on wet
/// days times an orographic gain of elevation and a smooth daily field, and a soil-water
/// bucket (filled by rain, emptied by season-dependent evaporation and drainage) gives
/// the soil moisture. Landslides: at `sites` random land cells every event of the series
/// (the `EventRules` cut) triggers one, dated on its last day, with the probability of
/// `LatentProcess`, its intercept set so that `landslides` are expected.
public enum SyntheticCountry {
  /// Seed, years, grid size, sites and expected landslides (`inputs.synthetic` of a
  /// rainfall config).
  public typealias Specification = RainfallSyntheticConfig

  public static let regions = ["Northwest", "Northeast", "Center", "South", "Islands"]
  /// Degrees per cell, and the north-west corner.
  static let cell = 0.05
  static let west = 7.0
  static let north = 46.5

  public static let staticNames = [
    "elevation", "slope", "aspect", "plan_curvature", "profile_curvature", "distance_to_roads",
    "distance_to_rivers", "lithology", "soil", "land_use",
  ]
  public static let classes = ["lithology": 19, "soil": 10, "land_use": 21]

  /// Writes the country into `directory` and returns its manifest (also `country.json`).
  @discardableResult
  public static func generate(_ specification: Specification, into directory: String)
    throws(RainfallError) -> CountryManifest
  {
    let s = specification
    guard s.width >= 40, s.height >= 40, s.years >= 2, s.sites >= 10 else {
      throw RainfallError(
        directory, "a country needs at least 40 × 40 cells, 2 years and 10 sites")
    }
    let grid: RasterGrid
    do {
      grid = try RasterGrid(
        width: s.width, height: s.height,
        geoTransform: GeoTransform(
          originX: west, pixelWidth: cell, rowRotation: 0, originY: north, columnRotation: 0,
          pixelHeight: -cell),
        epsg: 4326)
    } catch { throw RainfallError(directory, error.message) }
    for folder in ["rain", "soil_moisture", "statics"] {
      do {
        try FileManager.default.createDirectory(
          atPath: (directory as NSString).appendingPathComponent(folder),
          withIntermediateDirectories: true)
      } catch { throw RainfallError(directory, "cannot create \(folder)/") }
    }
    let land = Land(specification: s)
    let statics = land.statics(grid: grid)
    func write(_ name: String, _ values: [Float]) throws(RainfallError) {
      let path = (directory as NSString).appendingPathComponent(name)
      do {
        try writeGeoTIFF(
          path: path, grid: grid,
          bands: [RasterBand(description: (name as NSString).lastPathComponent, values: values)],
          noDataValue: -9999)
      } catch { throw RainfallError(path, error.message) }
    }
    for (name, values) in zip(staticNames, statics) { try write("statics/\(name).tif", values) }
    try write("regions.tif", land.region.map { $0 < 0 ? .nan : Float($0 + 1) })

    // Sites: distinct land cells in a seeded order.
    var random = RandomGenerator(seed: UInt64(s.seed) &+ 0x517E)
    var landCells = land.region.indices.filter { land.region[$0] >= 0 }
    landCells.shuffle(using: &random)
    let sites = Array(landCells.prefix(s.sites)).sorted()
    let climate = Climate(specification: s, land: land)
    let series = try climate.write(
      grid: grid, into: directory, elevation: statics[0], recording: sites)

    let rules = EventRules()
    var latent = LatentProcess()
    let (slope, lithology) = (
      statics[staticNames.firstIndex(of: "slope")!],
      statics[staticNames.firstIndex(of: "lithology")!]
    )
    var candidates: [(site: Int, event: RainfallEvent, logit: Double)] = []
    // Every landslide has its whole window, and every event in it its antecedent days.
    let drawFrom = series[0].first + rules.windowDays + rules.antecedentDays
    for (index, cell) in sites.enumerated() {
      let site = series[index]
      for event in rules.events(in: site, from: site.first, through: site.end - 1)
      where event.end >= drawFrom {
        candidates.append(
          (index, event, latent.logit(event, slope: slope[cell], lithology: lithology[cell])))
      }
    }
    latent.intercept = LatentProcess.intercept(
      expecting: Double(s.landslides), logits: candidates.map(\.logit))
    var catalogue = "id,date,longitude,latitude,trigger,region,true_probability\n"
    var drawn = 0
    var perRegion = [Int](repeating: 0, count: regions.count)
    for candidate in candidates {
      let p = LatentProcess.sigmoid(latent.intercept + candidate.logit)
      guard Double(random.nextUniform()) < p else { continue }
      drawn += 1
      let site = sites[candidate.site]
      let east = Double(site % s.width) + 0.2 + 0.6 * Double(random.nextUniform())
      let south = Double(site / s.width) + 0.2 + 0.6 * Double(random.nextUniform())
      let (longitude, latitude) = (west + east * cell, north - south * cell)
      let region = land.region[site]
      perRegion[region] += 1
      catalogue +=
        String(format: "SL%05d,", drawn) + "\(candidate.event.end),"
        + String(format: "%.5f,%.5f,rain,", longitude, latitude) + regions[region]
        + String(format: ",%.6f\n", p)
    }
    let cataloguePath = (directory as NSString).appendingPathComponent("catalogue.csv")
    try RunFiles.write(catalogue, to: cataloguePath)
    let manifest = CountryManifest(
      specification: s, regions: regions, staticNames: staticNames, classes: classes,
      latent: latent, landslides: drawn,
      landslidesByRegion: Dictionary(
        uniqueKeysWithValues: zip(regions, perRegion)),
      first: series[0].first, last: series[0].end - 1)
    try manifest.write(
      to: (directory as NSString).appendingPathComponent(CountryManifest.fileName))
    return manifest
  }
}

extension SyntheticCountry {
  /// Generates the country into `directory` unless one of this specification is there.
  public static func ensure(
    _ specification: Specification, in directory: String, log: (String) -> Void
  ) throws(RainfallError) {
    let manifest = (directory as NSString).appendingPathComponent(CountryManifest.fileName)
    if let made = try? CountryManifest.read(from: manifest), made.specification == specification {
      return
    }
    log("synthesising the country in \(directory)")
    log(try generate(specification, into: directory).summary(in: directory))
  }
}

/// `country.json` of a synthetic country.
public struct CountryManifest: Codable, Equatable, Sendable {
  public var specification: SyntheticCountry.Specification
  /// Region names, code 1 first.
  public var regions: [String]
  public var staticNames: [String]
  public var classes: [String: Int]
  public var latent: LatentProcess
  public var landslides: Int
  public var landslidesByRegion: [String: Int]
  public var first: Day
  public var last: Day

  public static let fileName = "country.json"

  enum CodingKeys: String, CodingKey {
    case specification, regions, classes, latent, landslides, first, last
    case staticNames = "statics"
    case landslidesByRegion = "landslides_by_region"
  }

  /// One line for logs.
  public func summary(in directory: String) -> String {
    let s = specification
    return "\(directory): \(s.width) × \(s.height) cells of 0.05°, \(first)–\(last), "
      + "\(landslides) landslides at \(s.sites) sites ("
      + regions.map { "\($0) \(landslidesByRegion[$0] ?? 0)" }.joined(separator: ", ") + ")"
  }

  public static func read(from path: String) throws(RainfallError) -> CountryManifest {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw RainfallError(path, "cannot read the synthetic country's manifest")
    }
    do { return try JSONDecoder().decode(CountryManifest.self, from: data) } catch {
      throw RainfallError(path, "unreadable manifest (\(error))")
    }
  }

  func write(to path: String) throws(RainfallError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do { try AtomicFile.write(try encoder.encode(self), to: path) } catch {
      throw RainfallError(path, "cannot write (\(error))")
    }
  }
}

/// The probability that an event triggers a landslide at a site: a logistic function of
/// the event's total and intensity (log scale: the seed finds total rain dominant), its
/// antecedent soil moisture, the slope and the lithology, with intense rain counting
/// mostly on wet soil (an interaction no linear model of the features holds),
///   logit p = intercept + 2.2 ln(1 + E) + 0.2 ln(1 + I) + 1.2 ln(1 + I) σ((θ − 0.36)/0.01)
///             + 0.3 (θ − 0.30)/0.08 + 0.35 (slope − 10)/8 + weakness(lithology),
/// where weakness is −0.6 … 0.6 in steps over the 19 classes (odd codes weaker).
public struct LatentProcess: Codable, Equatable, Sendable {
  public var intercept = 0.0
  public var total = 2.2
  public var intensity = 0.2
  /// The intensity term's extra weight on wet soil, and where the soil counts as wet.
  public var wetIntensity = 1.2
  public var wetSoil = 0.36
  public var soilMoisture = 0.3
  public var slope = 0.35

  public init() {}

  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

  /// Everything but the intercept, at a site of `slope` degrees on `lithology`.
  func logit(_ event: RainfallEvent, slope degrees: Float, lithology: Float) -> Double {
    let code = Int(lithology)
    let weakness = (code % 2 == 1 ? 0.6 : -0.6) * Double(code) / 19
    let moisture = event.antecedentSoilMoisture ?? 0.3
    let wet = Self.sigmoid((moisture - wetSoil) / 0.01)
    return total * log1p(event.total) + (intensity + wetIntensity * wet) * log1p(event.intensity)
      + soilMoisture * (moisture - 0.3) / 0.08
      + slope * (Double(degrees) - 10) / 8 + weakness
  }

  /// The true probability that `event` triggers a landslide at a site of `slope` degrees
  /// on `lithology`.
  public func probability(_ event: RainfallEvent, slope: Float, lithology: Float) -> Double {
    Self.sigmoid(intercept + logit(event, slope: slope, lithology: lithology))
  }

  /// The intercept whose probabilities sum to `expected` over `logits` (bisection: the sum
  /// grows with the intercept).
  static func intercept(expecting expected: Double, logits: [Double]) -> Double {
    var (low, high) = (-60.0, 20.0)
    for _ in 0..<100 {
      let middle = (low + high) / 2
      let sum = logits.reduce(0) { $0 + sigmoid(middle + $1) }
      if sum < expected { low = middle } else { high = middle }
    }
    return (low + high) / 2
  }
}
