import Foundation

/// The empirical cumulated-rain–duration threshold E = α · D^β (E in mm, D in hours): the
/// seed's baseline, α = 7.7 and β = 0.39 (Italy's 5 % exceedance curve). An event above
/// the curve is predicted to trigger; its score for ROC analysis is E over the threshold
/// at its duration, so that ranking by score is ranking by exceedance.
public struct PowerLawThreshold: Equatable, Sendable, Codable {
  public var alpha = 7.7
  public var beta = 0.39

  public init(alpha: Double = 7.7, beta: Double = 0.39) {
    self.alpha = alpha
    self.beta = beta
  }

  /// The threshold total (mm) for an event of `hours`.
  public func threshold(hours: Double) -> Double { alpha * pow(hours, beta) }

  /// E / threshold(D): at least 1 above the curve.
  public func score(_ event: RainfallEvent) -> Double {
    event.total / threshold(hours: Double(event.durationHours))
  }
}
