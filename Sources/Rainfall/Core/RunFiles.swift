import Foundation
import TensorEngine

/// The files the rainfall commands leave: paths under a directory, and text (CSV, JSON,
/// SVG) written atomically, a failure naming the file.
enum RunFiles {
  static func path(_ base: String, _ parts: String...) -> String {
    NSString.path(withComponents: [base] + parts)
  }

  static func write(_ text: String, to path: String) throws(RainfallError) {
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch {
      throw RainfallError(path, error.message)
    }
  }
}
