import Classical
import Configuration
import Distributed
import Foundation
import Training

/// A classical sweep's trials: each fits the sweep's model, configured as the trial says,
/// once per stratified fold of the inventory's training table (the trial's score is the
/// folds' mean AUC), then once on the whole table, scored on the test table and saved
/// as `trials/NNNN/model.safetensors`, the file `classical predict` reads.
extension SweepRunner {
  /// Rank 0 makes the study (a synthetic one on first use) while the others wait; every
  /// rank then samples the same tables from the same seed.
  func prepareClassical(_ say: (String) -> Void) throws(SweepError) -> TrialData {
    do {
      let settings = try ClassicalConfig.load(file: config.base, overrides: config.baseOverrides)
      let study = try ClassicalStudy.load(
        settings, data: explicitData, defaultData: dataDirectory, world: world, log: say)
      let names = study.inventories.map(\.name)
      guard
        let inventory = config.inventory.map({ name in study.inventories.first { $0.name == name } }
        )
          ?? study.inventories.first
      else {
        throw SweepError(
          "\(config.file): inventory: the study has no inventory '\(config.inventory ?? "")'; "
            + "it has \(names.joined(separator: ", "))")
      }
      let tables = try study.tables(
        for: inventory, survey: try study.survey(), config: settings.tables)
      say(
        "\(inventory.name): \(tables.protocolDescription); training \(tables.train.rows) rows "
          + "(\(tables.train.positives) landslides) in \(config.folds) folds, test "
          + "\(tables.test.rows) rows")
      return .classical(tables)
    } catch let error as SweepError {
      throw error
    } catch {
      throw SweepError("\(error)")
    }
  }

  /// Fits one trial on this rank's group and returns how it ended (the leader's view). A
  /// stop request is honoured between folds (the trial is then `interrupted` and a re-run
  /// scores it from its first fold); a failure, which every rank meets alike since the
  /// tables and seeds are shared, is recorded and the sweep goes on.
  func runClassicalTrial(_ trial: Trial, group: Communicator?, tables: InventoryTables)
    throws(SweepError) -> TrialOutcome
  {
    let leader = (group?.rank ?? 0) == 0
    let start = ContinuousClock.now
    let logFile = leader ? TrialLog(path: layout.log(trial.index)) : nil
    var outcome = TrialOutcome(status: .completed, epochs: 0, seconds: 0)
    func finish(_ status: TrialOutcome.Status, error: String? = nil) -> TrialOutcome {
      outcome.status = status
      outcome.error = error
      outcome.seconds = (ContinuousClock.now - start).seconds
      return outcome
    }
    let agreement = RankAgreement(communicator: group)
    var stopped = false
    do {
      let settings = try ClassicalConfig.load(
        file: config.base, overrides: config.baseOverrides + trial.overrides)
      guard let model = settings.models.first(where: { $0.name == config.model }) else {
        throw SweepError("\(config.base): no model '\(config.model ?? "")'")
      }
      let factory = ClassicalModels(config: settings, communicator: group)
      factory.log = { logFile?.write($0) }
      let aucs = try factory.crossValidatedAUC(
        model, on: tables.train, folds: config.folds, seed: UInt64(settings.tables.seed),
        goOn: { () throws(ClassicalError) in
          do { stopped = try agreement.stopRequested() } catch {
            throw ClassicalError("rank \(rank)", "\(error)")
          }
          return !stopped
        })
      for (fold, auc) in aucs.enumerated() {
        logFile?.write(String(format: "fold %d of %d: AUC %.4f", fold + 1, config.folds, auc))
      }
      outcome.foldAUCs = aucs
      outcome.epochs = aucs.count
      if stopped { return finish(.interrupted) }
      outcome.bestValidationAUC = aucs.reduce(0, +) / Double(aucs.count)
      factory.metricsPath = leader ? layout.metrics(trial.index) : nil
      let fitted = try factory.fitAndScore(model, on: tables)
      outcome.testAUC = fitted.score.aucTest
      logFile?.write(
        String(
          format: "validation AUC %.4f (mean of %d folds); refitted on every training row: "
            + "test AUC %.4f", outcome.bestValidationAUC ?? 0, aucs.count, fitted.score.aucTest))
      if leader {
        let path = (layout.trial(trial.index) as NSString).appendingPathComponent(
          "model.safetensors")
        try fitted.write(to: path)
        outcome.checkpoint = path
      }
    } catch {
      logFile?.write("error: \(error)")
      return finish(.failed, error: "\(error)")
    }
    return finish(.completed)
  }
}
