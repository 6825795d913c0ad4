/// How a cell's prediction compares with the inventory. A confusion map stores the raw
/// value as a Float per cell, so it can go through the same grids and writers as any other
/// map (NaN where the cell was not assessed).
public enum ConfusionClass: Int, CaseIterable, Sendable {
  case truePositive
  case falsePositive
  case falseNegative
  case trueNegative

  public init(predicted: Bool, observed: Bool) {
    switch (predicted, observed) {
    case (true, true): self = .truePositive
    case (true, false): self = .falsePositive
    case (false, true): self = .falseNegative
    case (false, false): self = .trueNegative
    }
  }

  /// The cell value of this class in a confusion map.
  public var code: Float { Float(rawValue) }
}
