import ArgumentParser
import Configuration
import Foundation
import Training
import Waveform

/// `landslide waveform synth`: the synthetic co-seismic scenario as `.npy` files.
struct WaveformSynth: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Write a synthetic co-seismic scenario: series [N, T, 3], static [N, F], labels [N].",
    discussion: """
      Writes series.npy (velocity records, m/s, [sites, samples, 3]), static.npy (slope, \
      relief, lithology class, plan curvature, distance to stream), labels.npy (1 where the \
      slope failed) and probability.npy (the latent failure probability) into --out. The \
      scenario is the config's `scenario` section; the same seed gives the same bytes.
      """)

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Config (YAML) whose `scenario` section describes the scenario.")
  var config = "configs/waveform.yaml"

  @OptionGroup var overrides: ConfigOverrides

  func run() throws {
    let settings = try WaveformConfig.load(file: config, overrides: overrides.values)
    let s = settings.scenario
    let specification = WaveformScenario.Specification(
      seed: UInt64(s.seed), sites: s.sites, samples: s.samples, sampleRate: s.sampleRate,
      magnitude: s.magnitude, distanceKm: s.minDistanceKm...s.maxDistanceKm,
      positiveRate: s.positiveRate)
    if let problem = specification.problem {
      throw ValidationError("config section scenario: \(problem)")
    }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let scenario = WaveformScenario(specification)
    try scenario.write(into: out)
    let failed = scenario.labels.reduce(0, +)
    print(
      "\(out): \(s.sites) sites × \(s.samples) samples at \(s.sampleRate) Hz, "
        + "\(Int(failed)) failed (\(String(format: "%.1f", 100 * Double(failed) / Double(s.sites))) %), seed \(s.seed)"
    )
  }
}
