/// What the threshold search found (`thresholds.json`): per level, how many events and
/// sites reach it, and which never do.
public struct ThresholdSummary: Codable, Equatable, Sendable {
  public struct Level: Codable, Equatable, Sendable {
    public var level: Double
    public var eventsReaching: Int
    /// Rows of the event set (0-based, the order of events.csv) that never reach the
    /// level within 0…1.5 × their total.
    public var eventsNeverReaching: [Int]
    public var sitesReaching: Int
    /// Sites (indices of the event set's site locations) none of whose events reach it.
    public var sitesNeverReaching: [Int]
  }

  public var eventsSearched: Int
  public var sites: Int
  public var stepMM: Double
  public var ceiling: Double
  public var durationDays: [Double]
  public var levels: [Level]
  /// Sites whose mean threshold falls from one level to the next, which a mean over
  /// fewer events can do (see `SiteThreshold`).
  public var sitesWithFallingMeans: [Int]

  public init(
    search: ThresholdSearch, crossings: [ThresholdSearch.Crossing], sites: [SiteThreshold]
  ) {
    eventsSearched = crossings.count
    self.sites = sites.count
    stepMM = search.step
    ceiling = search.ceiling
    durationDays = [search.durationDays.lowerBound, search.durationDays.upperBound]
    levels = search.levels.indices.map { level in
      Level(
        level: search.levels[level],
        eventsReaching: crossings.count(where: { $0.totals[level] != nil }),
        eventsNeverReaching: crossings.filter { $0.totals[level] == nil }.map(\.row),
        sitesReaching: sites.count(where: { $0.reaching[level] > 0 }),
        sitesNeverReaching: sites.filter { $0.reaching[level] == 0 }.map(\.site))
    }
    sitesWithFallingMeans = sites.filter { site in
      let means = site.thresholds.compactMap { $0 }
      return zip(means, means.dropFirst()).contains { $0 > $1 }
    }.map(\.site)
  }
}
