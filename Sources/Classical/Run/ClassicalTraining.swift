import Configuration
import Distributed
import Evaluation
import Foundation
import TensorEngine

/// One model scored on one inventory: the seed's Table 3 figures (AUC on the training and
/// test tables) and its confusion at 0.5.
public struct ModelScore: Codable, Equatable, Sendable {
  public var model: String
  public var inventory: String
  public var aucTrain: Double
  public var aucTest: Double
  public var f1: Double
  public var precision: Double
  public var recall: Double
  public var falsePositiveRate: Double
  public var truePositives: Int
  public var falsePositives: Int
  public var falseNegatives: Int
  public var trueNegatives: Int
  public var trainRows: Int
  public var testRows: Int
  public var columns: Int
  public var fitSeconds: Double
  public var predictSeconds: Double

  enum CodingKeys: String, CodingKey {
    case model, inventory, f1, precision, recall, columns
    case aucTrain = "auc_train"
    case aucTest = "auc_test"
    case falsePositiveRate = "false_positive_rate"
    case truePositives = "true_positives"
    case falsePositives = "false_positives"
    case falseNegatives = "false_negatives"
    case trueNegatives = "true_negatives"
    case trainRows = "train_rows"
    case testRows = "test_rows"
    case fitSeconds = "fit_seconds"
    case predictSeconds = "predict_seconds"
  }
}

/// `landslide classical train`: every configured model on every inventory's tables, scored
/// and saved. All ranks run every model together (the ones that split work over ranks —
/// KNN's references, the forest's trees, the networks' batches — need them all); rank 0
/// alone writes. Into the run directory:
/// - `study.json`: the factors and inventories (what `classical predict` maps), written
///   last;
/// - `tables/INVENTORY/{train,test}.safetensors`;
/// - `models/INVENTORY/MODEL.safetensors`: the fitted model with its encoder;
/// - `auc.csv` (the seed's Table 3: a row per model, training and test AUC per inventory),
///   `confusion.csv` (at 0.5), `roc_INVENTORY.svg` (test ROC, every model), `metrics.json`.
public final class ClassicalTraining {
  public let config: ClassicalConfig
  public let study: ClassicalStudy
  public let runDirectory: String
  let communicator: Communicator?
  let log: (String) -> Void
  /// Called with each score as it is made (the command's `--json` lines).
  public var scored: (ModelScore) -> Void = { _ in }
  private var isWriter: Bool { (communicator?.rank ?? 0) == 0 }

  public init(
    config: ClassicalConfig, study: ClassicalStudy, runDirectory: String,
    communicator: Communicator?, log: @escaping (String) -> Void
  ) {
    self.config = config
    self.study = study
    self.runDirectory = runDirectory
    self.communicator = communicator
    self.log = (communicator?.rank ?? 0) == 0 ? log : { _ in }
  }

  func path(_ parts: String...) -> String {
    parts.reduce(runDirectory) { ($0 as NSString).appendingPathComponent($1) }
  }

  public func run() throws(ClassicalError) -> [ModelScore] {
    try makeDirectory(runDirectory)
    let survey = try study.survey()
    log(
      "study: \(study.grid.width) × \(study.grid.height) pixels, \(survey.validCount) valid, "
        + "\(study.factors.count) factors (\(study.factors.filter(\.categorical).map(\.name).joined(separator: ", ")) categorical)"
    )
    var scores: [ModelScore] = []
    var curves: [String: [(name: String, curve: ROCCurve)]] = [:]
    for inventory in study.inventories {
      let tables = try study.tables(for: inventory, survey: survey, config: config.tables)
      log(
        "\(inventory.name): \(tables.protocolDescription); training \(tables.train.rows) rows "
          + "(\(tables.train.positives) landslides), test \(tables.test.rows) rows "
          + "(\(tables.test.positives) landslides)")
      if isWriter {
        try makeDirectory(path("tables", inventory.name))
        try tables.train.write(
          to: path("tables", inventory.name, "train.safetensors"), gridWidth: study.grid.width)
        try tables.test.write(
          to: path("tables", inventory.name, "test.safetensors"), gridWidth: study.grid.width)
        try makeDirectory(path("models", inventory.name))
      }
      for model in config.models {
        let factory = ClassicalModels(config: config, communicator: communicator)
        factory.metricsPath =
          isWriter ? path("models", tables.inventory, "\(model.name).metrics.jsonl") : nil
        factory.log = log
        let fitted = try factory.fitAndScore(model, on: tables)
        if isWriter {
          try fitted.write(to: path("models", tables.inventory, "\(model.name).safetensors"))
        }
        let (score, curve) = (fitted.score, fitted.testCurve)
        scores.append(score)
        curves[inventory.name, default: []].append((model.name, curve))
        scored(score)
        log(
          String(
            format: "%@ %@: AUC train %.4f, test %.4f; F1 %.3f (fit %.1f s, predict %.1f s)",
            inventory.name, model.name, score.aucTrain, score.aucTest, score.f1,
            score.fitSeconds, score.predictSeconds))
      }
    }
    if isWriter {
      try write(
        Self.aucTable(scores, inventories: study.inventories.map(\.name)), to: path("auc.csv"))
      try write(Self.confusionTable(scores), to: path("confusion.csv"))
      for (inventory, list) in curves {
        try write(
          ROCFigure.svg(list, title: "ROC, \(inventory) test table"),
          to: path("roc_\(inventory).svg"))
      }
      try write(PixelTable.json(scores) + "\n", to: path("metrics.json"))
      // Last: a run directory with a study record holds models to map.
      try write(StudyRecord(study: study).json(), to: path("study.json"))
    }
    return scores
  }

  /// The seed's Table 3: a row per model; per inventory its training and test AUC.
  static func aucTable(_ scores: [ModelScore], inventories: [String]) -> String {
    var text =
      (["model"] + inventories.flatMap { ["\($0)_train", "\($0)_test"] })
      .joined(separator: ",") + "\n"
    var models: [String] = []
    for score in scores where !models.contains(score.model) { models.append(score.model) }
    for model in models {
      var fields = [model]
      for inventory in inventories {
        let score = scores.first { $0.model == model && $0.inventory == inventory }
        fields += [score?.aucTrain, score?.aucTest].map {
          $0.map { String(format: "%.4f", $0) } ?? ""
        }
      }
      text += fields.joined(separator: ",") + "\n"
    }
    return text
  }

  static func confusionTable(_ scores: [ModelScore]) -> String {
    var text =
      "inventory,model,threshold,true_positives,false_positives,false_negatives,true_negatives,"
      + "true_positive_rate,false_positive_rate,f1\n"
    for s in scores {
      text +=
        "\(s.inventory),\(s.model),0.5,\(s.truePositives),\(s.falsePositives),\(s.falseNegatives),"
        + "\(s.trueNegatives),"
        + String(format: "%.4f,%.4f,%.4f", s.recall, s.falsePositiveRate, s.f1) + "\n"
    }
    return text
  }

  private func makeDirectory(_ directory: String) throws(ClassicalError) {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw ClassicalError(directory, "cannot create the directory (\(error.localizedDescription))")
    }
  }

  private func write(_ text: String, to path: String) throws(ClassicalError) {
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch {
      throw ClassicalError(path, error.message)
    }
  }
}

/// The study a run trained on, as `RUN/study.json`, so that `classical predict` maps the
/// same factors.
public struct StudyRecord: Codable, Equatable, Sendable {
  public var factors: [ClassicalStudy.Factor]
  public var inventories: [ClassicalStudy.Inventory]

  public init(study: ClassicalStudy) {
    factors = study.factors
    inventories = study.inventories
  }

  func json() -> String { PixelTable.json(self) + "\n" }

  public static func read(_ path: String) throws(ClassicalError) -> StudyRecord {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ClassicalError(path, "cannot read the run's study record")
    }
    do { return try JSONDecoder().decode(StudyRecord.self, from: data) } catch {
      throw ClassicalError(path, "unreadable study record (\(error))")
    }
  }

  public func study() throws(ClassicalError) -> ClassicalStudy {
    try ClassicalStudy(factors: factors, inventories: inventories)
  }
}
