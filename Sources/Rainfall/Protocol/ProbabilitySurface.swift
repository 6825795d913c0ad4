import Classical
import Foundation
import GeoData
import TensorEngine

/// The seed's probability maps (its Figure 7): a model's landslide probability over rain
/// duration and total, or duration and intensity, as a partial-dependence surface, so that
/// the rain alone varies and the sites, soils and statics stay as the test set has them.
///
/// At each grid point (duration D days, total E mm) every averaged row gets
/// duration_hours = 24·D, total_mm = E and intensity_mm_per_day = E / D, all its other
/// features kept; the point's value is the mean predicted probability over the rows. Over
/// (D, intensity I) the rows get total_mm = I·D and intensity I instead. One grid row (one
/// amount, every duration) is one batched prediction. The rows are the test rows, or a
/// fixed seeded choice of `maximumRows` of them when there are more.
public struct ProbabilitySurface: Sendable {
  /// What the grid's second axis holds.
  public enum Amount: String, Sendable {
    /// Event total, mm.
    case total
    /// Mean intensity, mm/day.
    case intensity

    var column: String { self == .total ? "total_mm" : "intensity_mm_per_day" }
    var axisTitle: String { self == .total ? "Total rain (mm)" : "Rain intensity (mm/day)" }
  }

  public let amount: Amount
  /// The grid's durations (days) and amounts (mm, or mm/day), rising.
  public let durations: [Float]
  public let amounts: [Float]
  /// Mean probability per grid point, amount-major (the first amount's row first), as
  /// `HeatMapPlot` reads a grid whose first row is at the bottom.
  public let probabilities: [Float]
  /// How many rows each point averages over.
  public let rowCount: Int

  /// The most rows a surface averages over: 2000 rows keep a 30 × 51 grid near 3 million
  /// predictions.
  public static let maximumRows = 2000
  /// Steps from 0 to the 99th percentile of the totals or intensities.
  public static let amountSteps = 50
  /// The longest duration on the grid, in days.
  public static let longestDuration = 30

  /// The mean probability at `durations[duration]`, `amounts[amount]`.
  public subscript(duration duration: Int, amount amount: Int) -> Float {
    probabilities[amount * durations.count + duration]
  }

  /// Computes the surface over `rows` (raw features in `rows.columns`, which must hold
  /// `EventSet.rainColumns`' total, duration and intensity); `predict` maps raw rows to
  /// probabilities, one per row. `source` names the rows in errors.
  public init(
    amount: Amount, durations: [Float], amounts: [Float], over rows: PixelTable, source: String,
    predict: (FeatureMatrix) throws(RainfallError) -> [Float]
  ) throws(RainfallError) {
    guard !durations.isEmpty, !amounts.isEmpty else {
      throw RainfallError(
        source, "a \(durations.count) × \(amounts.count) probability grid has no points")
    }
    guard durations.allSatisfy({ $0.isFinite && $0 > 0 }), amounts.allSatisfy(\.isFinite) else {
      throw RainfallError(
        source, "grid durations must be positive and finite and its amounts finite")
    }
    guard rows.rows > 0 else { throw RainfallError(source, "no rows to average over") }
    var positions: [Int] = []
    for name in EventSet.rainColumns.prefix(3) {
      guard let position = rows.columns.firstIndex(where: { $0.name == name }) else {
        throw RainfallError(
          source, "no \(name) column, which the probability surface sets at each grid point")
      }
      positions.append(position)
    }
    let (totalColumn, hoursColumn, intensityColumn) = (positions[0], positions[1], positions[2])
    let (n, width) = (rows.rows, rows.columns.count)
    // One grid row's batch: the rows repeated once per duration; only the three rain
    // columns change from one grid row to the next.
    var batch = Array(repeatElement(rows.features.values, count: durations.count).joined())
    var probabilities = [Float](repeating: 0, count: amounts.count * durations.count)
    for (a, level) in amounts.enumerated() {
      batch.withUnsafeMutableBufferPointer { batch in
        for (d, days) in durations.enumerated() {
          let (total, intensity) = amount == .total ? (level, level / days) : (level * days, level)
          for row in 0..<n {
            let base = (d * n + row) * width
            batch[base + totalColumn] = total
            batch[base + hoursColumn] = 24 * days
            batch[base + intensityColumn] = intensity
          }
        }
      }
      let predicted = try predict(
        FeatureMatrix(rows: durations.count * n, columns: width, values: batch))
      guard predicted.count == durations.count * n else {
        throw RainfallError(
          source, "\(predicted.count) probabilities for a batch of \(durations.count * n) rows")
      }
      for d in durations.indices {
        let mean = predicted[d * n..<(d + 1) * n].reduce(0) { $0 + Double($1) } / Double(n)
        probabilities[a * durations.count + d] = Float(mean)
      }
    }
    self.amount = amount
    self.durations = durations
    self.amounts = amounts
    self.probabilities = probabilities
    rowCount = n
  }

  /// The seed's grid for `test`: durations 1…the longest test event (whole days, at most
  /// `longestDuration`); totals and intensities from 0 to their 99th percentile over the
  /// test rows in `amountSteps` steps.
  public static func grid(
    for test: PixelTable, source: String
  ) throws(RainfallError) -> (durations: [Float], totals: [Float], intensities: [Float]) {
    func column(_ name: String) throws(RainfallError) -> [Float] {
      guard let position = test.columns.firstIndex(where: { $0.name == name }) else {
        throw RainfallError(source, "no \(name) column to span the probability grid")
      }
      let values = (0..<test.rows).map { test.features[$0, position] }.filter(\.isFinite)
      guard !values.isEmpty else { throw RainfallError(source, "no finite \(name) to span") }
      return values.sorted()
    }
    func steps(to name: String) throws(RainfallError) -> [Float] {
      let sorted = try column(name)
      let h = 0.99 * Double(sorted.count - 1)
      let below = Int(h)
      let above = min(below + 1, sorted.count - 1)
      let top = Double(sorted[below]) + (h - Double(below)) * Double(sorted[above] - sorted[below])
      guard top > 0 else {
        throw RainfallError(source, "the 99th percentile of \(name) is \(top): no range to span")
      }
      return (0...amountSteps).map { Float(top * Double($0) / Double(amountSteps)) }
    }
    let longestHours = try column(EventSet.rainColumns[1]).last!
    let days = min(max(Int((longestHours / 24).rounded(.up)), 1), longestDuration)
    let totals = try steps(to: EventSet.rainColumns[0])
    let intensities = try steps(to: EventSet.rainColumns[2])
    return ((1...days).map(Float.init), totals, intensities)
  }

  /// The rows a surface averages over: all of `table`'s, or `maximumRows` of them drawn
  /// without replacement by a generator of fixed seed (in their table order), so that runs
  /// repeat.
  public static func averagedRows(of table: PixelTable) -> PixelTable {
    guard table.rows > maximumRows else { return table }
    var generator = RandomGenerator(seed: 0x5EED_F167)
    var indices = Array(0..<table.rows)
    for i in 0..<maximumRows {
      indices.swapAt(i, Int.random(in: i..<table.rows, using: &generator))
    }
    return table.selecting(rows: indices.prefix(maximumRows).sorted())
  }

  /// The surface as CSV: duration_days, the amount's column and probability, one line per
  /// grid point, duration by duration.
  public var csv: String {
    var text = "duration_days,\(amount.column),probability\n"
    for d in durations.indices {
      for a in amounts.indices {
        text += String(
          format: "%.6g,%.6g,%.6g\n", durations[d], amounts[a], self[duration: d, amount: a])
      }
    }
    return text
  }

  /// Writes `probability_duration_<amount>.png` (a heat map, high probability dark red)
  /// and `.csv` into `directory`; `title` heads the image.
  public func write(in directory: String, title: String) throws(RainfallError) {
    let base = (directory as NSString).appendingPathComponent("probability_duration_\(amount)")
    do {
      try HeatMapPlot.write(
        path: base + ".png", values: probabilities, columns: durations.count,
        rows: amounts.count,
        x: .init(title: "Rain duration (days)", first: durations.first!, last: durations.last!),
        y: .init(title: amount.axisTitle, first: amounts.first!, last: amounts.last!),
        title: title, ramp: .yellowOrangeRed, unit: "probability")
    } catch { throw RainfallError(error.path, error.message) }
    try RunFiles.write(csv, to: base + ".csv")
  }
}
