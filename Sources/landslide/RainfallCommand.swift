import ArgumentParser
import Classical
import Configuration
import Distributed
import Foundation
import Rainfall
import Sweep
import TensorEngine
import Training

/// `landslide rainfall`: the explainable rainfall thresholds of SPEC.md §4.
struct RainfallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rainfall",
    abstract:
      "Rainfall thresholds: synthetic country, events of dated landslides, the seed's models.",
    subcommands: [
      RainfallSynth.self, RainfallEvents.self, RainfallTrain.self, RainfallExplain.self,
      RainfallThresholds.self, RainfallBench.self,
    ])
}

/// `landslide rainfall synth`.
struct RainfallSynth: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract:
      "Write a synthetic country: daily rain and soil moisture, statics, regions, a catalogue.",
    discussion: """
      Writes rain/rain_YYYY.tif and soil_moisture/soil_moisture_YYYY.tif (a band per day, \
      described by its date; 0.05° cells, EPSG:4326), statics/*.tif, regions.tif (five \
      macro-regions, codes 1–5), catalogue.csv (id, date, longitude, latitude, trigger, \
      region, true_probability) and country.json into --out. The same seed gives the same \
      files.
      """)

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Seed.")
  var seed = 1

  @Option(help: "First year of the daily series.")
  var firstYear = 2015

  @Option(help: "Years of daily series (landslides from the second on).")
  var years = 6

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Width and height in 0.05° cells.", valueName: "w h"))
  var size: [Int] = [120, 140]

  @Option(help: "Land cells where landslides may happen.")
  var sites = 1500

  @Option(help: "Expected landslides.")
  var landslides = 3000

  func validate() throws {
    guard size.count == 2, size.allSatisfy({ (40...10_000).contains($0) }) else {
      throw ValidationError("--size takes a width and a height, each 40 to 10000 cells")
    }
  }

  func run() throws {
    var specification = SyntheticCountry.Specification()
    specification.seed = seed
    specification.firstYear = firstYear
    specification.years = years
    (specification.width, specification.height) = (size[0], size[1])
    specification.sites = sites
    specification.landslides = landslides
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    print(try SyntheticCountry.generate(specification, into: out).summary(in: out))
  }
}

/// `landslide rainfall events`.
struct RainfallEvents: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "events",
    abstract: "Cut the rain before each landslide into events; label each window's trigger.",
    discussion: """
      For every landslide of the catalogue, the daily rain of the window before it (365 \
      days) at its site is cut into events at dry spells (48 h June–September, 96 h \
      otherwise, as configured); the event that ended closest before the landslide is its \
      trigger (label 1) unless it ended more than 10 days before; then the lowest 10 % of \
      totals are dropped. Writes OUT/events.csv (landslide, site, region, start, end, \
      total_mm, duration_days, duration_hours, intensity_mm_per_day, soil_moisture_7d, the \
      statics, label, truth) and OUT/events.json (counts per region, what was skipped and \
      why), and prints the counts per region.
      """)

  @Option(help: "Config (YAML); see configs/rainfall.yaml.")
  var config = "configs/rainfall.yaml"

  @OptionGroup var overrides: ConfigOverrides

  @Option(
    help: ArgumentHelp(
      "A country as `rainfall synth` writes it (default: the config's inputs; a synthetic one is made under OUT/data on first use).",
      valueName: "dir"))
  var data: String?

  @Option(help: "Directory to write.")
  var out: String

  func run() throws {
    let settings = try RainfallConfig.load(file: config, overrides: overrides.values)
    let study: RainfallStudy
    if let data {
      study = try RainfallStudy(directory: data)
    } else {
      switch settings.inputs {
      case .files(let files): study = try RainfallStudy(files: files)
      case .synthetic(let synthetic):
        let directory = (out as NSString).appendingPathComponent("data")
        try SyntheticCountry.ensure(synthetic, in: directory) { print($0) }
        study = try RainfallStudy(directory: directory)
      }
    }
    let extraction = try RainfallExtraction(study: study, rules: settings.events)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try extraction.write(to: out)
    print(extraction.summary)
    print("events in \((out as NSString).appendingPathComponent("events.csv"))")
  }
}

/// `landslide rainfall train`.
struct RainfallTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Fit and compare the seed's models on the events by its protocol.",
    discussion: """
      Per repetition, an 80/20 split stratified within each macro-region, and on the 80 % \
      leave-one-region-out folds with SMOTE on each training fold; every point of each \
      model's grid (training.models) on every fold. Each model's best point is reported \
      with the mean ± 95 % interval over repetitions of AUC, sensitivity, specificity, \
      precision and F1 on the validation regions, then refitted on the 80 % and scored on \
      the 20 %; the E–D power law E = 7.7 D^0.39 is scored alike. Writes RUN-DIR/grid.csv, \
      results.csv, mcnemar.csv, best.json, roc_test.svg and models/MODEL.safetensors. \
      Under mpirun or srun, rank 0 hands the fits out to every rank (each fits with \
      --threads); every finished fit is appended to RUN-DIR/fits.jsonl, so a job stopped \
      by SIGTERM or SIGUSR1 (exit 75) or killed resumes from there when run again. \
      lightgbm is XGBoost's histogram booster grown leaf-wise (grow_policy lossguide, \
      num_leaves as max_leaves): LightGBM itself has no Debian package.
      """)

  @Option(help: "Config (YAML); see configs/rainfall.yaml.")
  var config = "configs/rainfall.yaml"

  @OptionGroup var overrides: ConfigOverrides

  @Option(help: "A directory of `rainfall events` (events.safetensors).")
  var events: String

  @Option(help: "Directory for everything this run writes.")
  var runDir: String

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  @Flag(help: "Print one JSON object per model.")
  var json = false

  func run() throws {
    try runOnRanks(concurrentThreads: true) { world in
      ThreadPool.shared.threadCount = threads
      let rank = world?.rank ?? 0
      let settings = try RainfallConfig.load(file: config, overrides: overrides.values)
      let set = try EventSet.read(
        (events as NSString).appendingPathComponent(EventSet.fileName))
      if rank == 0 {
        try FileManager.default.createDirectory(
          atPath: runDir, withIntermediateDirectories: true)
      }
      let log: (String) -> Void = {
        if json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } else { print($0) }
      }
      if rank == 0 {
        log(
          "XGBoost \(BoostedTrees.version); \(world?.size ?? 1) rank(s) × \(threads) thread(s)")
      }
      let training = ThresholdTraining(
        config: settings.training, events: set, runDirectory: runDir, log: log)
      if json {
        training.reported = { result in
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.sortedKeys]
          print(String(decoding: (try? encoder.encode(result)) ?? Data(), as: UTF8.self))
        }
      }
      let runner: any FitRunner =
        if let world, world.size > 1 {
          DistributedFitRunner(world: world)
        } else {
          LocalFitRunner(stopRequested: { StopRequest.isPending })
        }
      switch try training.run(runner: runner) {
      case .finished:
        if !json {
          print("results in \((runDir as NSString).appendingPathComponent("results.csv"))")
        }
      case .stopped(let recorded, let total):
        // runOnRanks prints it on rank 0 and exits 75.
        throw TrainingError(
          "stopped on request with \(recorded) of \(total) fits recorded in "
            + "\((runDir as NSString).appendingPathComponent(FitRecords.fileName)); run the "
            + "same command to resume", kind: .interrupted(checkpoint: nil))
      case .handedOut: break
      }
    }
  }
}

/// `landslide rainfall explain`.
struct RainfallExplain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "SHAP values of a run's XGBoost model on its test set, with the seed's figures.",
    discussion: """
      XGBoost's own TreeSHAP (each row's values add up to the model's log-odds) on the test \
      rows of `rainfall train`. Writes OUT/shap.npy (rows × features + bias), \
      shap_features.json, mean_abs_shap.csv, shap_bar.svg, shap_beeswarm.svg, \
      partial_dependence.svg (the five strongest features) and the seed's probability maps \
      probability_duration_total.png and probability_duration_intensity.png (the model's \
      mean probability over the test rows at each duration and total or intensity, with \
      their CSV), and prints the ranking.
      """)

  @Option(help: "A run directory of `rainfall train`.")
  var runDir: String

  @Option(help: "The `rainfall events` directory the run trained on.")
  var events: String

  @Option(help: "The boosted model to explain (xgboost or lightgbm).")
  var model = "xgboost"

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Compute threads.")
  var threads: Int = ComputeThreads.available

  func run() throws {
    ThreadPool.shared.threadCount = threads
    let set = try EventSet.read((events as NSString).appendingPathComponent(EventSet.fileName))
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let ranking = try ThresholdExplanation.run(
      runDirectory: runDir, events: set, model: model, out: out)
    for (feature, value) in ranking { print(String(format: "%@,%.5f", feature, value)) }
  }
}
