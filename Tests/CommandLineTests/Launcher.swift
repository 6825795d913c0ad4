import Foundation
import TestSupport

/// Runs the built `landslide` executable (or `mpirun` around it) and captures its output.
enum Launcher {
  struct Result {
    let status: Int32
    let standardOutput: String
    let standardError: String
  }

  /// The `landslide` binary next to the test bundle, or `$LANDSLIDE_BIN` when set.
  static var landslidePath: String {
    if let path = ProcessInfo.processInfo.environment["LANDSLIDE_BIN"] { return path }
    return Bundle.main.bundleURL.appendingPathComponent("landslide").path
  }

  /// Runs `executable` from the repository root. Output goes to files rather than pipes so
  /// that a chatty child can never block on a full pipe.
  static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:])
    throws -> Result
  {
    let directory = try TestPaths.temporaryDirectory("launch")
    defer { try? FileManager.default.removeItem(at: directory) }
    let outputURL = directory.appendingPathComponent("stdout")
    let errorURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = TestPaths.repositoryRoot
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorURL)
    try process.run()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus,
      standardOutput: try String(contentsOf: outputURL, encoding: .utf8),
      standardError: try String(contentsOf: errorURL, encoding: .utf8))
  }

  static func landslide(_ arguments: String...) throws -> Result {
    try run(landslidePath, arguments)
  }
}
