import Configuration
import Evaluation
import Foundation

/// One configured model fitted on an inventory's training table with the encoder fitted
/// there, and scored on both tables: what `classical train` reports and saves for each
/// model, and what a sweep's trial ends with.
public struct FittedModel {
  public let classifier: any Classifier
  public let encoder: FeatureEncoder
  public let score: ModelScore
  /// The test table's ROC curve (the run's ROC figure).
  public let testCurve: ROCCurve

  /// Writes the model with its encoder and inventory: what `classical predict` maps.
  public func write(to path: String) throws(ClassicalError) {
    try classifier.stored().write(
      to: path,
      metadata: [
        FeatureEncoder.metadataKey: PixelTable.json(encoder), "inventory": score.inventory,
        "model": score.model,
      ])
  }
}

extension ClassicalModels {
  /// Fits `model` on the training table (scaling and one-hot fitted there too) and scores
  /// it on both tables: AUC each, and the test table's confusion at 0.5.
  public func fitAndScore(_ model: ClassicalModelConfig, on tables: InventoryTables)
    throws(ClassicalError) -> FittedModel
  {
    let classifier = make(model)
    let encoder = FeatureEncoder(fittedOn: tables.train, oneHot: oneHot(for: model))
    let trainX = try encoder.encode(
      tables.train.features, source: "\(tables.inventory) training table")
    let testX = try encoder.encode(tables.test.features, source: "\(tables.inventory) test table")
    let started = Date()
    try classifier.fit(trainX, tables.train.labels)
    let fitted = Date()
    let trainP = try classifier.predictProbability(trainX)
    let testP = try classifier.predictProbability(testX)
    let predicted = Date()
    let curve: ROCCurve
    let trainCurve: ROCCurve
    let confusion: ConfusionCounts
    do {
      trainCurve = try ROCCurve(labels: tables.train.labels, scores: trainP)
      curve = try ROCCurve(labels: tables.test.labels, scores: testP)
      confusion = try ConfusionCounts(labels: tables.test.labels, scores: testP, threshold: 0.5)
    } catch { throw ClassicalError(model.name, "scoring: \(error)") }
    let negatives = confusion.falsePositives + confusion.trueNegatives
    let score = ModelScore(
      model: model.name, inventory: tables.inventory, aucTrain: trainCurve.auc, aucTest: curve.auc,
      f1: confusion.f1, precision: confusion.precision, recall: confusion.recall,
      falsePositiveRate: negatives == 0 ? 0 : Double(confusion.falsePositives) / Double(negatives),
      truePositives: confusion.truePositives, falsePositives: confusion.falsePositives,
      falseNegatives: confusion.falseNegatives, trueNegatives: confusion.trueNegatives,
      trainRows: tables.train.rows, testRows: tables.test.rows, columns: trainX.columns,
      fitSeconds: fitted.timeIntervalSince(started),
      predictSeconds: predicted.timeIntervalSince(fitted))
    return FittedModel(classifier: classifier, encoder: encoder, score: score, testCurve: curve)
  }

  /// Stratified K-fold cross-validated AUC of `model` on `table`, one per fold (what
  /// scikit-learn's `cross_val_score(model, X, y, cv=StratifiedKFold(k, shuffle=True),
  /// scoring="roc_auc")` gives), the folds drawn from `seed`. `goOn` is asked before each
  /// fold; when it says no, the folds scored so far are returned.
  public func crossValidatedAUC(
    _ model: ClassicalModelConfig, on table: PixelTable, folds: Int, seed: UInt64,
    goOn: () throws(ClassicalError) -> Bool = { true }
  ) throws(ClassicalError) -> [Double] {
    guard folds >= 2, table.positives >= folds, table.rows - table.positives >= folds else {
      throw ClassicalError(
        model.name,
        "\(folds)-fold cross-validation needs at least \(folds) rows of each class; the "
          + "training table has \(table.positives) landslides in \(table.rows) rows")
    }
    return try crossValidatedAUC(
      model, on: table, fold: stratifiedFolds(table.labels, count: folds, seed: seed), goOn: goOn)
  }

  /// The AUC of each fold `k` (rows with `fold[row] == k` held out, in the order 0, 1, …):
  /// each fold's scaling and one-hot classes are fitted on the other folds alone, so no
  /// held-out row shapes its own features.
  public func crossValidatedAUC(
    _ model: ClassicalModelConfig, on table: PixelTable, fold: [Int],
    goOn: () throws(ClassicalError) -> Bool = { true }
  ) throws(ClassicalError) -> [Double] {
    let folds = (fold.max() ?? -1) + 1
    var aucs: [Double] = []
    for k in 0..<folds {
      guard try goOn() else { break }
      let inside = table.selecting(rows: fold.indices.filter { fold[$0] != k })
      let held = table.selecting(rows: fold.indices.filter { fold[$0] == k })
      let encoder = FeatureEncoder(fittedOn: inside, oneHot: oneHot(for: model))
      let classifier = make(model)
      do {
        try classifier.fit(
          try encoder.encode(inside.features, source: "fold \(k + 1) training rows"),
          inside.labels)
        let p = try classifier.predictProbability(
          try encoder.encode(held.features, source: "fold \(k + 1) held-out rows"))
        aucs.append(try ROCCurve(labels: held.labels, scores: p).auc)
      } catch let error as ClassicalError {
        throw ClassicalError(model.name, "fold \(k + 1) of \(folds): \(error.message)")
      } catch {
        throw ClassicalError(model.name, "fold \(k + 1) of \(folds): scoring: \(error)")
      }
    }
    return aucs
  }
}
