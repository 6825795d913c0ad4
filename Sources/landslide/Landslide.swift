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

  /// Line-buffered standard output, so that progress lines reach log files (SLURM's output
  /// files included) as they are printed, not when a buffer fills.
  static func main() {
    setvbuf(stdout, nil, _IOLBF, 0)
    main(nil)
  }
}
