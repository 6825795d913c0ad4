import ArgumentParser

/// The `landslide` command: one executable, one subcommand per job.
@main
struct Landslide: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "landslide",
    abstract: "Landslide hazard modelling on clusters: data, training, sweeps and maps.",
    version: version,
    subcommands: [
      Info.self, ConfigCommand.self, Synth.self, Terrain.self, Prepare.self, Evaluate.self,
      Bench.self,
    ]
  )
}
