/// Daily rain (mm) and, where known, soil moisture (m³/m³) at one site, day after day
/// from `first`: what the event rules read.
public struct DailySeries: Equatable, Sendable {
  public var first: Day
  public var rain: [Float]
  /// Same days as `rain`; nil when the study has no soil-moisture input.
  public var soilMoisture: [Float]?

  public init(first: Day, rain: [Float], soilMoisture: [Float]? = nil) {
    precondition(soilMoisture == nil || soilMoisture!.count == rain.count)
    self.first = first
    self.rain = rain
    self.soilMoisture = soilMoisture
  }

  /// The day after the last.
  public var end: Day { first + rain.count }

  public func contains(_ day: Day) -> Bool { day >= first && day < end }

  public func rain(on day: Day) -> Float { rain[day - first] }
}
