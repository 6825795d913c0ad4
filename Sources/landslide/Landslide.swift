import ArgumentParser
import Configuration
import Training

#if canImport(Glibc)
  @preconcurrency import Glibc
#endif

/// The `landslide` command: one executable, one subcommand per job.
@main
struct Landslide: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "landslide",
    abstract: "Landslide hazard modelling on clusters: data, training, sweeps and maps.",
    version: version,
    subcommands: [
      Info.self, ConfigCommand.self, Synth.self, StudyCommand.self, Terrain.self, Prepare.self,
      Train.self,
      Sweep.self, Predict.self, Evaluate.self, Bench.self, WaveformCommand.self,
      ClassicalCommand.self, RainfallCommand.self,
    ]
  )

  /// A CPU without our kernels' instructions is refused before any of them can run; then
  /// OpenBLAS's kernel is corrected (a restart must come before any output and before MPI
  /// starts). Standard output is line-buffered, so that progress lines reach log files
  /// (SLURM's output files included) as they are printed, not when a buffer fills.
  static func main() {
    ComputeReport.refuseUnsupportedCPU()
    ProcessRestart.correctBLASKernel()
    setvbuf(stdout, nil, _IOLBF, 0)
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      guard let code = documentedExitCode(for: error) else { exit(withError: error) }
      fputs("Error: \(error)\n", stderr)
      Glibc.exit(code)
    }
  }

  /// The documented exit status of an error that is ours (see `ExitStatus`): 64 for a
  /// config or setup the user must fix, 75 for an interruption, 1 for other failures;
  /// nil leaves the argument parser's own errors (usage: 64, help: 0) to it.
  static func documentedExitCode(for error: any Error) -> Int32? {
    switch error {
    case is ConfigError: ExitStatus.usage
    case let error as TrainingError: error.exitCode
    default: nil
    }
  }
}
