import Foundation
import GeoData
import TensorEngine
import TestSupport
import Testing

/// `landslide classical synth|train|predict` end to end, on one process and on two MPI
/// ranks, on synthetic areas of 200 × 200 or 200 × 600 pixels and tiny models; and the
/// inputs a user can get wrong, each refused with the file named and nothing half-written.
/// The SLURM job (jobs/classical.sbatch) is tested beside the other batch scripts, in
/// `SlurmJobTests` (below): each local cluster takes the same port, so those tests must not
/// run at the same time as one another.
@Suite struct ClassicalCommandTests {
  /// Every model in the seed's Table 3 order, each made small enough for a debug build.
  static let everyModel = """
    models:
      logistic_regression:
      decision_tree:
        max_depth: 8
      knn:
        neighbours: 15
      ann:
        hidden: [8]
      mlp:
        hidden: [8, 8]
      random_forest:
        trees: 10
      bagging:
        estimators: 4
      stacking:
        base: [logistic_regression, decision_tree]
        folds: 3
    training:
      max_epochs: 60
      batch_size: 128
      learning_rate: 3.0e-3
    """
  static let modelNames = [
    "logistic_regression", "decision_tree", "knn", "ann", "mlp", "random_forest", "bagging",
    "stacking",
  ]
  static let inventories = ["historical", "earthquake"]

  // MARK: Running the command

  /// Runs `landslide ARGUMENTS` as one process (`ranks` 0) or under mpirun as `ranks` ranks.
  static func landslide(_ arguments: [String], ranks: Int = 0) throws -> Launcher.Result {
    guard ranks > 0 else { return try Launcher.run(Launcher.landslidePath, arguments) }
    return try Launcher.run(
      "/usr/bin/env",
      ["mpirun", "--oversubscribe", "-np", "\(ranks)", Launcher.landslidePath] + arguments,
      environment: DataParallelTests.mpiEnvironment, deadline: Launcher.Deadline.mpi)
  }

  /// `classical synth` of a `width` × `height` area into `directory`.
  static func synth(_ directory: URL, width: Int, height: Int) throws {
    let result = try landslide([
      "classical", "synth", "--out", directory.path, "--size", "\(width)", "\(height)",
    ])
    try #require(result.status == 0, "\(result.standardError)")
  }

  /// Writes a config into `directory` and returns its path.
  static func config(_ text: String, in directory: URL, name: String = "config.yaml") throws
    -> String
  {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
  }

  // MARK: Reading what it wrote

  /// Every file under `directory`, relative to it (none when it does not exist).
  static func files(under directory: URL) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
    return walker.compactMap { $0 as? String }.filter {
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(
        atPath: directory.appendingPathComponent($0).path, isDirectory: &isDirectory)
      return !isDirectory.boolValue
    }.sorted()
  }

  /// A failed command left nothing but `allowed` (whole files written before the input was
  /// found wrong) in `directory`: no raster, model, table, score or temporary file.
  static func expectNothingWritten(
    in directory: URL, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let left = files(under: directory)
    #expect(
      left.isEmpty, "left behind in \(directory.path): \(left)", sourceLocation: sourceLocation)
  }

  /// A failure the documented way (1, or 64 for what the command line or config got wrong),
  /// not a crash, with the message on standard error.
  static func expectRefusal(
    _ result: Launcher.Result, naming parts: [String],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      [1, 64].contains(result.status), "exit status \(result.status)",
      sourceLocation: sourceLocation)
    for part in parts {
      #expect(
        result.standardError.contains(part), "expected '\(part)' in: \(result.standardError)",
        sourceLocation: sourceLocation)
    }
  }

  /// Where every factor raster in `factors` holds data.
  static func validPixels(factors: URL) throws -> [Bool] {
    var valid: [Bool]?
    for name in try FileManager.default.contentsOfDirectory(atPath: factors.path)
    where name.hasSuffix(".tif") {
      let band = try RasterDataset(path: factors.appendingPathComponent(name).path).read(band: 0)
      valid = zip(valid ?? band.valid, band.valid).map { $0 && $1 }
    }
    return try #require(valid)
  }

  /// The bits of a raster's first band, so that NaN equals NaN.
  static func bits(_ path: URL) throws -> [UInt32] {
    try RasterDataset(path: path.path).read(band: 0).values.map(\.bitPattern)
  }

  /// Mann–Whitney AUC (ties count half), to check a map against the scores of a table.
  static func auc(scores: [Float], labels: [Float]) -> Double {
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var positiveRanks = 0.0
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
      let rank = Double(start + end) / 2 + 1
      for index in order[start...end] where labels[index] == 1 { positiveRanks += rank }
      start = end + 1
    }
    let positives = Double(labels.count { $0 == 1 })
    let negatives = Double(labels.count) - positives
    return (positiveRanks - positives * (positives + 1) / 2) / (positives * negatives)
  }

  /// The scores of `metrics.json`, by "inventory/model".
  static func metrics(_ run: URL) throws -> [String: [String: Any]] {
    let data = try Data(contentsOf: run.appendingPathComponent("metrics.json"))
    let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    var scores: [String: [String: Any]] = [:]
    for score in list {
      scores["\(score["inventory"] ?? "?")/\(score["model"] ?? "?")"] = score
    }
    return scores
  }

  // MARK: The chain

  /// synth → train (all eight models) → predict (each of them): the seed's Table 3 in
  /// auc.csv, one JSON object per model and inventory, every model saved, and every map on
  /// the factors' grid with nodata exactly off the factors' data and probabilities
  /// elsewhere, which score the test table as training did (so the map is on the right
  /// pixels, not shifted or transposed).
  @Test func quickChainScoresSavesAndMapsEveryModel() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = root.appendingPathComponent("study")
    try Self.synth(study, width: 200, height: 200)
    let config = try Self.config(
      """
      study:
        synthetic:
          size: [200, 200]
      tables:
        random_rows: 5000
      \(Self.everyModel)
      """, in: root)
    let run = root.appendingPathComponent("run")
    let trained = try Self.landslide([
      "classical", "train", "--config", config, "--data", study.path, "--run-dir", run.path,
      "--threads", "2", "--json",
    ])
    try #require(trained.status == 0, "\(trained.standardError)")

    // --json: one object per model and inventory, nothing else on standard output.
    let lines = trained.standardOutput.split(separator: "\n")
    #expect(lines.count == Self.modelNames.count * Self.inventories.count, "\(lines)")
    var printed: [String: [String: Any]] = [:]
    for line in lines {
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
      for key in ["model", "inventory", "auc_train", "auc_test", "f1"] {
        #expect(object[key] != nil, "\(key) missing in \(line)")
      }
      for key in ["auc_train", "auc_test"] {
        let value = try #require(object[key] as? Double, "\(key) in \(line)")
        #expect(value > 0.5 && value <= 1, "\(key) in \(line)")
      }
      let f1 = try #require(object["f1"] as? Double)
      #expect(f1 >= 0 && f1 <= 1, "\(line)")
      printed["\(object["inventory"] ?? "?")/\(object["model"] ?? "?")"] = object
    }
    let expectedKeys = Self.inventories.flatMap { i in Self.modelNames.map { "\(i)/\($0)" } }
    #expect(Set(printed.keys) == Set(expectedKeys))

    // auc.csv: the seed's Table 3, rows in the config's order, the printed AUCs rounded.
    let table = try String(contentsOf: run.appendingPathComponent("auc.csv"), encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    #expect(
      table.first?.joined(separator: ",")
        == "model,historical_train,historical_test,earthquake_train,earthquake_test")
    #expect(table.dropFirst().map { String($0[0]) } == Self.modelNames)
    for row in table.dropFirst() {
      try #require(row.count == 5, "\(row)")
      for (index, field) in row.dropFirst().enumerated() {
        let value = try #require(Double(field), "\(row)")
        #expect(value > 0.5 && value <= 1, "\(row)")
        let score = printed["\(Self.inventories[index / 2])/\(row[0])"]
        let auc = score?[index % 2 == 0 ? "auc_train" : "auc_test"] as? Double ?? -1
        #expect(String(format: "%.4f", auc) == field, "\(row): \(auc)")
      }
    }

    let factors = study.appendingPathComponent("factors")
    let grid = try RasterDataset(path: factors.appendingPathComponent("elevation.tif").path).grid
    let valid = try Self.validPixels(factors: factors)
    #expect(valid.contains(false) && valid.contains(true), "the synthetic area has sea and land")
    let maps = root.appendingPathComponent("maps")
    for model in Self.modelNames {
      for inventory in Self.inventories {
        let saved = run.appendingPathComponent("models/\(inventory)/\(model).safetensors")
        #expect(FileManager.default.fileExists(atPath: saved.path), "\(saved.path)")
      }
      let predicted = try Self.landslide([
        "classical", "predict", "--run-dir", run.path, "--model", model, "--out", maps.path,
        "--threads", "2",
      ])
      try #require(predicted.status == 0, "\(model): \(predicted.standardError)")
      for inventory in Self.inventories {
        let name = "\(inventory)_\(model)"
        let map = try RasterDataset(path: maps.appendingPathComponent("\(name).tif").path)
        #expect(map.grid == grid, "\(name).tif is not on the factors' grid")
        #expect(map.bandCount == 1)
        #expect(try map.noDataValue(band: 0) != nil, "\(name).tif declares no nodata")
        let values = try map.read(band: 0)
        #expect(values.valid == valid, "\(name).tif: nodata is not exactly off the factors' data")
        let outOfRange = zip(values.values, valid).filter { $1 && !($0 >= 0 && $0 <= 1) }
        #expect(outOfRange.isEmpty, "\(name).tif: \(outOfRange.count) values outside [0, 1]")

        // The map at the test table's pixels scores as the test table did in training.
        let test = try SafeTensorsFile(
          path: run.appendingPathComponent("tables/\(inventory)/test.safetensors").path)
        let (rows, columns) = (try test.floats("pixel_row"), try test.floats("pixel_column"))
        let scores = zip(rows, columns).map { values.values[Int($0) * grid.width + Int($1)] }
        let mapAUC = Self.auc(scores: scores, labels: Array(try test.floats("labels")))
        let trainedAUC = printed["\(inventory)/\(model)"]?["auc_test"] as? Double ?? -1
        #expect(
          abs(mapAUC - trainedAUC) < 1e-3, "\(name): map AUC \(mapAUC), trained \(trainedAUC)")

        let png = try Data(contentsOf: maps.appendingPathComponent("\(name).png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name).png is not a PNG")
      }
    }
  }

  /// With `--json`, standard output holds only JSON even when the run makes its synthetic
  /// study on first use.
  /// Making the study on first use logs to standard error under `--json`: standard output
  /// holds the JSON lines alone.
  @Test func jsonOutputStaysJSONWhenTheStudyIsMadeOnFirstUse() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let config = try Self.config(
      """
      study:
        synthetic:
          size: [200, 200]
      tables:
        random_rows: 2000
      models:
        logistic_regression:
      """, in: root)
    let run = root.appendingPathComponent("run")
    let result = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", run.path, "--threads", "2", "--json",
    ])
    try #require(result.status == 0, "\(result.standardError)")
    #expect(
      FileManager.default.fileExists(atPath: run.appendingPathComponent("data/study.json").path))
    let lines = result.standardOutput.split(separator: "\n")
    let notJSON = lines.filter {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] == nil
    }
    #expect(lines.count - notJSON.count == 2, "one object per inventory")
    #expect(notJSON.isEmpty, "not JSON on standard output: \(notJSON)")
  }

  // MARK: Ranks

  /// Two ranks (KNN's references sharded, the forest's trees split, the map's strips dealt
  /// out) compute what one process computes: the same scores and bitwise the same maps.
  /// The area is 600 rows high, three strips of 256 rows, so that both ranks map some.
  @Test func twoRanksScoreAndMapAsOneProcess() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = root.appendingPathComponent("study")
    try Self.synth(study, width: 200, height: 600)
    let config = try Self.config(
      """
      study:
        synthetic:
          size: [200, 600]
      tables:
        random_rows: 5000
      models:
        knn:
          neighbours: 15
        random_forest:
          trees: 10
      """, in: root)
    var maps: [Int: [String: [UInt32]]] = [:]
    var scores: [Int: [String: [String: Any]]] = [:]
    for ranks in [0, 2] {
      let run = root.appendingPathComponent("run\(ranks)")
      let trained = try Self.landslide(
        [
          "classical", "train", "--config", config, "--data", study.path, "--run-dir", run.path,
          "--threads", "1",
        ], ranks: ranks)
      try #require(trained.status == 0, "\(ranks) ranks: \(trained.standardError)")
      scores[ranks] = try Self.metrics(run)
      for model in ["knn", "random_forest"] {
        let out = run.appendingPathComponent("maps")
        let predicted = try Self.landslide(
          [
            "classical", "predict", "--run-dir", run.path, "--model", model, "--out", out.path,
            "--threads", "1",
          ], ranks: ranks)
        try #require(predicted.status == 0, "\(ranks) ranks: \(predicted.standardError)")
        for inventory in Self.inventories {
          maps[ranks, default: [:]]["\(inventory)_\(model)"] = try Self.bits(
            out.appendingPathComponent("\(inventory)_\(model).tif"))
        }
        let written = Self.files(under: out).filter {
          !$0.hasSuffix(".tif") && !$0.hasSuffix(".png")
        }
        #expect(written.isEmpty, "\(ranks) ranks left \(written)")
      }
    }
    let (one, two) = (try #require(scores[0]), try #require(scores[2]))
    #expect(one.count == 4 && Set(one.keys) == Set(two.keys))
    for (key, score) in one {
      for field in [
        "auc_train", "auc_test", "true_positives", "false_positives", "false_negatives",
        "true_negatives",
      ] {
        let (a, b) = (score[field] as? Double, two[key]?[field] as? Double)
        #expect(
          a != nil && a == b, "\(key) \(field): one process \(a ?? .nan), two ranks \(b ?? .nan)")
      }
    }
    let (single, double) = (try #require(maps[0]), try #require(maps[2]))
    #expect(single.count == 4 && Set(single.keys) == Set(double.keys))
    for (name, expected) in single {
      let actual = double[name] ?? []
      let differing = zip(expected, actual).count { $0 != $1 }
      #expect(
        expected.count == 200 * 600 && actual.count == expected.count && differing == 0,
        "\(name): \(differing) pixels differ between one process and two ranks")
    }
  }

  // MARK: Bad input

  /// A grid of `width` × `height` 10 m pixels in UTM 54N.
  static func grid(width: Int, height: Int) throws -> RasterGrid {
    try RasterGrid(
      width: width, height: height,
      geoTransform: GeoTransform(
        originX: 560_000, pixelWidth: 10, originY: 4_712_000, pixelHeight: -10),
      epsg: 32654)
  }

  static func writeRaster(_ url: URL, grid: RasterGrid, _ value: (Int) -> Float) throws {
    try writeGeoTIFF(
      path: url.path, grid: grid,
      bands: [RasterBand(description: "test", values: (0..<(grid.width * grid.height)).map(value))],
      noDataValue: -9999)
  }

  /// A study config of the user's own rasters.
  static func filesConfig(
    factors: URL, categorical: [String] = [], inventory: String, in directory: URL
  ) throws -> String {
    try config(
      """
      study:
        files:
          factors: \(factors.path)
          categorical: [\(categorical.joined(separator: ", "))]
          inventories:
            historical: \(inventory)
      tables:
        random_rows: 2000
      models:
        knn:
          neighbours: 3
      """, in: directory)
  }

  /// Factor rasters of different sizes: the smaller one is named, with both sizes and the
  /// file it differs from.
  @Test func factorsOnDifferentGridsAreRefused() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let factors = root.appendingPathComponent("factors")
    try FileManager.default.createDirectory(at: factors, withIntermediateDirectories: true)
    let (elevation, slope) = (
      factors.appendingPathComponent("elevation.tif"), factors.appendingPathComponent("slope.tif")
    )
    try Self.writeRaster(elevation, grid: Self.grid(width: 64, height: 64)) { Float($0) }
    try Self.writeRaster(slope, grid: Self.grid(width: 48, height: 64)) { Float($0 % 45) }
    let inventory = root.appendingPathComponent("inventory.tif")
    try Self.writeRaster(inventory, grid: Self.grid(width: 64, height: 64)) { $0 % 7 == 0 ? 1 : 0 }
    let config = try Self.filesConfig(factors: factors, inventory: inventory.path, in: root)
    let run = root.appendingPathComponent("run")
    let result = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", run.path, "--threads", "1",
    ])
    Self.expectRefusal(result, naming: [slope.path, "48 × 64", "64 × 64", elevation.path])
    Self.expectNothingWritten(in: run)
  }

  /// An inventory raster without a single landslide pixel.
  @Test func anInventoryWithoutLandslidesIsRefused() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = root.appendingPathComponent("study")
    try Self.synth(study, width: 200, height: 200)
    let grid = try RasterDataset(
      path: study.appendingPathComponent("inventory_historical.tif").path
    ).grid
    let none = root.appendingPathComponent("none.tif")
    try Self.writeRaster(none, grid: grid) { _ in 0 }
    let config = try Self.filesConfig(
      factors: study.appendingPathComponent("factors"),
      categorical: ["lithology", "soil", "land_use"], inventory: none.path, in: root)
    let run = root.appendingPathComponent("run")
    let result = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", run.path, "--threads", "1",
    ])
    Self.expectRefusal(result, naming: [none.path, "'historical' has no landslide pixels"])
    Self.expectNothingWritten(in: run)
  }

  /// A points inventory: forty points on the land train; the same with one more point off
  /// the rasters is refused, naming the CSV and the point's line.
  @Test func aPointOutsideTheRastersIsRefused() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = root.appendingPathComponent("study")
    try Self.synth(study, width: 200, height: 200)
    let factors = study.appendingPathComponent("factors")
    let valid = try Self.validPixels(factors: factors)
    let inventory = try RasterDataset(
      path: study.appendingPathComponent("inventory_historical.tif").path)
    let labels = try inventory.read(band: 0).values
    let grid = inventory.grid
    let landslides = valid.indices.filter { valid[$0] && labels[$0] == 1 }.prefix(20)
    let others = valid.indices.filter { valid[$0] && labels[$0] == 0 }.prefix(20)
    try #require(landslides.count == 20 && others.count == 20)
    func line(_ pixel: Int, _ label: String) -> String {
      let t = grid.geoTransform
      let x = t.originX + (Double(pixel % grid.width) + 0.5) * t.pixelWidth
      let y = t.originY + (Double(pixel / grid.width) + 0.5) * t.pixelHeight
      return "\(pixel),\(x),\(y),\(label)"
    }
    let header = "id,easting,northing,lslpts"
    let lines =
      [header] + landslides.map { line($0, "TRUE") } + others.map { line($0, "FALSE") }
    let points = root.appendingPathComponent("points.csv")
    let config = try Self.filesConfig(
      factors: factors, categorical: ["lithology", "soil", "land_use"],
      inventory: "{points: \(points.path), x: easting, y: northing, label: lslpts}", in: root)

    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: points)
    let good = root.appendingPathComponent("good")
    let trained = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", good.path, "--threads", "1",
    ])
    #expect(trained.status == 0, "forty points on the land: \(trained.standardError)")

    // Line 42: 5 km east of the area's eastern edge.
    let outside = "41,\(grid.geoTransform.originX + 7_000),\(grid.geoTransform.originY - 500),1"
    try Data((lines + [outside]).joined(separator: "\n").utf8).write(to: points)
    let run = root.appendingPathComponent("run")
    let result = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", run.path, "--threads", "1",
    ])
    Self.expectRefusal(
      result, naming: [points.path, "line 42", "(567000.0, 4711500.0) lies outside the rasters"])
    Self.expectNothingWritten(in: run)
  }

  /// A class code at prediction that the study the model was fitted on did not hold: the
  /// class, the factor and its file are named, and no map is written.
  @Test func anUnknownClassAtPredictionIsRefused() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let study = root.appendingPathComponent("study")
    try Self.synth(study, width: 200, height: 200)
    let config = try Self.config(
      """
      study:
        synthetic:
          size: [200, 200]
      tables:
        random_rows: 2000
      models:
        knn:
          neighbours: 15
        random_forest:
          trees: 4
      """, in: root)
    let run = root.appendingPathComponent("run")
    let trained = try Self.landslide([
      "classical", "train", "--config", config, "--data", study.path, "--run-dir", run.path,
      "--threads", "1",
    ])
    try #require(trained.status == 0, "\(trained.standardError)")

    // Class 99 on the first pixel of the land (lithology's codes are 1…20).
    let lithology = study.appendingPathComponent("factors/lithology.tif")
    let raster = try RasterDataset(path: lithology.path)
    var codes = try raster.read(band: 0).values
    let valid = try Self.validPixels(factors: study.appendingPathComponent("factors"))
    let pixel = try #require(valid.firstIndex(of: true))
    #expect(codes[pixel] >= 1 && codes[pixel] <= 20)
    codes[pixel] = 99
    let (grid, noData) = (raster.grid, try raster.noDataValue(band: 0))
    try writeGeoTIFF(
      path: lithology.path, grid: grid,
      bands: [RasterBand(description: "lithology", values: codes)], noDataValue: noData)

    // KNN takes the classes one-hot, the forest as codes: both must refuse.
    for model in ["knn", "random_forest"] {
      let out = root.appendingPathComponent("maps-\(model)")
      let result = try Self.landslide([
        "classical", "predict", "--run-dir", run.path, "--model", model, "--out", out.path,
        "--threads", "1",
      ])
      Self.expectRefusal(result, naming: ["lithology", "class 99"])
      // The file and the pixel on the grid.
      Self.expectRefusal(
        result,
        naming: [lithology.path, "pixel row \(pixel / grid.width), column \(pixel % grid.width)"])
      Self.expectNothingWritten(in: out)
    }
  }

  /// A factor directory whose rasters hold nodata everywhere.
  @Test func factorsWithoutDataAreRefused() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let factors = root.appendingPathComponent("factors")
    try FileManager.default.createDirectory(at: factors, withIntermediateDirectories: true)
    let grid = try Self.grid(width: 64, height: 64)
    for name in ["elevation", "slope"] {
      try Self.writeRaster(factors.appendingPathComponent("\(name).tif"), grid: grid) { _ in .nan }
    }
    let inventory = root.appendingPathComponent("inventory.tif")
    try Self.writeRaster(inventory, grid: grid) { $0 % 7 == 0 ? 1 : 0 }
    let config = try Self.filesConfig(factors: factors, inventory: inventory.path, in: root)
    let run = root.appendingPathComponent("run")
    let result = try Self.landslide([
      "classical", "train", "--config", config, "--run-dir", run.path, "--threads", "1",
    ])
    Self.expectRefusal(
      result, naming: [factors.path, "no pixel holds data in every factor raster"])
    Self.expectNothingWritten(in: run)
  }
}

extension SlurmJobTests {
  /// `sbatch --wait jobs/classical.sbatch` as two tasks on a tiny config: the study is made
  /// on first use, both models are fitted and scored on both ranks, and the forest is mapped.
  /// (Here rather than in ClassicalCommandTests: this suite runs its clusters one at a time.)
  @Test func classicalJobTrainsScoresAndMapsOnTwoRanks() throws {
    let cluster = try Cluster()
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let config = try ClassicalCommandTests.config(
      """
      study:
        synthetic:
          size: [200, 300]
      tables:
        random_rows: 2000
      models:
        knn:
          neighbours: 15
        random_forest:
          trees: 4
      """, in: root)
    let run = root.appendingPathComponent("run")
    let output = root.appendingPathComponent("classical.out")
    let finished = try cluster.run(
      "sbatch",
      [
        "--ntasks-per-node=2", "--cpus-per-task=1", "--output=\(output.path)", "--wait",
        "--export=ALL,LANDSLIDE_BIN=\(Launcher.landslidePath),CONFIG=\(config),"
          + "RUN_DIR=\(run.path),MAP_MODEL=random_forest,"
          + "LANDSLIDE_ARGS=--set tables.min_distance=1",
        "jobs/classical.sbatch",
      ], deadline: Launcher.Deadline.slurmJob)
    let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    #expect(finished.status == 0, "\(finished.standardError)\n\(log)")
    // Rank 0 alone reports: two ranks that failed to form one world would each say it all.
    for line in ["historical random_forest: AUC train", "random_forest historical: mapped"] {
      #expect(log.components(separatedBy: line).count == 2, "once: \(line)\n\(log)")
    }
    let table =
      (try? String(contentsOf: run.appendingPathComponent("auc.csv"), encoding: .utf8))
      ?? ""
    #expect(
      table.hasPrefix("model,historical_train,historical_test,earthquake_train,earthquake_test\n"),
      "\(table)\n\(log)")
    #expect(
      table.split(separator: "\n").map { $0.prefix { $0 != "," } } == [
        "model", "knn", "random_forest",
      ])
    for inventory in ClassicalCommandTests.inventories {
      for name in ["\(inventory)_random_forest.tif", "\(inventory)_random_forest.png"] {
        #expect(
          FileManager.default.fileExists(atPath: run.appendingPathComponent("maps/\(name)").path),
          "\(name)\n\(log)")
      }
    }
  }
}
