import Configuration
import TensorEngine

/// One point of a sweep's search space: the values of the searched keys and the run-config
/// overrides they become.
public struct Trial: Equatable, Sendable {
  /// Position in the sweep's trial list, from 0; names the trial's folder.
  public let index: Int
  /// Searched key → value, in the sweep file's key order.
  public let values: [(key: String, value: SweepValue)]

  public init(index: Int, values: [(key: String, value: SweepValue)]) {
    self.index = index
    self.values = values
  }

  /// `--set` overrides for the trial's run config; a total block count becomes
  /// `susceptibility.blocks_per_stage`.
  public var overrides: [String] {
    values.map { key, value in
      if key == SweepParameter.blocksTotal, case .integer(let total) = value {
        let blocks = SweepParameter.blocksPerStage(total: total)
        return
          "susceptibility.blocks_per_stage=\(SweepValue.list(blocks.map { .integer($0) }).yaml)"
      }
      return "\(key)=\(value.yaml)"
    }
  }

  /// "training.learning_rate=0.001, training.batch_size=8": how logs and errors name it.
  public var label: String { values.map { "\($0.key)=\($0.value.yaml)" }.joined(separator: ", ") }

  public static func == (lhs: Trial, rhs: Trial) -> Bool {
    lhs.index == rhs.index && lhs.label == rhs.label
  }
}

/// The trials of a sweep, in a fixed order that a re-run reproduces.
public enum SearchSpace {
  public static func trials(_ config: SweepConfig) -> [Trial] {
    switch config.method {
    case .grid: return grid(config.space)
    case .random: return random(config.space, count: config.trials ?? 0, seed: config.seed)
    }
  }

  /// Every combination, the first key varying slowest.
  static func grid(_ space: [SweepParameter]) -> [Trial] {
    let axes = space.map { $0.values ?? [] }
    let count = axes.reduce(1) { $0 * $1.count }
    return (0..<count).map { index in
      var rest = index
      var values: [(key: String, value: SweepValue)] = []
      for (parameter, axis) in zip(space, axes).reversed() {
        values.append((parameter.key, axis[rest % axis.count]))
        rest /= axis.count
      }
      return Trial(index: index, values: values.reversed())
    }
  }

  /// `count` independent draws: a listed value uniformly, a range uniformly (or
  /// log-uniformly), a range with a count as its evenly spaced values.
  static func random(_ space: [SweepParameter], count: Int, seed: Int) -> [Trial] {
    var generator = RandomGenerator(seed: UInt64(seed) &+ 0x5EED)
    return (0..<count).map { index in
      Trial(
        index: index,
        values: space.map { parameter in
          let value: SweepValue
          if let values = parameter.values {
            value = values[Int(generator.next() % UInt64(values.count))]
          } else if case .range(let min, let max, let log, let integer, _) = parameter.domain {
            let fraction = Double(generator.next() >> 11) * 0x1p-53
            if integer && !log {
              // Every whole number in [min, max] equally often (rounding would halve the ends).
              let low = min.rounded(.up)
              let count = max.rounded(.down) - low + 1
              value = .integer(Int(low + (fraction * count).rounded(.down)))
            } else {
              value = SweepParameter.value(
                at: fraction, min: min, max: max, log: log, integer: integer)
            }
          } else {
            preconditionFailure("a domain is either finite or a range")
          }
          return (parameter.key, value)
        })
    }
  }
}
