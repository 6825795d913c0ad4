import Foundation
import TestSupport
import Testing

/// `landslide rainfall synth|events` end to end on a small synthetic country, read once as
/// the synthetic directory and once as a user's files through a config; and the inputs a
/// user can get wrong, each named.
@Suite struct RainfallCommandTests {
  /// A 48 × 56 cell country over two years, made once per test.
  static func country(in root: URL) throws -> URL {
    let country = root.appendingPathComponent("country")
    let made = try Launcher.landslide(
      "rainfall", "synth", "--out", country.path, "--size", "48", "56", "--years", "2",
      "--sites", "60", "--landslides", "150")
    try #require(made.status == 0, "\(made.standardError)")
    #expect(made.standardOutput.contains("landslides at 60 sites"))
    return country
  }

  /// The small country's events, cut by configs/rainfall.yaml's rules.
  static func events(in root: URL) throws -> URL {
    let country = try country(in: root)
    let events = root.appendingPathComponent("events")
    let cut = try Launcher.landslide(
      "rainfall", "events", "--config", "configs/rainfall.yaml", "--data", country.path, "--out",
      events.path)
    try #require(cut.status == 0, "\(cut.standardError)")
    return events
  }

  /// A training config with one point per model but XGBoost's `xgboost` grid.
  static func trainingConfig(in root: URL, repetitions: Int, xgboost: String) throws -> URL {
    let config = root.appendingPathComponent("train.yaml")
    try """
    training:
      repetitions: \(repetitions)
      models:
        xgboost: \(xgboost)
        lightgbm: {n_estimators: [20], num_leaves: [7]}
        random_forest: {n_estimators: [10], max_depth: [8]}
        logistic_regression: {C: [1], penalty: [l2]}
    """.write(to: config, atomically: true, encoding: .utf8)
    return config
  }

  struct Record: Decodable {
    struct Count: Decodable, Equatable {
      let region: String
      let positives: Int
      let negatives: Int
    }
    let events: Int
    let positives: Int
    let regions: [Count]
    let unplaced: [String]
    let unreadableRows: [String]
  }

  static func record(_ directory: URL) throws -> Record {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(
      Record.self, from: Data(contentsOf: directory.appendingPathComponent("events.json")))
  }

  /// The user's-files path through a config: the country's catalogue, rasters, statics,
  /// and its regions from the catalogue's column; `catalogue` replaces the catalogue.
  static func filesConfig(_ country: URL, catalogue: String? = nil, dateColumn: String = "date")
    -> String
  {
    """
    inputs:
      files:
        catalogue:
          path: \(catalogue ?? country.appendingPathComponent("catalogue.csv").path)
          columns: {id: id, date: \(dateColumn), x: longitude, y: latitude, trigger: trigger}
          date_format: "%Y-%m-%d"
          triggers: [rain]
        rain: \(country.path)/rain
        soil_moisture: \(country.path)/soil_moisture
        statics: \(country.path)/statics
        categorical: [lithology, soil, land_use]
        regions: {column: region}
    """
  }

  @Test func eventsFromTheCountryAndFromTheUsersFilesAgree() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let country = try Self.country(in: root)
    let synthetic = root.appendingPathComponent("synthetic")
    let cut = try Launcher.landslide(
      "rainfall", "events", "--config", "configs/rainfall.yaml", "--data", country.path, "--out",
      synthetic.path)
    try #require(cut.status == 0, "\(cut.standardError)")
    #expect(cut.standardOutput.hasPrefix("region,positives,negatives\n"))
    let record = try Self.record(synthetic)
    #expect(record.positives > 100 && record.events > 10 * record.positives / 2)
    #expect(record.unplaced.isEmpty && record.unreadableRows.isEmpty)
    let csv = try String(
      contentsOf: synthetic.appendingPathComponent("events.csv"), encoding: .utf8)
    let lines = csv.split(separator: "\n")
    #expect(lines.count == record.events + 1)
    #expect(
      lines[0].hasPrefix(
        "landslide,site,x,y,region,start,end,total_mm,duration_days,duration_hours,"
          + "intensity_mm_per_day,soil_moisture_7d,elevation,slope,aspect,"))
    #expect(lines[0].hasSuffix(",lithology,soil,land_use,label,truth"))

    let config = root.appendingPathComponent("files.yaml")
    try Self.filesConfig(country).write(to: config, atomically: true, encoding: .utf8)
    let files = root.appendingPathComponent("files")
    let again = try Launcher.landslide(
      "rainfall", "events", "--config", config.path, "--out", files.path)
    try #require(again.status == 0, "\(again.standardError)")
    let fromFiles = try Self.record(files)
    #expect(fromFiles.regions == record.regions)
    #expect(fromFiles.events == record.events)
  }

  /// The protocol on the small country with one point per model: every model reported
  /// with the seed's figures, refitted and saved, and compared with McNemar's test.
  @Test func trainComparesEveryModel() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let events = try Self.events(in: root)
    let config = try Self.trainingConfig(
      in: root, repetitions: 2, xgboost: "{n_estimators: [20], max_depth: [3]}")
    let run = root.appendingPathComponent("run")
    let trained = try Launcher.landslide(
      "rainfall", "train", "--config", config.path, "--events", events.path, "--run-dir",
      run.path, "--json", "--threads", "1")
    try #require(trained.status == 0, "\(trained.standardError)")
    let lines = trained.standardOutput.split(separator: "\n")
    let objects = try lines.map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    #expect(
      objects.compactMap { $0["model"] as? String }
        == ["xgboost", "lightgbm", "random_forest", "logistic_regression", "ed_curve"])
    for object in objects {
      for key in ["auc", "auc_ci", "sensitivity", "specificity", "precision", "f1", "test"] {
        #expect(object[key] != nil, "\(key) missing in \(object)")
      }
      #expect((object["auc"] as? Double ?? 0) > 0.6, "\(object)")
    }
    // The E–D curve calls nearly every landslide and many non-landslides.
    let curve = objects.last!
    #expect((curve["sensitivity"] as? Double ?? 0) > 0.9)
    #expect((curve["specificity"] as? Double ?? 1) < 0.6)
    for file in ["grid.csv", "results.csv", "mcnemar.csv", "best.json", "roc_test.svg"] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "\(file)")
    }
    for model in ["xgboost", "lightgbm", "random_forest", "logistic_regression"] {
      #expect(
        FileManager.default.fileExists(
          atPath: run.appendingPathComponent("models/\(model).safetensors").path))
    }
    let mcnemar = try String(
      contentsOf: run.appendingPathComponent("mcnemar.csv"), encoding: .utf8)
    #expect(mcnemar.split(separator: "\n").count == 5)
    #expect(trained.standardError.contains("XGBoost 1.7.4"))

    // Explanations: SHAP values of the test rows that add up to the model's log-odds.
    let explained = root.appendingPathComponent("explained")
    let explain = try Launcher.landslide(
      "rainfall", "explain", "--run-dir", run.path, "--events", events.path, "--out",
      explained.path)
    try #require(explain.status == 0, "\(explain.standardError)")
    let ranking = explain.standardOutput.split(separator: "\n")
    // As in the seed, the rain features outweigh every static factor.
    #expect(ranking.count == 14, "\(ranking)")
    #expect(
      Set(ranking.prefix(4).map { String($0.prefix { $0 != "," }) })
        == ["total_mm", "soil_moisture_7d", "intensity_mm_per_day", "duration_hours"],
      "\(ranking)")
    for file in [
      "shap.npy", "shap_features.json", "mean_abs_shap.csv", "shap_bar.svg", "shap_beeswarm.svg",
      "partial_dependence.svg", "probability_duration_total.png",
      "probability_duration_total.csv", "probability_duration_intensity.png",
      "probability_duration_intensity.csv",
    ] {
      #expect(FileManager.default.fileExists(atPath: explained.appendingPathComponent(file).path))
    }

    // Threshold maps: the 1–5-day positives searched with the model, kriged at 0.05°.
    let maps = root.appendingPathComponent("maps")
    let thresholds = try Launcher.landslide(
      "rainfall", "thresholds", "--run-dir", run.path, "--events", events.path, "--out",
      maps.path, "--levels", "0.5", "0.7")
    try #require(thresholds.status == 0, "\(thresholds.standardError)")
    #expect(thresholds.standardOutput.contains("events of 1–5 days searched at"))
    for file in [
      "thresholds.csv", "thresholds.json", "variogram.json", "threshold_p50.tif",
      "threshold_p50.png", "threshold_p70.tif",
    ] {
      #expect(
        FileManager.default.fileExists(atPath: maps.appendingPathComponent(file).path),
        "\(file)\n\(thresholds.standardOutput)")
    }
    let falling = try Launcher.landslide(
      "rainfall", "thresholds", "--run-dir", run.path, "--events", events.path, "--out",
      maps.path, "--levels", "0.9", "0.5")
    #expect(falling.status != 0)
    #expect(falling.standardError.contains("--levels must rise strictly"))

    // Fits run side by side on the threads: the same figures on one thread or two.
    let twice = try Launcher.landslide(
      "rainfall", "train", "--config", config.path, "--events", events.path, "--run-dir",
      root.appendingPathComponent("two").path, "--json", "--threads", "2")
    try #require(twice.status == 0, "\(twice.standardError)")
    let again = try twice.standardOutput.split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    for (one, two) in zip(objects, again) {
      for key in ["auc", "auc_ci", "sensitivity", "f1"] {
        #expect(one[key] as? Double == two[key] as? Double, "\(one["model"]!) \(key)")
      }
    }
  }

  /// The README's quick chain on `configs/rainfall-quick.yaml`: events on its own
  /// synthetic country, the reduced protocol, explanations and the three threshold maps,
  /// with the seed's ordering of the models.
  @Test func quickConfigRunsTheWholeChain() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let (events, run) = (root.appendingPathComponent("events"), root.appendingPathComponent("run"))
    let config = "configs/rainfall-quick.yaml"
    let cut = try Launcher.landslide(
      "rainfall", "events", "--config", config, "--out", events.path)
    try #require(cut.status == 0, "\(cut.standardError)")
    let trained = try Launcher.landslide(
      "rainfall", "train", "--config", config, "--events", events.path, "--run-dir", run.path,
      "--json")
    try #require(trained.status == 0, "\(trained.standardError)")
    var auc: [String: Double] = [:]
    for line in trained.standardOutput.split(separator: "\n") {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      auc[object["model"] as! String] = object["auc"] as? Double
    }
    #expect(auc["xgboost"]! >= auc["random_forest"]!, "\(auc)")
    #expect(auc["random_forest"]! > auc["logistic_regression"]!, "\(auc)")
    #expect(auc["logistic_regression"]! > auc["ed_curve"]!, "\(auc)")
    let explain = try Launcher.landslide(
      "rainfall", "explain", "--run-dir", run.path, "--events", events.path, "--out",
      root.appendingPathComponent("explain").path)
    try #require(explain.status == 0, "\(explain.standardError)")
    #expect(explain.standardOutput.hasPrefix("total_mm,"), "\(explain.standardOutput)")
    let maps = root.appendingPathComponent("maps")
    let thresholds = try Launcher.landslide(
      "rainfall", "thresholds", "--run-dir", run.path, "--events", events.path, "--out",
      maps.path)
    try #require(thresholds.status == 0, "\(thresholds.standardError)")
    for level in [50, 70, 90] {
      #expect(
        FileManager.default.fileExists(
          atPath: maps.appendingPathComponent("threshold_p\(level).tif").path),
        "\(level)\n\(thresholds.standardOutput)")
    }
  }

  @Test func badInputIsNamedAndNothingIsWritten() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let country = try Self.country(in: root)
    // A column the catalogue lacks: an error naming the file, the key and the header.
    let config = root.appendingPathComponent("wrong.yaml")
    try Self.filesConfig(country, dateColumn: "when").write(
      to: config, atomically: true, encoding: .utf8)
    let out = root.appendingPathComponent("out")
    let refused = try Launcher.landslide(
      "rainfall", "events", "--config", config.path, "--out", out.path)
    #expect(refused.status != 0)
    #expect(
      refused.standardError.contains("catalogue.csv: no column 'when' (columns.date)"),
      "\(refused.standardError)")
    #expect(!FileManager.default.fileExists(atPath: out.path))

    // A row with a bad date and a landslide off the rasters: named, counted, skipped.
    var catalogue = try String(
      contentsOf: country.appendingPathComponent("catalogue.csv"), encoding: .utf8)
    catalogue += "BAD1,2016-13-01,8.1,45.1,rain,Northwest,0.5\n"
    catalogue += "FAR1,2016-06-01,30.0,45.1,rain,Northwest,0.5\n"
    let edited = root.appendingPathComponent("edited.csv")
    try catalogue.write(to: edited, atomically: true, encoding: .utf8)
    try Self.filesConfig(country, catalogue: edited.path).write(
      to: config, atomically: true, encoding: .utf8)
    let skipped = try Launcher.landslide(
      "rainfall", "events", "--config", config.path, "--out", out.path)
    try #require(skipped.status == 0, "\(skipped.standardError)")
    let record = try Self.record(out)
    #expect(record.unreadableRows.count == 1)
    #expect(
      record.unreadableRows.first?.contains("2016-13-01") ?? false, "\(record.unreadableRows)")
    #expect(record.unplaced == ["FAR1: outside the rain rasters' grid"])
    #expect(skipped.standardOutput.contains("1 landslides unplaced, 1 catalogue rows unreadable"))
  }
}
