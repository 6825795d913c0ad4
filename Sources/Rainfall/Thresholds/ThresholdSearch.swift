import Classical

/// The seed's threshold search (its §3.4): for each positive event of 1–5 days, the total
/// rain at which the model's landslide probability first reaches each level.
///
/// The events are every positive (label 1) of the event set whose duration (duration_hours
/// / 24) is 1 to 5 days, not only the test split: the seed "reintroduced the filtered
/// positive samples", all of them. Each event's total is stepped from 0 in `step` mm up to
/// `ceiling` × its observed total, its intensity following as total / duration days and
/// every other feature kept; the first total with P ≥ a level is the event's threshold at
/// that level. Being the first step where P ≥ level, a higher level's threshold is never
/// below a lower one's (P ≥ 0.9 implies P ≥ 0.7 at the same step), and an event that
/// reaches a level has reached every lower one. An event that never reaches a level within
/// its steps has no threshold there.
///
/// All steps of a chunk of events are one prediction (`batchRows` rows or one event's
/// steps, whichever is more), never one call per step.
public struct ThresholdSearch: Sendable {
  /// Probability levels, rising, each in (0, 1].
  public var levels: [Double]
  /// mm.
  public var step: Double
  /// The highest total tried, as a multiple of the observed one.
  public var ceiling: Double
  public var durationDays: ClosedRange<Double>
  public var batchRows: Int

  public init(
    levels: [Double] = [0.5, 0.7, 0.9], step: Double = 0.1, ceiling: Double = 1.5,
    durationDays: ClosedRange<Double> = 1...5, batchRows: Int = 1 << 16
  ) {
    self.levels = levels
    self.step = step
    self.ceiling = ceiling
    self.durationDays = durationDays
    self.batchRows = batchRows
  }

  /// One searched event.
  public struct Crossing: Equatable, Sendable {
    /// The event's row in the event set.
    public var row: Int
    public var observedTotal: Double
    /// Per level, the first total (mm) where P ≥ level; nil when it never does.
    public var totals: [Double?]
  }

  /// The rows searched: positives of `durationDays`.
  public func eligibleRows(of events: EventSet, source: String) throws(RainfallError) -> [Int] {
    let duration = try Self.column("duration_hours", of: events, source: source)
    let features = events.table.features
    return (0..<events.table.rows).filter { row in
      events.table.labels[row] == 1
        && durationDays.contains(Double(features[row, duration]) / 24)
    }
  }

  /// Searches `events`' eligible rows; `probability` maps raw feature rows (the event
  /// set's columns) to P, one per row. `source` names the event set in errors.
  public func run(
    events: EventSet, source: String,
    probability: (FeatureMatrix) throws(RainfallError) -> [Float]
  ) throws(RainfallError) -> [Crossing] {
    guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 && $0 <= 1 }),
      zip(levels, levels.dropFirst()).allSatisfy({ $0 < $1 })
    else {
      throw RainfallError(
        "threshold levels", "\(levels) must rise strictly and lie in (0, 1]")
    }
    let rows = try eligibleRows(of: events, source: source)
    let total = try Self.column("total_mm", of: events, source: source)
    let duration = try Self.column("duration_hours", of: events, source: source)
    let intensity = try Self.column("intensity_mm_per_day", of: events, source: source)
    let features = events.table.features
    let columns = features.columns
    let steps = rows.map { Self.stepCount(to: ceiling * Double(features[$0, total]), step: step) }
    var crossings: [Crossing] = []
    crossings.reserveCapacity(rows.count)
    var first = 0
    while first < rows.count {
      var end = first
      var batch = 0
      while end < rows.count && (end == first || batch + steps[end] <= batchRows) {
        batch += steps[end]
        end += 1
      }
      var values = [Float](repeating: 0, count: batch * columns)
      var offset = 0
      for position in first..<end {
        let row = rows[position]
        let days = Double(features[row, duration]) / 24
        let source = features.row(row)
        for k in 0..<steps[position] {
          let base = (offset + k) * columns
          for (column, value) in source.enumerated() { values[base + column] = value }
          let amount = Double(k) * step
          values[base + total] = Float(amount)
          values[base + intensity] = Float(amount / days)
        }
        offset += steps[position]
      }
      let p = try probability(FeatureMatrix(rows: batch, columns: columns, values: values))
      guard p.count == batch else {
        throw RainfallError(source, "\(p.count) probabilities for \(batch) rows")
      }
      offset = 0
      for position in first..<end {
        let row = rows[position]
        var totals = [Double?](repeating: nil, count: levels.count)
        var level = 0
        for k in 0..<steps[position] where level < levels.count {
          while level < levels.count && Double(p[offset + k]) >= levels[level] {
            totals[level] = Double(k) * step
            level += 1
          }
        }
        crossings.append(
          Crossing(row: row, observedTotal: Double(features[row, total]), totals: totals))
        offset += steps[position]
      }
      first = end
    }
    return crossings
  }

  /// Totals 0, step, 2·step, … up to `ceiling` (a hair of rounding allowed, so that
  /// 1.5 × 20 mm ends at 30.0 and not 29.9).
  static func stepCount(to ceiling: Double, step: Double) -> Int {
    Int((max(0, ceiling) / step + 1e-9).rounded(.down)) + 1
  }

  static func column(_ name: String, of events: EventSet, source: String) throws(RainfallError)
    -> Int
  {
    guard let index = events.table.columns.firstIndex(where: { $0.name == name }) else {
      throw RainfallError(
        source,
        "no \(name) column (columns: \(events.table.columns.map(\.name).joined(separator: ", ")))")
    }
    return index
  }
}
