#if canImport(Glibc)
  import Glibc
#endif

/// xoshiro256** (Blackman & Vigna): fast, high-quality, seedable, and small enough to
/// store in a checkpoint, so that dropout masks and shuffles replay exactly on resume.
public struct RandomGenerator: RandomNumberGenerator, Equatable, Sendable {
  public var state: (UInt64, UInt64, UInt64, UInt64)

  /// Seeds the four state words with SplitMix64, as the authors recommend.
  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  public mutating func next() -> UInt64 {
    let result = rotate(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotate(state.3, 45)
    return result
  }

  /// Uniform in [0, 1) with 24 random bits.
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// Standard normal (Box–Muller).
  public mutating func nextNormal() -> Float {
    let u1 = Float(next() >> 40 | 1) * 0x1p-24
    let u2 = nextUniform()
    return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
  }

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public static func == (lhs: RandomGenerator, rhs: RandomGenerator) -> Bool {
    lhs.state == rhs.state
  }
}
