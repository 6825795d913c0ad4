/// Where a step's time goes, per kind of op, forward and backward. Enabled with
/// `Tape.profile`; each forward op is charged the time since the previous recorded op (ops
/// run one after another), each backward op its own backward call.
public struct Profile: Sendable {
  public enum Kind: Int, CaseIterable, Sendable {
    case linear, conv2d, pooling, normalization, elementwise, softmax, arithmetic, shape, attention,
      loss
  }

  public private(set) var forwardSeconds = [Double](repeating: 0, count: Kind.allCases.count)
  public private(set) var backwardSeconds = [Double](repeating: 0, count: Kind.allCases.count)

  public init() {}

  mutating func add(_ kind: Kind, forward seconds: Double) {
    forwardSeconds[kind.rawValue] += seconds
  }
  mutating func add(_ kind: Kind, backward seconds: Double) {
    backwardSeconds[kind.rawValue] += seconds
  }

  public mutating func reset() {
    for index in forwardSeconds.indices {
      forwardSeconds[index] = 0
      backwardSeconds[index] = 0
    }
  }
}

extension Operation {
  var profileKind: Profile.Kind {
    switch self {
    case .linear: return .linear
    case .conv2d: return .conv2d
    case .maxPool, .averagePool: return .pooling
    case .batchNorm, .layerNorm: return .normalization
    case .elementwise: return .elementwise
    case .softmax: return .softmax
    case .binary: return .arithmetic
    case .reshape, .reduce, .concat: return .shape
    case .attention: return .attention
    case .loss: return .loss
    }
  }
}

extension Duration {
  /// The duration in seconds, as a Double.
  public var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) * 1e-18
  }
}
