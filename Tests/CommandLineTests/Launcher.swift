import Foundation
import TestSupport

/// Runs the built `landslide` executable (or `mpirun` around it) and captures its output.
/// Every run has a deadline: past it the command and every process it started (mpirun's
/// ranks included) are killed and `LaunchTimeout` is thrown, naming the command, the
/// deadline and the end of its output, so the test fails instead of hanging.
enum Launcher {
  typealias Result = LaunchResult

  /// Deadlines, in seconds, of the commands these tests run (generous: a debug build on a
  /// busy machine, with other suites running beside it).
  enum Deadline {
    /// A tool that answers at once (pgrep, scontrol, scancel, sbatch without --wait).
    static let tool: TimeInterval = 60
    /// One `landslide` command on a tiny config.
    static let command: TimeInterval = 300
    /// `mpirun` around one `landslide` command on a tiny config.
    static let mpi: TimeInterval = 600
    /// A whole sweep (several trials), on one process or under mpirun.
    static let sweep: TimeInterval = 900
    /// `sbatch --wait`: a batch job on the local SLURM from submission to its end.
    static let slurmJob: TimeInterval = 1_800
  }

  /// The `landslide` binary next to the test bundle, or `$LANDSLIDE_BIN` when set.
  static var landslidePath: String {
    if let path = ProcessInfo.processInfo.environment["LANDSLIDE_BIN"] { return path }
    return Bundle.main.bundleURL.appendingPathComponent("landslide").path
  }

  /// Runs `executable` from the repository root, for `deadline` seconds at most. Output goes
  /// to files rather than pipes so that a chatty child can never block on a full pipe.
  static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    unsetting: Set<String> = [], deadline: TimeInterval = Deadline.command
  ) throws -> Result {
    try ChildProcess.run(
      executable, arguments, environment: environment, unsetting: unsetting, deadline: deadline)
  }

  static func landslide(_ arguments: String..., deadline: TimeInterval = Deadline.command)
    throws -> Result
  {
    try run(landslidePath, arguments, deadline: deadline)
  }
}
