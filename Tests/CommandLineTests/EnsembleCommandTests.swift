import Foundation
import GeoData
import TestSupport
import Testing

/// `train`, `predict` and `evaluate` chained on configs/tiny.yaml, as `make demo` chains
/// them on configs/demo.yaml.
@Suite struct EnsembleCommandTests {
  @Test func trainPredictEvaluate() throws {
    let run = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: run) }
    let trained = try Launcher.landslide(
      "train", "--config", "configs/tiny.yaml", "--run-dir", run.path)
    #expect(trained.status == 0, "\(trained.standardError)")
    #expect(trained.standardOutput.contains("oracle AUC"))
    for name in [
      "metrics.jsonl", "metrics.json", "checkpoints/final.safetensors", "test/labels.npy",
      "test/probabilities.npy", "test/observed_density.npy", "test/predicted_density.npy",
      "test/truth_probabilities.npy",
    ] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), "\(name)")
    }
    let metrics = try JSONDecoder().decode(
      [String: Double].self, from: Data(contentsOf: run.appendingPathComponent("metrics.json")))
    for key in ["auc", "f1", "iou", "oracle_auc", "oracle_pearson_r_positive"] {
      #expect(metrics[key] != nil, "\(key)")
    }
    let epochs = try String(
      contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8
    ).split(separator: "\n")
    #expect(epochs.count <= 2 + 4 + 4 + 1 + 1)  // tiny.yaml: the most epochs per stage

    let maps = run.appendingPathComponent("maps")
    let predicted = try Launcher.landslide(
      "predict", "--checkpoint", run.appendingPathComponent("checkpoints/final.safetensors").path,
      "--study", run.appendingPathComponent("data/study").path, "--out", maps.path)
    #expect(predicted.status == 0, "\(predicted.standardError)")
    // The last row of patches is always reported, with no time left.
    #expect(
      predicted.standardOutput.contains(
        /predicting: (\d+)\/\1 rows of patches, \d+ s, about 0 s left/),
      "\(predicted.standardOutput)")
    let inventory = try RasterDataset(
      path: run.appendingPathComponent("data/study/inventory.tif").path)
    for name in ["susceptibility", "density", "hazard", "confusion", "density_residual"] {
      let map = try RasterDataset(path: maps.appendingPathComponent("\(name).tif").path)
      #expect(map.grid == inventory.grid, "\(name)")
      #expect(map.bandCount == 3, "\(name)")
      #expect(
        FileManager.default.fileExists(
          atPath: maps.appendingPathComponent("quicklooks/\(name)_period2.png").path))
    }

    let evaluated = try Launcher.landslide(
      "evaluate", "--predictions", run.appendingPathComponent("test").path, "--json")
    #expect(evaluated.status == 0, "\(evaluated.standardError)")
    let evaluation = try JSONDecoder().decode(
      [String: Double].self, from: Data(evaluated.standardOutput.utf8))
    #expect(abs(evaluation["auc"]! - metrics["auc"]!) < 1e-9)
  }
}
