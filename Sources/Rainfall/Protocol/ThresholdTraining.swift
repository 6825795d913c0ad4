import Classical
import Configuration
import Evaluation
import Foundation
import TensorEngine

/// `rainfall train`: the seed's protocol on an event set. Per repetition, an 80/20 split
/// stratified by label within each macro-region; on the 80 %, leave-one-region-out folds
/// (each region held out in turn; SMOTE on the other regions' rows only); every grid point
/// of every model fitted on every fold. A model's best point has the highest validation
/// AUC averaged over folds and repetitions; its figures are reported as the mean over
/// repetitions (each the mean of its folds) ± the 95 % interval, then it is refitted on the
/// first repetition's 80 % and scored on its 20 %. The E–D power law is scored alike,
/// without fitting. Into the run directory: `grid.csv` (every point), `results.csv`,
/// `mcnemar.csv` (the best model against each other on the test set), `best.json`,
/// `roc_test.svg` and `models/MODEL.safetensors`. Its state is fixed at `init` (the
/// fits read it from many threads); `reported` is set before `run`.
public final class ThresholdTraining: @unchecked Sendable {
  public let config: RainfallTrainingConfig
  public let events: EventSet
  public let runDirectory: String
  let log: (String) -> Void
  /// Called with each model's result as it is made (the command's `--json` lines).
  public var reported: (ModelResult) -> Void = { _ in }

  /// The name the E–D power law has in tables.
  public static let powerLaw = "ed_curve"

  public init(
    config: RainfallTrainingConfig, events: EventSet, runDirectory: String,
    log: @escaping (String) -> Void
  ) {
    self.config = config
    self.events = events
    self.runDirectory = runDirectory
    self.log = log
  }

  /// One model's outcome.
  public struct ModelResult: Encodable, Sendable {
    public var model: String
    public var parameters: [String: SweepValue]
    /// Mean ± 95 % over repetitions of the validation regions' figures.
    public var auc: MeanInterval
    public var sensitivity: MeanInterval
    public var specificity: MeanInterval
    public var precision: MeanInterval
    public var f1: MeanInterval
    public var test: ClassificationScores
    public var fits: Int
    public var seconds: Double

    /// "key=value" per hyperparameter, sorted by key.
    func parameterText(separator: String) -> String {
      parameters.keys.sorted().map { "\($0)=\(parameters[$0]!.yaml)" }
        .joined(separator: separator)
    }

    /// Flat, as `--json` prints it: `auc` and `auc_ci` (the 95 % half-width), and so on.
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: NamedKey.self)
      try container.encode(model, forKey: NamedKey("model"))
      try container.encode(parameters, forKey: NamedKey("parameters"))
      for (name, interval) in [
        ("auc", auc), ("sensitivity", sensitivity), ("specificity", specificity),
        ("precision", precision), ("f1", f1),
      ] {
        try container.encode(interval.mean, forKey: NamedKey(name))
        try container.encode(interval.halfWidth, forKey: NamedKey("\(name)_ci"))
      }
      try container.encode(test, forKey: NamedKey("test"))
      try container.encode(fits, forKey: NamedKey("fits"))
      try container.encode(seconds, forKey: NamedKey("seconds"))
    }

  }

  /// The rows of one repetition: its test set and its leave-one-region-out folds.
  public struct Repetition: Sendable {
    public var train: [Int]
    public var test: [Int]
    public var folds: [Fold]
  }

  /// One validation region and the rows it is fitted on and scored on.
  public struct Fold: Sendable {
    public var region: Int
    public var inside: [Int]
    public var held: [Int]
  }

  /// The repetition drawn from `seed`: per region and label, a shuffled `testShare` of
  /// the rows (rounded) to the test set; a fold per region whose 80 % holds both classes
  /// (the others are named in the log and skipped: no AUC without them).
  public static func repetition(_ events: EventSet, testShare: Double, seed: UInt64)
    -> (Repetition, skipped: [String])
  {
    var random = RandomGenerator(seed: seed)
    var (train, test) = ([Int](), [Int]())
    for region in events.regionNames.indices {
      for label: Float in [0, 1] {
        var rows = events.regions.indices.filter {
          events.regions[$0] == region && events.table.labels[$0] == label
        }
        rows.shuffle(using: &random)
        let held = Int((Double(rows.count) * testShare).rounded())
        test += rows.prefix(held)
        train += rows.dropFirst(held)
      }
    }
    train.sort()
    test.sort()
    var folds: [Fold] = []
    var skipped: [String] = []
    for region in events.regionNames.indices {
      let held = train.filter { events.regions[$0] == region }
      let positives = held.filter { events.table.labels[$0] == 1 }.count
      guard positives > 0, positives < held.count else {
        skipped.append(
          "\(events.regionNames[region]): \(positives) positives among its \(held.count) rows")
        continue
      }
      folds.append(
        Fold(region: region, inside: train.filter { events.regions[$0] != region }, held: held))
    }
    return (Repetition(train: train, test: test, folds: folds), skipped)
  }

  /// How a run ended on this process.
  public enum Outcome {
    /// Every fit recorded and the models chosen, refitted and written (the collecting
    /// process).
    case finished([ModelResult])
    /// Stopped on request with fits left: a re-run resumes from the records.
    case stopped(recorded: Int, of: Int)
    /// This process fitted what it was handed; another collects (ranks above 0).
    case handedOut
  }

  /// The protocol's repetitions, each from its own seed.
  func repetitions() throws(RainfallError) -> [Repetition] {
    var repetitions: [Repetition] = []
    for index in 0..<config.repetitions {
      let (repetition, skipped) = Self.repetition(
        events, testShare: config.testShare, seed: UInt64(config.seed) &+ UInt64(index) &* 7919)
      if index == 0 {
        for line in skipped { log("no fold for region \(line)") }
      }
      guard repetition.folds.count >= 2 else {
        throw RainfallError(
          "events",
          "leave-one-region-out needs at least two regions with both classes; "
            + "\(skipped.joined(separator: "; "))")
      }
      repetitions.append(repetition)
    }
    return repetitions
  }

  /// Every fit of the protocol, model by model, point by point, repetition by repetition.
  func fits(_ repetitions: [Repetition]) -> [ProtocolFit] {
    var fits: [ProtocolFit] = []
    for model in config.models {
      for point in Self.points(model).indices {
        for (r, repetition) in repetitions.enumerated() {
          for f in repetition.folds.indices {
            fits.append(ProtocolFit(model: model.model, point: point, repetition: r, fold: f))
          }
        }
      }
    }
    return fits
  }

  static func points(_ model: RainfallTrainingConfig.ModelGrid) -> [[(
    key: String, value: SweepValue
  )]] {
    model.space.isEmpty ? [[]] : model.points
  }

  /// What the fit records depend on (see `FitRecords.Plan`).
  func plan(_ fits: [ProtocolFit]) -> FitRecords.Plan {
    var events = events.table.features.values + events.table.labels
    let digest = events.withUnsafeMutableBytes { SafeTensors.crc32c(UnsafeRawBufferPointer($0)) }
    return FitRecords.Plan(
      fits: fits.map(\.label),
      points: Dictionary(
        uniqueKeysWithValues: config.models.map { ($0.model, Self.points($0).map(Self.label)) }),
      seed: config.seed, testShare: config.testShare, smoteNeighbours: config.smoteNeighbours,
      threshold: config.threshold, events: digest)
  }

  /// Runs the protocol: the fits `runner` has not recorded in an earlier run (see
  /// `FitRecords`), then, on the collecting process, each model's best point, its refit on
  /// the first repetition's 80 % and the files.
  public func run(runner: any FitRunner = LocalFitRunner()) throws(RainfallError) -> Outcome {
    let log = runner.collects ? self.log : { _ in }
    let repetitions = try repetitions()
    let fits = fits(repetitions)
    let folds = repetitions[0].folds.count
    log(
      "\(events.table.rows) events (\(events.table.positives) positives) in "
        + "\(events.regionNames.count) regions; \(config.repetitions) repetitions × \(folds) "
        + "folds; SMOTE k = \(config.smoteNeighbours)")
    let records = try runner.collects ? FitRecords(directory: runDirectory, plan: plan(fits)) : nil
    let pending = fits.indices.filter { records?.results[fits[$0]] == nil }
    if let records {
      log(
        "\(fits.count) fits"
          + (records.count > 0 ? ": \(records.count) recorded by an earlier run, " : ", ")
          + "\(pending.count) to run")
    }
    let grids = Dictionary(uniqueKeysWithValues: config.models.map { ($0.model, $0) })
    let fitting = ContinuousClock.now
    let complete = try runner.run(
      pending: pending,
      fit: { [self] (index, threads) throws(RainfallError) in
        let task = fits[index]
        let fold = repetitions[task.repetition].folds[task.fold]
        let started = ContinuousClock.now
        let scores = try fitAndScore(
          task.model, Self.points(grids[task.model]!)[task.point], inside: fold.inside,
          held: fold.held,
          seed: UInt64(config.seed) &+ UInt64(task.repetition) &* 1000 &+ UInt64(task.fold),
          threads: threads
        ).scores
        return FitResult(scores: scores, seconds: (ContinuousClock.now - started).seconds)
      },
      record: { (index, result) throws(RainfallError) in
        try records?.record(fits[index], result)
      })
    guard let records else { return .handedOut }
    let seconds = (ContinuousClock.now - fitting).seconds
    let done = records.count - (fits.count - pending.count)
    log(
      String(
        format: "%d fits in %.1f s (%.2f fits/s)", done, seconds, Double(done) / max(seconds, 1e-9)
      ))
    guard complete else { return .stopped(recorded: records.count, of: fits.count) }

    var results: [ModelResult] = []
    var grid = "model,point,parameters,validation_auc,validation_auc_sd\n"
    var testCurves: [(name: String, curve: ROCCurve)] = []
    var testCalls: [String: [Bool]] = [:]
    let testLabels = repetitions[0].test.map { events.table.labels[$0] }
    try makeDirectory(path("models"))

    for model in config.models {
      let points = Self.points(model)
      var best: (index: Int, auc: Double, perRepetition: [ClassificationScores])?
      var seconds = 0.0
      for (index, point) in points.enumerated() {
        var perRepetition: [ClassificationScores] = []
        for (r, repetition) in repetitions.enumerated() {
          let results = repetition.folds.indices.map {
            records.results[ProtocolFit(model: model.model, point: index, repetition: r, fold: $0)]!
          }
          seconds += results.reduce(0) { $0 + $1.seconds }
          perRepetition.append(ClassificationScores.mean(results.map { $0.scores }))
        }
        let aucs = perRepetition.map(\.auc)
        let mean = MeanInterval(aucs)
        grid +=
          "\(model.model),\(index),\(Self.label(point)),\(mean.mean),"
          + "\(MeanInterval.standardDeviation(aucs))\n"
        if best == nil || mean.mean > best!.auc { best = (index, mean.mean, perRepetition) }
      }
      let chosen = best!
      let point = points[chosen.index]
      let first = repetitions[0]
      let started = Date()
      let refit = try fitAndScore(
        model.model, point, inside: first.train, held: first.test, seed: UInt64(config.seed))
      try store(refit.classifier, encoder: refit.encoder, name: model.model)
      testCalls[model.model] = refit.probabilities.map { $0 >= Float(config.threshold) }
      do {
        testCurves.append(
          (model.model, try ROCCurve(labels: testLabels, scores: refit.probabilities)))
      } catch { throw RainfallError(model.model, "test ROC: \(error)") }
      let result = summary(
        model.model, point, chosen.perRepetition, test: refit.scores,
        fits: points.count * config.repetitions * folds + 1,
        seconds: seconds + Date().timeIntervalSince(started))
      log(Self.describe(result))
      reported(result)
      results.append(result)
    }

    // The E–D curve: E over the threshold at the event's duration, called positive from 1.
    var perRepetition: [ClassificationScores] = []
    for repetition in repetitions {
      var foldScores: [ClassificationScores] = []
      for fold in repetition.folds { foldScores.append(try powerLawScores(fold.held).scores) }
      perRepetition.append(ClassificationScores.mean(foldScores))
    }
    let curve = try powerLawScores(repetitions[0].test)
    testCalls[Self.powerLaw] = curve.values.map { $0 >= 1 }
    do {
      testCurves.append((Self.powerLaw, try ROCCurve(labels: testLabels, scores: curve.values)))
    } catch { throw RainfallError(Self.powerLaw, "test ROC: \(error)") }
    let law = summary(
      Self.powerLaw, [("alpha", .number(7.7)), ("beta", .number(0.39))], perRepetition,
      test: curve.scores, fits: 0, seconds: 0)
    log(Self.describe(law))
    reported(law)
    results.append(law)

    try RunFiles.write(grid, to: path("grid.csv"))
    try RunFiles.write(Self.resultsTable(results), to: path("results.csv"))
    let bestModel = results.max { $0.auc.mean < $1.auc.mean }!
    var mcnemar = "model,other,only_model_right,only_other_right,chi2,p\n"
    for other in results where other.model != bestModel.model {
      let test = McNemarTest(
        labels: testLabels, first: testCalls[bestModel.model]!, second: testCalls[other.model]!)
      mcnemar +=
        "\(bestModel.model),\(other.model),\(test.onlyFirstRight),\(test.onlySecondRight),"
        + "\(test.chiSquared),\(test.p)\n"
    }
    try RunFiles.write(mcnemar, to: path("mcnemar.csv"))
    try RunFiles.write(ROCFigure.svg(testCurves, title: "ROC, test set"), to: path("roc_test.svg"))
    try RunFiles.write(Self.json(bestModel) + "\n", to: path("best.json"))
    try RunFiles.write(
      Self.json(TestSplit(rows: repetitions[0].test, threshold: config.threshold)) + "\n",
      to: path(TestSplit.fileName))
    return .finished(results)
  }

  /// Fits `model` at `point` on the `inside` rows (scaling fitted there, SMOTE on them)
  /// and scores it on the `held` rows.
  func fitAndScore(
    _ model: String, _ point: [(key: String, value: SweepValue)], inside: [Int], held: [Int],
    seed: UInt64, threads: Int = 0
  ) throws(RainfallError) -> (
    scores: ClassificationScores, probabilities: [Float], classifier: any Classifier,
    encoder: FeatureEncoder
  ) {
    let (classifier, oneHot) = try ThresholdModels.make(
      model, point, seed: seed, threads: threads)
    let train = events.table.selecting(rows: inside)
    let encoder = FeatureEncoder(fittedOn: train, oneHot: oneHot)
    let validation = events.table.selecting(rows: held)
    let p: [Float]
    do throws(ClassicalError) {
      var x = try encoder.encode(train.features, source: "training rows")
      var y = train.labels
      if config.smoteNeighbours > 0 {
        (x, y, _) = try SMOTE(neighbours: config.smoteNeighbours, seed: seed ^ 0x5307E)
          .resample(x, y, codeColumns: Self.codeColumns(encoder))
      }
      try classifier.fit(x, y)
      p = try classifier.predictProbability(
        try encoder.encode(validation.features, source: "validation rows"))
    } catch { throw RainfallError(model, "\(error)") }
    let scores = try ClassificationScores(
      labels: validation.labels, scores: p, threshold: Float(config.threshold))
    return (scores, p, classifier, encoder)
  }

  /// The encoded columns that hold class codes or one-hot indicators (SMOTE copies them).
  public static func codeColumns(_ encoder: FeatureEncoder) -> Set<Int> {
    var result = Set<Int>()
    var index = 0
    for column in encoder.columns {
      let width = encoder.oneHot ? (column.categories?.count ?? 1) : 1
      if column.isCategorical { result.formUnion(index..<(index + width)) }
      index += width
    }
    return result
  }

  /// The power law's exceedance E / threshold(D) on `rows`, called positive from 1.
  func powerLawScores(_ rows: [Int]) throws(RainfallError) -> (
    scores: ClassificationScores, values: [Float]
  ) {
    guard let total = events.table.columns.firstIndex(where: { $0.name == "total_mm" }),
      let hours = events.table.columns.firstIndex(where: { $0.name == "duration_hours" })
    else { throw RainfallError("events", "no total_mm or duration_hours column") }
    let curve = PowerLawThreshold()
    let values = rows.map { row in
      Float(
        Double(events.table.features[row, total])
          / curve.threshold(hours: Double(events.table.features[row, hours])))
    }
    let labels = rows.map { events.table.labels[$0] }
    return (try ClassificationScores(labels: labels, scores: values, threshold: 1), values)
  }

  func summary(
    _ model: String, _ point: [(key: String, value: SweepValue)],
    _ perRepetition: [ClassificationScores], test: ClassificationScores, fits: Int,
    seconds: Double
  ) -> ModelResult {
    ModelResult(
      model: model,
      parameters: Dictionary(uniqueKeysWithValues: point.map { ($0.key, $0.value) }),
      auc: MeanInterval(perRepetition.map(\.auc)),
      sensitivity: MeanInterval(perRepetition.map(\.sensitivity)),
      specificity: MeanInterval(perRepetition.map(\.specificity)),
      precision: MeanInterval(perRepetition.map(\.precision)),
      f1: MeanInterval(perRepetition.map(\.f1)), test: test, fits: fits, seconds: seconds)
  }

  static func label(_ point: [(key: String, value: SweepValue)]) -> String {
    point.map { "\($0.key)=\($0.value.yaml)" }.joined(separator: ";")
  }

  static func describe(_ r: ModelResult) -> String {
    func f(_ m: MeanInterval) -> String { String(format: "%.3f ± %.3f", m.mean, m.halfWidth) }
    let parameters = r.parameterText(separator: ", ")
    return "\(r.model): AUC \(f(r.auc)), sensitivity \(f(r.sensitivity)), specificity "
      + "\(f(r.specificity)), F1 \(f(r.f1)), precision \(f(r.precision)); test AUC "
      + String(format: "%.3f", r.test.auc) + " (\(r.fits) fits, "
      + String(format: "%.0f s", r.seconds) + ")" + (parameters.isEmpty ? "" : "; \(parameters)")
  }

  /// The seed's Table 5: a row per model.
  static func resultsTable(_ results: [ModelResult]) -> String {
    var text =
      "model,auc,auc_ci95,sensitivity,sensitivity_ci95,specificity,specificity_ci95,precision,"
      + "precision_ci95,f1,f1_ci95,test_auc,test_sensitivity,test_specificity,test_precision,"
      + "test_f1,fits,seconds,parameters\n"
    for r in results {
      let intervals = [r.auc, r.sensitivity, r.specificity, r.precision, r.f1].flatMap {
        [$0.mean, $0.halfWidth]
      }
      let test = [r.test.auc, r.test.sensitivity, r.test.specificity, r.test.precision, r.test.f1]
      let parameters = r.parameterText(separator: ";")
      text +=
        ([r.model] + (intervals + test).map { String(format: "%.4f", $0) }
        + ["\(r.fits)", String(format: "%.1f", r.seconds), parameters]).joined(separator: ",")
        + "\n"
    }
    return text
  }

  private func store(_ classifier: any Classifier, encoder: FeatureEncoder, name: String)
    throws(RainfallError)
  {
    let file = path("models", "\(name).safetensors")
    do {
      try classifier.stored().write(
        to: file, metadata: [FeatureEncoder.metadataKey: Self.json(encoder), "model": name])
    } catch { throw RainfallError(file, error.message) }
  }

  func path(_ parts: String...) -> String {
    NSString.path(withComponents: [runDirectory] + parts)
  }

  private func makeDirectory(_ directory: String) throws(RainfallError) {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch { throw RainfallError(directory, "cannot create the directory") }
  }

  static func json(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
  }
}

/// `RUN/test_split.json`: the test rows the refitted models were scored on (indices of the
/// event set), for `rainfall explain`.
public struct TestSplit: Codable, Sendable {
  public var rows: [Int]
  public var threshold: Double

  public static let fileName = "test_split.json"

  public static func read(_ path: String) throws(RainfallError) -> TestSplit {
    guard let data = FileManager.default.contents(atPath: path),
      let split = try? JSONDecoder().decode(TestSplit.self, from: data)
    else {
      throw RainfallError(path, "cannot read the run's test split (`rainfall train` writes it)")
    }
    return split
  }
}
