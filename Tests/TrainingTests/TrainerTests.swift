import Foundation
import GeoData
import TensorEngine
import Testing

@testable import Training

@Suite struct TrainerTests {
  /// The stages run in the documented order, each within its epoch budget, the cell stages
  /// on cells with landslides only, and every epoch is a line of metrics.jsonl.
  @Test func curriculumStagesRunInOrder() throws {
    let study = try TinyStudy(["density.stage_epochs=[2, 1, 1]", "density.joint_epochs=1"])
    defer { study.remove() }
    let trainer = try study.trainer()
    try trainer.train()
    let stages = trainer.records.map(\.trainingStage)
    #expect(
      stages == [
        .susceptibility, .susceptibility, .densityLog, .densityLog, .densityPositive, .densityAll,
        .joint,
      ])
    // One step per batch of patches, or of batch × 16 cells in the cell stages.
    let positives = try (0..<study.shards.samples[.train]!.count).reduce(0) { total, sample in
      total + (try study.shards.densities(.train, sample)).filter { $0 > 0 }.count
    }
    let batch = study.config.training.batchSize
    let first = trainer.records.first { $0.trainingStage == .densityLog }!
    #expect(first.step == max(1, positives / (batch * 16)))
    #expect(trainer.records[0].step == study.shards.samples[.train]!.count / batch)
    let lines = try String(
      contentsOf: study.directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8
    ).split(separator: "\n")
    #expect(lines.count == trainer.records.count)
    let decoded = try JSONDecoder().decode(EpochRecord.self, from: Data(lines[2].utf8))
    #expect(decoded == trainer.records[2])
  }

  /// After a stage, the weights are those of its minimum validation loss, not the last
  /// epoch's: recomputing the validation loss gives the recorded minimum.
  @Test func earlyStoppingKeepsTheBestWeights() throws {
    let study = try TinyStudy([
      "training.max_epochs=6", "training.patience=2", "training.learning_rate=0.05",
    ])
    defer { study.remove() }
    let trainer = try study.trainer()
    try trainer.run(.susceptibility)
    let losses = trainer.records.map(\.validationLoss)
    let best = losses.min()!
    #expect(trainer.records.filter(\.best).last!.validationLoss == best)
    // Stopped by patience: the run ended `patience` epochs after its best epoch, or at the cap.
    let bestEpoch = losses.firstIndex(of: best)! + 1
    #expect(losses.count == min(6, bestEpoch + 2))
    let recomputed = try trainer.validationLoss(.susceptibility)
    #expect(abs(recomputed - best) < 1e-6 * max(1, best), "\(recomputed) vs \(best)")
  }

  /// A few epochs of training rank validation cells better than the untrained network, with
  /// the default head, whose output never collapses to a constant (none of the epochs has
  /// most validation cells tied at one score).
  @Test func trainingImprovesValidationAUC() throws {
    let study = try TinyStudy([
      "study_area.synthetic.size_km=[24, 24]", "study_area.synthetic.periods=4",
      "training.max_epochs=4", "training.patience=4", "training.batch_size=8",
    ])
    defer { study.remove() }
    let trainer = try study.trainer()
    let before = try #require(try trainer.validationScores().auc)
    try trainer.run(.susceptibility)
    let after = trainer.records.compactMap(\.validationAUC).max()!
    #expect(after > before + 0.05, "AUC before \(before), after \(after)")
    for record in trainer.records {
      let tied = try #require(record.validationTiedShare)
      #expect(tied < 0.5, "epoch \(record.epoch): \(tied) of validation cells tied")
    }
  }

  /// The paper's head with a ReLU dead on every cell (its convolution zeroed, bias −1): every
  /// validation cell gets one score, the record says so, and the stage stops at once with an
  /// error that names the cause and the way out, instead of training on at AUC 0.5.
  @Test func aDeadReLUHeadStopsTheStageWithItsCause() throws {
    let study = try TinyStudy(["susceptibility.head_relu=true", "training.max_epochs=3"])
    defer { study.remove() }
    let trainer = try study.trainer()
    let head = trainer.ensemble.susceptibility.head
    for index in 0..<head.weight.count { head.weight[index] = 0 }
    head.bias![0] = -1
    #expect(try trainer.validationScores().tiedShare == 1)
    #expect {
      try trainer.run(.susceptibility)
    } throws: { error in
      let error = error as! TrainingError
      return error.isOnEveryRank && error.description.contains("output collapsed")
        && error.description.contains("susceptibility.head_relu: false")
    }
    #expect(trainer.records.count == 1)
    #expect(trainer.records[0].validationTiedShare == 1)
  }

  /// The tied share is the most common value's share; the progress line names it only when
  /// it is large.
  @Test func tiedScoresAreMeasuredAndReported() {
    #expect(EnsembleTrainer.largestTiedShare([]) == 0)
    #expect(EnsembleTrainer.largestTiedShare([0.3, 0.1, 0.2, 0.4]) == 0.25)
    #expect(EnsembleTrainer.largestTiedShare([0.1, 0.7, 0.1, 0.2, 0.7, 0.7]) == 0.5)
    #expect(EnsembleTrainer.largestTiedShare([0.5, 0.5, 0.5]) == 1)
    #expect(TrainingLoop.tiedNote(nil) == "")
    #expect(TrainingLoop.tiedNote(0.01) == "")
    #expect(TrainingLoop.tiedNote(0.87) == "; 87 % of validation cells tied at one score")
    #expect(TrainingLoop.tiedNote(1).contains("COLLAPSED"))
  }

  @Test func patchesSplitIntoCellsInLabelOrder() {
    let (n, pixels, channels) = (2, 3, 2)
    let side = n * pixels
    let patches = Tensor(
      (0..<(2 * side * side * channels)).map(Float.init), shape: Shape(2, side, side, channels))
    let cells = Tensor(zeros: Shape(2 * n * n, pixels, pixels, channels))
    PatchCells.split(patches, cellsPerSide: n, into: cells)
    for b in 0..<2 {
      for cell in 0..<(n * n) {
        for y in 0..<pixels {
          for x in 0..<pixels {
            for c in 0..<channels {
              let (py, px) = ((cell / n) * pixels + y, (cell % n) * pixels + x)
              let expected = Float(((b * side + py) * side + px) * channels + c)
              let index = (((b * n * n + cell) * pixels + y) * pixels + x) * channels + c
              #expect(cells[index] == expected)
            }
          }
        }
      }
    }
  }
}
