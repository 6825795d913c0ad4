import Configuration
import Foundation
import Sweep
import TestSupport
import Testing

/// Sweep files, the trials they make, and how block totals become stages.
@Suite struct SearchSpaceTests {
  /// Writes `text` as a sweep file beside a copy of tiny.yaml and parses it.
  static func sweep(_ text: String) throws -> SweepConfig {
    let folder = try TestPaths.temporaryDirectory()
    for name in ["tiny.yaml", "classical-quick.yaml"] {
      try FileManager.default.copyItem(
        at: TestPaths.repositoryRoot.appendingPathComponent("configs/\(name)"),
        to: folder.appendingPathComponent(name))
    }
    let file = folder.appendingPathComponent("sweep.yaml")
    try text.write(to: file, atomically: true, encoding: .utf8)
    return try SweepConfig.load(file: file.path)
  }

  /// The error a sweep file gets, or "no error".
  static func error(_ text: String) -> String {
    do {
      _ = try sweep(text)
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func gridVariesTheLastKeyFastestAndRendersOverrides() throws {
    let config = try Self.sweep(
      """
      base: tiny.yaml
      set: {density.joint_epochs: 0}
      space:
        susceptibility.blocks_total: [6, 16]
        training.learning_rate: {min: 1.0e-4, max: 1.0e-2, log: true, count: 3}
      """)
    #expect(config.baseOverrides == ["density.joint_epochs=0"])
    let trials = SearchSpace.trials(config)
    #expect(trials.count == 6)
    #expect(
      trials[1].overrides == [
        "susceptibility.blocks_per_stage=[1, 2, 2, 1]", "training.learning_rate=0.001",
      ])
    #expect(trials[5].overrides[0] == "susceptibility.blocks_per_stage=[3, 4, 6, 3]")
    #expect(trials[5].label == "susceptibility.blocks_total=16, training.learning_rate=0.01")
    #expect(trials.map(\.index) == Array(0..<6))
  }

  @Test func blockTotalsFollowResNetProportions() {
    #expect(SweepParameter.blocksPerStage(total: 4) == [1, 1, 1, 1])
    #expect(SweepParameter.blocksPerStage(total: 6) == [1, 2, 2, 1])
    #expect(SweepParameter.blocksPerStage(total: 16) == [3, 4, 6, 3])
    #expect(SweepParameter.blocksPerStage(total: 64) == [12, 16, 24, 12])
    for total in 4...80 {
      #expect(SweepParameter.blocksPerStage(total: total).reduce(0, +) == total)
    }
  }

  @Test func randomDrawsAreReproducibleAndInsideTheirRanges() throws {
    let text = """
      base: tiny.yaml
      method: random
      trials: 200
      seed: 7
      space:
        training.learning_rate: {min: 1.0e-4, max: 1.0, log: true}
        training.batch_size: [8, 16, 32]
        training.patience: {min: 2, max: 5, integer: true}
      """
    let trials = SearchSpace.trials(try Self.sweep(text))
    #expect(trials == SearchSpace.trials(try Self.sweep(text)))
    var belowOnePerMille = 0
    var batches = Set<String>()
    for trial in trials {
      guard case .number(let rate) = trial.values[0].value,
        case .integer(let patience) = trial.values[2].value
      else {
        Issue.record("unexpected value kinds in \(trial.label)")
        continue
      }
      #expect(rate >= 1e-4 && rate <= 1)
      if rate < 1e-3 { belowOnePerMille += 1 }
      #expect((2...5).contains(patience))
      batches.insert(trial.values[1].value.yaml)
    }
    // Log-uniform: a quarter of the draws fall in [1e-4, 1e-3); uniform would give 0.1 %.
    #expect(belowOnePerMille > 25 && belowOnePerMille < 80)
    #expect(batches == ["8", "16", "32"])
    // Whole numbers drawn uniformly: the ends as often as the middle (2000 draws over
    // 2…5, 500 expected each; rounding a uniform draw would give the ends about 333).
    let many = try Self.sweep(
      text.replacingOccurrences(of: "trials: 200", with: "trials: 2000"))
    var counts: [String: Int] = [:]
    for trial in SearchSpace.trials(many) { counts[trial.values[2].value.yaml, default: 0] += 1 }
    #expect(counts.keys.sorted() == ["2", "3", "4", "5"])
    #expect(counts.values.allSatisfy { (420...580).contains($0) }, "\(counts)")
  }

  @Test func badSweepsAreRejectedWithTheKeyAtFault() throws {
    #expect(Self.error("base: tiny.yaml\nspace: {}\n").contains("space: the search space is empty"))
    #expect(Self.error("space: {training.seed: [1]}\n").contains("base: missing"))
    #expect(
      Self.error("base: nothere.yaml\nspace: {training.seed: [1]}\n").contains("no run config"))
    #expect(
      Self.error("base: tiny.yaml\nspace: {training.learning_rate: {min: 1.0e-4, max: 1.0}}\n")
        .contains("space.training.learning_rate: a grid needs finite values"))
    #expect(
      Self.error("base: tiny.yaml\nmethod: random\nspace: {training.seed: [1]}\n")
        .contains("trials: random search needs the number of trials"))
    #expect(
      Self.error("base: tiny.yaml\nspace: {data.block_cells: [2, 4]}\n")
        .contains("space.data.block_cells: trials share one prepared study area"))
    #expect(
      Self.error(
        "base: tiny.yaml\nmetric: validation_auc\nstage: joint\nspace: {training.seed: [1]}\n"
      )
      .contains("validation_auc exists for the susceptibility stage only"))
    #expect(
      Self.error("base: tiny.yaml\nspace: {training.seed: [1]}\ngroup: 2\n")
        .contains("group: unknown key (did you mean 'groups'?)"))
    #expect(
      Self.error("base: tiny.yaml\nspace: {susceptibility.blocks_total: [3]}\n")
        .contains("at least 4"))
    #expect(
      Self.error("base: tiny.yaml\nspace: {susceptibility.blocks_total: {min: 1, max: 64}}\n")
        .contains("space.susceptibility.blocks_total: expected whole block counts of at least 4"))
    #expect(
      Self.error(
        "base: tiny.yaml\nspace: {susceptibility.blocks_total: {min: 6, max: 64, integer: false}}\n"
      )
      .contains("at least 4"))
  }

  /// A classical sweep names its model, ranks by the folds' mean AUC, and keeps the study
  /// and tables every trial shares out of its space; an ensemble sweep takes none of its keys.
  @Test func classicalSweepsTakeTheirOwnKeys() throws {
    let config = try Self.sweep(
      """
      system: classical
      base: classical-quick.yaml
      model: knn
      folds: 4
      space:
        models.knn.neighbours: [5, 25, 100]
        models.knn.p: [1, 2]
      """)
    #expect(config.system == .classical && config.model == "knn" && config.folds == 4)
    #expect(config.metric == .validationAUC && config.inventory == nil)
    let trials = SearchSpace.trials(config)
    #expect(trials.count == 6)
    #expect(trials[3].overrides == ["models.knn.neighbours=25", "models.knn.p=2"])
    #expect(try Self.sweep("base: tiny.yaml\nspace: {training.seed: [1]}\n").system == .ensemble)

    let head = "system: classical\nbase: classical-quick.yaml\n"
    let space = "space: {models.knn.p: [1, 2]}\n"
    #expect(Self.error(head + space).contains("model: missing; a classical sweep searches one"))
    #expect(
      Self.error(head + "model: knn\nmetric: validation_loss\n" + space)
        .contains("metric: a classical sweep ranks trials by validation_auc"))
    #expect(
      Self.error(head + "model: knn\nstage: joint\n" + space).contains("stage: applies to ensemble")
    )
    #expect(
      Self.error(head + "model: knn\nspace: {tables.random_rows: [100, 200]}\n")
        .contains("space.tables.random_rows: trials share one study and its tables"))
    #expect(
      Self.error(head + "model: knn\nfolds: 1\n" + space).contains("folds"))
    #expect(
      Self.error("base: tiny.yaml\nmodel: knn\nspace: {training.seed: [1]}\n")
        .contains("model: applies to system: classical only"))
    #expect(
      Self.error("system: bayesian\nbase: tiny.yaml\nspace: {training.seed: [1]}\n")
        .contains("system"))
  }
}

/// Successive halving decisions, worked by hand.
@Suite struct SuccessiveHalvingTests {
  @Test func rungsAreGeometric() {
    let halving = SuccessiveHalving(
      SweepConfig.SuccessiveHalving(minEpochs: 2, reductionFactor: 3), higherIsBetter: true)
    #expect((1...60).filter(halving.isRung) == [2, 6, 18, 54])
  }

  @Test func onlyTheTopThirdGoesOn() {
    var halving = SuccessiveHalving(
      SweepConfig.SuccessiveHalving(minEpochs: 1, reductionFactor: 3), higherIsBetter: true)
    // AUCs arriving at rung 1: the first goes on (judged alone); the second must beat
    // it (top ⌊2/3⌋ → at least 1); with 3 values the top 1 goes on; with 6, the top 2
    // (0.78 is second of six); an undefined AUC ranks last.
    let aucs = [0.70, 0.60, 0.80, 0.75, 0.50, 0.78, Double.nan]
    let decisions = aucs.map { halving.record(epoch: 1, value: $0) }
    #expect(decisions == [true, false, true, false, false, true, false])
    let offRung = halving.record(epoch: 2, value: 0.1)
    #expect(offRung)
  }

  @Test func lossesRankLowFirst() {
    var halving = SuccessiveHalving(
      SweepConfig.SuccessiveHalving(minEpochs: 1, reductionFactor: 2), higherIsBetter: false)
    let decisions = [0.5, 0.4, 0.6].map { halving.record(epoch: 1, value: $0) }
    #expect(decisions == [true, true, false])
  }
}
