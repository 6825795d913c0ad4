import ArgumentParser

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
      Info.self, ConfigCommand.self, Synth.self, Terrain.self, Prepare.self, Train.self,
      Sweep.self, Predict.self, Evaluate.self, Bench.self, WaveformCommand.self,
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
    main(nil)
  }
}
