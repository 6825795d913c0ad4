import GeoData

/// New landslide area per cell and period from a cumulative inventory (increases between
/// consecutive periods; decreases, re-vegetation, count as none), for scoring maps.
public struct ObservedDensity: Sendable {
  /// Per period, per cell; NaN where the inventory has no data.
  public let values: [[Float]]

  public init(path: String, grid: RasterGrid, periods: Int) throws(RasterError) {
    let inventory = try RasterDataset(path: path)
    guard inventory.grid.width == grid.width, inventory.grid.height == grid.height,
      inventory.bandCount == periods
    else {
      throw RasterError(
        path: path,
        message: "expected \(periods) bands of \(grid.width) × \(grid.height) cells, found "
          + "\(inventory.bandCount) bands of \(inventory.grid.width) × \(inventory.grid.height)")
    }
    var values: [[Float]] = []
    var previous = [Float](repeating: 0, count: grid.width * grid.height)
    for band in 0..<periods {
      let current = try inventory.read(band: band).values
      values.append(zip(current, previous).map { $0.isNaN ? .nan : max(0, $0 - $1) })
      previous = current
    }
    self.values = values
  }

  /// `ConfusionClass` codes (0 TP, 1 FP, 2 FN, 3 TN) of predictions at `threshold`; NaN
  /// where either side has no data.
  public func confusion(_ probability: [[Float]], threshold: Float) -> [[Float]] {
    zip(probability, values).map { predicted, observed in
      zip(predicted, observed).map { p, o in
        p.isNaN || o.isNaN
          ? .nan : ConfusionClass(predicted: p >= threshold, observed: o > 0).code
      }
    }
  }

  /// Predicted minus observed density per cell (NaN where either is missing).
  public func residuals(_ density: [[Float]]) -> [[Float]] {
    zip(density, values).map { predicted, observed in zip(predicted, observed).map { $0 - $1 } }
  }
}
