import Configuration

/// Asynchronous successive halving (ASHA, Li et al. 2020), stopping variant: rungs sit at
/// epochs r, rη, rη², … of the metric's stage. A trial reaching a rung records its best
/// metric so far there and goes on only if it ranks within the top ⌊n/η⌋ (at least the
/// first) of the n values the rung holds, its own included. No trial waits for others:
/// early trials are judged against fewer peers, as in ASHA.
public struct SuccessiveHalving: Sendable {
  public let minEpochs: Int
  public let reductionFactor: Int
  public let higherIsBetter: Bool
  /// Rung epoch → recorded values.
  private(set) var rungs: [Int: [Double]] = [:]

  public init(_ config: SweepConfig.SuccessiveHalving, higherIsBetter: Bool) {
    minEpochs = config.minEpochs
    reductionFactor = config.reductionFactor
    self.higherIsBetter = higherIsBetter
  }

  /// Whether `epoch` is a rung.
  public func isRung(_ epoch: Int) -> Bool {
    var rung = minEpochs
    while rung < epoch { rung *= reductionFactor }
    return rung == epoch
  }

  /// Records a trial's best value after `epoch` and says whether it goes on. Epochs that
  /// are not rungs always go on.
  public mutating func record(epoch: Int, value: Double) -> Bool {
    guard isRung(epoch) else { return true }
    // An undefined metric (an AUC with one class) ranks last.
    let value = value.isNaN ? (higherIsBetter ? -.infinity : .infinity) : value
    rungs[epoch, default: []].append(value)
    let recorded = rungs[epoch]!
    let better = recorded.filter { higherIsBetter ? $0 > value : $0 < value }.count
    return better < max(1, recorded.count / reductionFactor)
  }
}
