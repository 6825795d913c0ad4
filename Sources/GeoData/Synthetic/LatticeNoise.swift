#if canImport(Glibc)
  import Glibc
#endif

/// Deterministic smooth noise for synthetic landscapes: values on an integer lattice come
/// from hashing (seed, layer, octave, i, j) with SplitMix64, so any point can be evaluated
/// independently and a seed always gives the same field, in any order.
public struct LatticeNoise: Sendable {
  public let seed: UInt64
  /// Distinguishes independent fields drawn from one seed (elevation, shaking, rain, …).
  public let layer: UInt64

  /// The hash of (seed, layer), the first step of every lattice value.
  private let key: UInt64

  public init(seed: UInt64, layer: UInt64) {
    self.seed = seed
    self.layer = layer
    key = LatticeNoise.mix(seed ^ (layer &* 0x1000_0000_01B3))
  }

  @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [−1, 1) at lattice point (i, j) of `octave`.
  public func lattice(_ i: Int, _ j: Int, octave: Int) -> Double {
    lattice(i, j, octaveKey: octaveKey(octave))
  }

  /// The hash of (seed, layer, octave), shared by an octave's lattice values.
  @inline(__always) private func octaveKey(_ octave: Int) -> UInt64 {
    LatticeNoise.mix(key ^ UInt64(bitPattern: Int64(octave)))
  }

  @inline(__always) private func lattice(_ i: Int, _ j: Int, octaveKey: UInt64) -> Double {
    let h = LatticeNoise.mix(octaveKey ^ UInt64(bitPattern: Int64(i)))
    return Double(LatticeNoise.mix(h ^ UInt64(bitPattern: Int64(j)) &* 0x9E37_79B9) >> 11)
      * 0x1p-52 - 1
  }

  /// Value noise at (x, y) in lattice units: bilinear between lattice values with a
  /// smoothstep weight, in [−1, 1].
  public func value(_ x: Double, _ y: Double, octave: Int) -> Double {
    let (i, j) = (Int(floor(x)), Int(floor(y)))
    let (fx, fy) = (x - floor(x), y - floor(y))
    let (sx, sy) = (fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy))
    let key = octaveKey(octave)
    let top = lattice(i, j, octaveKey: key) * (1 - sx) + lattice(i + 1, j, octaveKey: key) * sx
    let bottom =
      lattice(i, j + 1, octaveKey: key) * (1 - sx) + lattice(i + 1, j + 1, octaveKey: key) * sx
    return top * (1 - sy) + bottom * sy
  }

  /// Fractional Brownian motion: `octaves` layers of value noise, each at twice the
  /// frequency and `persistence` times the amplitude of the last; (x, y) in metres,
  /// `wavelength` the largest feature size. Roughly in [−1, 1].
  public func fractal(
    _ x: Double, _ y: Double, wavelength: Double, octaves: Int, persistence: Double = 0.5
  )
    -> Double
  {
    var (total, amplitude, norm, frequency) = (0.0, 1.0, 0.0, 1 / wavelength)
    for octave in 0..<octaves {
      total += amplitude * value(x * frequency, y * frequency, octave: octave)
      norm += amplitude
      amplitude *= persistence
      frequency *= 2
    }
    return total / norm
  }

  /// A standard normal deviate for (i, j), from two lattice values (Box–Muller).
  public func gaussian(_ i: Int, _ j: Int, octave: Int = 99) -> Double {
    let u1 = (lattice(i, j, octave: octave) + 1) / 2
    let u2 = (lattice(i, j, octave: octave + 1) + 1) / 2
    return (-2 * log(max(u1, 1e-300))).squareRoot() * cos(2 * .pi * u2)
  }
}
