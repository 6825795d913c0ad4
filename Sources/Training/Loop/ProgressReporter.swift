import Foundation

/// Prints one progress line per interval: stage (or variant), epoch, step, loss, throughput, ETA.
struct ProgressReporter {
  let interval: Double
  let output: (String) -> Void
  private var last = ContinuousClock.now

  init(interval: Double, output: @escaping (String) -> Void) {
    self.interval = interval
    self.output = output
  }

  /// Reports if the interval has passed, for a run named `label` (a stage, a transformer
  /// variant). `elapsed` is this epoch's time so far; the ETA is the rest of this epoch at
  /// the current rate.
  mutating func update(
    label: String, epoch: Int, maxEpochs: Int, step: Int, steps: Int, loss: Double,
    units: Int, elapsed: Double
  ) {
    let now = ContinuousClock.now
    guard (now - last).seconds >= interval else { return }
    last = now
    let rate = Double(units) / max(elapsed, 1e-9)
    let remaining = elapsed / Double(max(step, 1)) * Double(steps - step)
    output(
      "\(label) epoch \(epoch)/\(maxEpochs) step \(step)/\(steps) loss "
        + String(format: "%.4f", loss) + String(format: "  %.1f samples/s", rate)
        + "  ETA \(Self.duration(remaining)) (epoch)")
  }

  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return total >= 3600
      ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
      : String(format: "%d:%02d", total / 60, total % 60)
  }
}
