import Configuration
import Foundation
import GeoData

extension ClassicalStudy {
  /// The study a config names: the user's rasters and inventories.
  public init(files: ClassicalFilesConfig) throws(ClassicalError) {
    try self.init(
      factors: try Self.factors(paths: files.factors, categorical: files.categorical),
      inventories: files.inventories.map { inventory in
        switch inventory.source {
        case .raster(let path): .raster(name: inventory.name, path: path)
        case .polygons(let path, let layer):
          .polygons(name: inventory.name, path: path, layer: layer)
        case .points(let path, let x, let y, let label):
          .points(name: inventory.name, path: path, x: x, y: y, label: label)
        }
      })
  }

  /// A study directory as `landslide classical synth` writes it (its `study.json`).
  public init(directory: String) throws(ClassicalError) {
    let manifestPath = (directory as NSString).appendingPathComponent(
      ClassicalStudyManifest.fileName)
    let manifest: ClassicalStudyManifest
    do { manifest = try ClassicalStudyManifest.read(from: manifestPath) } catch {
      throw ClassicalError(error.path, error.message)
    }
    // The paper's order: historical landslides, then earthquake-induced, then any others.
    let known = ["historical", "earthquake"]
    let names =
      known.filter { manifest.inventories[$0] != nil }
      + manifest.inventories.keys.filter { !known.contains($0) }.sorted()
    try self.init(
      factors: zip(manifest.factors, manifest.factorPaths(study: directory)).map {
        Factor(name: $0, path: $1, categorical: manifest.categorical[$0] != nil)
      },
      inventories: names.map {
        .raster(
          name: $0, path: (directory as NSString).appendingPathComponent(manifest.inventories[$0]!))
      })
  }
}
