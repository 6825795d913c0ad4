import ArgumentParser
import Classical
import Configuration
import Distributed
import Foundation
import GeoData
import TensorEngine

/// `landslide classical`: the classical susceptibility models of SPEC.md §3.
struct ClassicalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "classical",
    abstract:
      "Classical susceptibility models on pixel tables: synthetic area, tables, training, maps.",
    subcommands: [
      ClassicalSynth.self, ClassicalTable.self, ClassicalTrain.self, ClassicalPredict.self,
      ClassicalBench.self,
    ])
}

/// What `classical table` and `classical train` share: the config and the study it names.
struct ClassicalStudyOptions: ParsableArguments {
  @Option(help: "Config (YAML); see configs/classical.yaml.")
  var config = "configs/classical.yaml"

  @OptionGroup var overrides: ConfigOverrides

  @Option(
    help: ArgumentHelp(
      "A study directory as `classical synth` writes it (default: the config's study; a synthetic one is made under RUN-DIR/data or OUT/data on first use).",
      valueName: "dir"))
  var data: String?

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  /// The config and its study; rank 0 synthesises a configured synthetic area into
  /// `defaultData` on first use while the other ranks wait.
  func load(defaultData: String, world: Communicator?, log: (String) -> Void = { print($0) })
    throws -> (ClassicalConfig, ClassicalStudy)
  {
    ThreadPool.shared.threadCount = threads
    let settings = try ClassicalConfig.load(file: config, overrides: overrides.values)
    let study = try ClassicalStudy.load(
      settings, data: data, defaultData: defaultData, world: world, log: log)
    return (settings, study)
  }
}

/// `landslide classical synth`.
struct ClassicalSynth: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract:
      "Write a synthetic study area of 10 m pixels: 21 factors, two inventories, the truth.",
    discussion: """
      Writes factors/*.tif (the seed's 21 factors; lithology, soil and land use as class \
      codes), inventory_historical.tif and inventory_earthquake.tif (0/1: landslides as \
      connected groups of pixels), truth_*.tif (the latent process's probability) and \
      study.json into --out. The same seed gives the same bytes.
      """)

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Seed.")
  var seed: UInt64 = 1

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp(
      "Width and height in pixels (the paper's area: 4710 4432).", valueName: "w h"))
  var size: [Int] = [2000, 2000]

  func validate() throws {
    guard size.count == 2, size.allSatisfy({ (32...100_000).contains($0) }) else {
      throw ValidationError("--size takes a width and a height, each 32 to 100000 pixels")
    }
  }

  func run() throws {
    let specification = ClassicalSyntheticArea.Specification(
      seed: seed, width: size[0], height: size[1])
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let manifest = try ClassicalSyntheticArea.generate(specification, into: out)
    print(manifest.summary(in: out))
  }
}

/// `landslide classical table`.
struct ClassicalTable: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "table",
    abstract: "Sample the training and test pixel tables of every inventory.",
    discussion: """
      Writes OUT/INVENTORY/train.safetensors and test.safetensors (tensors features [rows, \
      factors] with class codes for categorical factors, labels, pixel_row, pixel_column; \
      the columns and their classes as JSON in the metadata) and, with --csv, the same as \
      CSV with the pixels' map coordinates.
      """)

  @OptionGroup var study: ClassicalStudyOptions

  @Option(help: "Directory to write.")
  var out: String

  @Flag(help: "Also write each table as CSV.")
  var csv = false

  func run() throws {
    let (config, study) = try self.study.load(
      defaultData: (out as NSString).appendingPathComponent("data"), world: nil)
    let survey = try study.survey()
    for inventory in study.inventories {
      let tables = try study.tables(for: inventory, survey: survey, config: config.tables)
      let directory = (out as NSString).appendingPathComponent(inventory.name)
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      for (side, table) in [("train", tables.train), ("test", tables.test)] {
        let path = (directory as NSString).appendingPathComponent(side)
        try table.write(to: path + ".safetensors", gridWidth: study.grid.width)
        if csv {
          try table.writeCSV(
            to: path + ".csv", gridWidth: study.grid.width, pixelCentre: { study.centre(of: $0) })
        }
        print("\(path).safetensors: \(table.rows) rows, \(table.positives) landslides")
      }
    }
  }
}

/// `landslide classical train`.
struct ClassicalTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Fit every configured model on every inventory and score it (the seed's Table 3).",
    discussion: """
      RUN-DIR receives auc.csv (a row per model: training and test AUC per inventory), \
      confusion.csv (at 0.5), roc_INVENTORY.svg, metrics.json, the tables under tables/ and \
      the fitted models under models/INVENTORY/MODEL.safetensors. Under mpirun or srun the \
      ranks share the work: KNN's references, the forest's trees, the networks' batches.
      """)

  @OptionGroup var study: ClassicalStudyOptions

  @Option(help: "Directory for everything this run writes.")
  var runDir: String

  @Flag(help: "Print one JSON object per model and inventory.")
  var json = false

  func run() throws {
    try runOnRanks { world in
      let rank = world?.rank ?? 0
      // With --json, standard output holds the JSON lines alone.
      let log: (String) -> Void = {
        guard rank == 0 else { return }
        if json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } else { print($0) }
      }
      let (config, study) = try self.study.load(
        defaultData: (runDir as NSString).appendingPathComponent("data"), world: world, log: log)
      log("training on \(world?.size ?? 1) rank(s), \(self.study.threads) thread(s) each")
      let training = ClassicalTraining(
        config: config, study: study, runDirectory: runDir, communicator: world, log: log)
      if json, rank == 0 {
        training.scored = { score in
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.sortedKeys]
          print(String(decoding: try! encoder.encode(score), as: UTF8.self))
        }
      }
      _ = try training.run()
      if rank == 0, !json {
        print("scores in \((runDir as NSString).appendingPathComponent("auc.csv"))")
      }
    }
  }
}

/// `landslide classical predict`.
struct ClassicalPredict: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Map a fitted model's susceptibility over its study, for every inventory.",
    discussion: """
      Reads RUN-DIR/study.json and RUN-DIR/models/INVENTORY/MODEL.safetensors; writes \
      OUT/INVENTORY_MODEL.tif (the factors' grid, nodata where a factor has none) and a PNG \
      quick-look beside it. Strips of rows are dealt out over the ranks under mpirun or srun.
      """)

  @Option(help: "A run directory of `classical train`.")
  var runDir: String

  @Option(help: "The model to map (e.g. knn, random_forest, stacking).")
  var model: String

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  func run() throws {
    try runOnRanks { world in
      ThreadPool.shared.threadCount = threads
      let record = try StudyRecord.read((runDir as NSString).appendingPathComponent("study.json"))
      let study = try record.study()
      if world?.rank ?? 0 == 0 {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      }
      for inventory in study.inventories {
        let modelPath = [runDir, "models", inventory.name, "\(model).safetensors"].reduce("") {
          $0.isEmpty ? $1 : ($0 as NSString).appendingPathComponent($1)
        }
        guard FileManager.default.fileExists(atPath: modelPath) else {
          throw ValidationError(
            "\(modelPath): no such model; train it first (models: \(ClassicalModelConfig.names.joined(separator: ", ")))"
          )
        }
        let base = (out as NSString).appendingPathComponent("\(inventory.name)_\(model)")
        try ClassicalMapping.map(
          modelPath: modelPath, study: study, tiffPath: base + ".tif", pngPath: base + ".png",
          communicator: world, log: { print($0) })
      }
    }
  }
}
