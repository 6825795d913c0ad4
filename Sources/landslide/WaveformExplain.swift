import ArgumentParser
import Evaluation
import Foundation
import TensorEngine
import Training
import Waveform

/// `landslide waveform explain`: the per-time-step explanation scores of SPEC.md §2.
struct WaveformExplain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Per-time-step explanation scores of a trained waveform variant for chosen sites.",
    discussion: """
      S = (x − x₀)·∇ᵢ/(∇ᵢ − ∇₀) per time step and component, with ∇ᵢ and ∇₀ the gradients \
      of P(landslide) with respect to the waveform at the input and at the all-zero \
      baseline x₀ (0 where ∇ᵢ = ∇₀). Writes into --out: scores.npy [sites, samples, 3], \
      probability.npy [sites], pgv_time.npy [sites] (seconds of each site's PGV arrival) \
      and explanation.svg (the scores' 10/50/90 % against time from the PGV arrival, per \
      component). Only the waveform variants (mod1, mod3, lowpass) can be explained.
      """)

  @Option(help: "A checkpoint of `waveform train` (e.g. RUN-DIR/checkpoints/final.safetensors).")
  var checkpoint: String

  @Option(help: "Records, [sites, samples, 3] or [sites, 3, samples] .npy (m/s).")
  var series: String

  @Option(
    name: .customLong("static"),
    help: "Static covariates [sites, features] .npy (for variants that read them).")
  var staticPath: String?

  @Option(
    parsing: .upToNextOption,
    help: "Indexes of the sites to explain (default: all sites of the files).")
  var sites: [Int] = []

  @Option(help: "Directory to write.")
  var out: String

  @Option(help: "Width of the figure's time bins, seconds.")
  var binSeconds = 1.0

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads: Int = ComputeThreads.available

  func validate() throws {
    guard binSeconds > 0 else { throw ValidationError("--bin-seconds: expected a positive number") }
  }

  func run() throws {
    ThreadPool.shared.threadCount = threads
    let (description, model) = try WaveformCheckpoint.read(checkpoint)
    var records = try GroundMotionRecords.read(path: series, sampleRate: description.sampleRate)
    let features = description.normalisation.staticMean.count
    var statics: [Float] = []
    if features > 0 {
      guard let staticPath else {
        throw ValidationError(
          "--static: variant \(description.variant.rawValue) reads \(features) static covariates; "
            + "give their .npy")
      }
      let array = try NumPyArray.read(path: staticPath)
      guard array.shape == [records.sites, features] else {
        throw ValidationError(
          "\(staticPath): shape \(array.shape); expected [\(records.sites), \(features)] "
            + "(one row per site of \(series), the checkpoint's \(features) features)")
      }
      statics = array.values
    }
    if !sites.isEmpty {
      if let bad = sites.first(where: { !(0..<records.sites).contains($0) }) {
        throw ValidationError(
          "--sites: site \(bad) is not in \(series) (sites 0…\(records.sites - 1))")
      }
      let stride = records.samples * 3
      records = GroundMotionRecords(
        sites: sites.count, samples: records.samples, sampleRate: records.sampleRate,
        values: sites.flatMap { records.values[($0 * stride)..<(($0 + 1) * stride)] })
      statics = sites.flatMap { statics[($0 * features)..<(($0 + 1) * features)] }
    }
    let explanation = try WaveformExplanation(
      model: model, description: description, records: records, statics: statics)
    let peaks = WaveformExplanation.peakTimes(records)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
    try NumPyArray(shape: [records.sites, records.samples, 3], values: explanation.scores)
      .write(to: path("scores.npy"))
    try NumPyArray(shape: [records.sites], values: explanation.probabilities)
      .write(to: path("probability.npy"))
    try NumPyArray(
      shape: [records.sites], values: peaks.map { Float(Double($0) / records.sampleRate) }
    ).write(to: path("pgv_time.npy"))
    let bins = explanation.distribution(
      peakTimes: peaks, sampleRate: records.sampleRate, binSeconds: binSeconds)
    let svg = ExplanationFigure.svg(
      seconds: bins.map(\.seconds), low: bins.map(\.low), median: bins.map(\.median),
      high: bins.map(\.high), components: GroundMotionRecords.components,
      title: "\(description.variant.rawValue): explanation score S vs time from PGV")
    try AtomicFile.write(Data(svg.utf8), to: path("explanation.svg"))
    print(
      "\(records.sites) site(s) explained with \(description.variant.rawValue); "
        + "scores, probabilities and explanation.svg in \(out)")
  }
}
