import Foundation

/// Locations the tests need, independent of the working directory `swift test` runs in.
public enum TestPaths {
  /// The package root (this file is Tests/TestSupport/Paths.swift).
  public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The read-only reference data: `$LANDSLIDE_SHARED_DATA`, defaulting to
  /// `../shared/data` beside the checkout.
  public static let sharedData: URL = {
    if let path = ProcessInfo.processInfo.environment["LANDSLIDE_SHARED_DATA"] {
      return URL(fileURLWithPath: path)
    }
    return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
  }()

  /// True when the reference data is present; tests that need it are skipped by name
  /// (with this reason) otherwise.
  public static var hasSharedData: Bool {
    FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("README.md").path)
  }

  /// A fresh empty directory for one test's files.
  public static func temporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("landslide-tests-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
