import Foundation
import TensorEngine

/// A study's `study.json` (the ensemble's `StudyManifest`, the classical models'
/// `ClassicalStudyManifest`): written the same way whichever it is.
public protocol ManifestFile: Codable {}

extension ManifestFile {
  /// Writes the manifest atomically (temporary file, fsync, rename).
  public func write(to path: String) throws(RasterError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try AtomicFile.write(try encoder.encode(self), to: path)
    } catch let failure as AtomicFile.Failure {
      throw RasterError(path: path, message: failure.message)
    } catch {
      throw RasterError(path: path, message: "cannot encode (\(error.localizedDescription))")
    }
  }
}
