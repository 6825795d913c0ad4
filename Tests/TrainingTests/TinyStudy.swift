import Configuration
import Foundation
import GeoData
import TestSupport
import Training

/// The tiny synthetic study of configs/tiny.yaml, generated and prepared in a fresh
/// directory, with overrides for the test at hand.
struct TinyStudy {
  let directory: URL
  let config: LandslideConfig
  let data: StudyData
  let shards: ShardSet

  init(_ overrides: [String] = [], name: String = #function) throws {
    directory = try TestPaths.temporaryDirectory(name)
    config = try LandslideConfig.load(
      file: TestPaths.repositoryRoot.appendingPathComponent("configs/tiny.yaml").path,
      overrides: ["training.progress_interval=1000"] + overrides)
    data = try StudyData.ensure(config, in: directory.path) { _ in }
    shards = try ShardSet(directory: data.shards)
  }

  func trainer() throws -> EnsembleTrainer {
    try EnsembleTrainer(
      config: config, shards: shards, staticCount: data.manifest.staticPredictors.count,
      metricsPath: directory.appendingPathComponent("metrics.jsonl").path
    ) { _ in }
  }

  func remove() { try? FileManager.default.removeItem(at: directory) }
}
