import ArgumentParser
import GeoData

/// `landslide synth`: a synthetic study area with a known truth.
struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate a synthetic study area: predictors, inventory and the true hazard.")

  @Option(help: "Directory to write (predictors/, inventory.tif, truth_*.tif, study.json).")
  var out: String

  @Option(help: "Random seed: the same seed gives the same bytes.")
  var seed: UInt64 = 1

  @Option(parsing: .upToNextOption, help: "Width and height in km (multiples of the 1 km cell).")
  var sizeKm: [Int] = [48, 48]

  @Option(help: "Periods: co-seismic, then post- and pre-monsoon in turn.")
  var periods = 8

  func validate() throws {
    guard sizeKm.count == 2, sizeKm.allSatisfy({ $0 >= 4 && $0 <= 4000 }) else {
      throw ValidationError("--size-km: expected two sizes in km, each 4…4000, found \(sizeKm)")
    }
    guard (1...256).contains(periods) else { throw ValidationError("--periods: expected 1…256") }
  }

  func run() throws {
    ComputeReport.log()
    let manifest = try SyntheticStudyArea.generate(
      .init(seed: seed, widthKm: sizeKm[0], heightKm: sizeKm[1], periods: periods), into: out)
    print(
      "\(out): \(manifest.widthKm) × \(manifest.heightKm) km, \(manifest.periods) periods, "
        + "\(manifest.staticPredictors.count + manifest.timeVaryingPredictors.count + 1) predictors, seed \(seed)"
    )
  }
}
