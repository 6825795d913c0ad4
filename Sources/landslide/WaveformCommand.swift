import ArgumentParser
import Configuration
import Distributed
import Foundation
import TensorEngine
import Training

/// `landslide waveform`: the full-waveform transformer (SPEC.md §2).
struct WaveformCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "waveform",
    abstract:
      "Full-waveform transformer: synthetic data, training, the variant benchmark, explanations.",
    subcommands: [
      WaveformSynth.self, WaveformTrain.self, WaveformBenchmarkCommand.self,
      WaveformExplain.self,
    ])
}

/// What `waveform train` and `waveform benchmark` share: the config, the data and the MPI
/// job they run in.
struct WaveformDataOptions: ParsableArguments {
  @Option(help: "Config (YAML); see configs/waveform.yaml.")
  var config = "configs/waveform.yaml"

  @OptionGroup var overrides: ConfigOverrides

  @Option(
    help: ArgumentHelp(
      "Directory with series.npy, static.npy and labels.npy (default: the config's synthetic scenario).",
      valueName: "dir"))
  var data: String?

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  func load() throws -> (config: WaveformConfig, data: WaveformDataset, split: WaveformSplit) {
    let settings = try WaveformConfig.load(file: config, overrides: overrides.values)
    let dataset =
      try data.map { directory throws(TrainingError) in
        try WaveformDataset.read(directory: directory, sampleRate: settings.scenario.sampleRate)
      } ?? WaveformDataset.synthetic(settings.scenario)
    return (settings, dataset, try WaveformSplit(sites: dataset.sites, config: settings.split))
  }

  /// A hash of the config file's text and the overrides, in order.
  func configHash() throws -> String {
    ConfigHash.of(
      text: try String(contentsOfFile: config, encoding: .utf8), overrides: overrides.values)
  }
}
