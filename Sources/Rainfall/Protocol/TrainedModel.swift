import Classical
import Foundation

/// A boosted model that `rainfall train` wrote into a run directory
/// (`models/NAME.safetensors`), with the feature encoder it was trained with: what
/// `rainfall explain` and `rainfall thresholds` read.
enum TrainedModel {
  /// The model, its encoder and the file they came from.
  static func load(runDirectory: String, name: String) throws(RainfallError)
    -> (model: BoostedTrees, encoder: FeatureEncoder, path: String)
  {
    let path = NSString.path(withComponents: [runDirectory, "models", "\(name).safetensors"])
    guard FileManager.default.fileExists(atPath: path) else {
      throw RainfallError(
        path, "no \(name) model: `rainfall train` writes it into the run directory's models/")
    }
    do throws(ClassicalError) {
      let (stored, metadata) = try StoredModel.read(path)
      let model = try BoostedTrees(stored: stored)
      guard let json = metadata[FeatureEncoder.metadataKey],
        let encoder = try? JSONDecoder().decode(FeatureEncoder.self, from: Data(json.utf8))
      else { throw ClassicalError(path, "no feature encoder in the model file") }
      return (model, encoder, path)
    } catch { throw RainfallError(path, error.message) }
  }
}
