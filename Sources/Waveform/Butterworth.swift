#if canImport(Glibc)
  import Glibc
#endif

/// A digital low-pass Butterworth filter and its zero-phase application, as the paper's
/// 0.5 Hz sensitivity variant made it: `scipy.signal.butter(order, cutoff, fs=sampleRate)`
/// then `scipy.signal.filtfilt(b, a, x)` with its default arguments. Designing the same
/// transfer function in the same (b, a) form, and padding and initialising the passes as
/// filtfilt does, reproduces scipy's output to rounding rather than only in spirit: the edges
/// of a record (where the PGV of a near site may sit) depend on those details.
public struct ButterworthLowPass: Equatable, Sendable {
  public let order: Int
  /// The −3 dB frequency in Hz.
  public let cutoff: Double
  public let sampleRate: Double
  /// b, then a with a[0] = 1, in descending powers of z⁻¹ (scipy's (b, a)).
  public let numerator: [Double]
  public let denominator: [Double]

  /// The design of scipy.signal.iirfilter: the analogue prototype's poles
  /// −exp(iπm / 2N), m = −N+1, −N+3, …, N−1, scaled to the pre-warped cutoff
  /// 4·tan(π·cutoff / sampleRate) (so that the digital filter is −3 dB exactly at the
  /// cutoff), mapped by the bilinear transform z = (4 + s) / (4 − s), with the N zeros of the
  /// low-pass at z = −1 and the gain that keeps the analogue gain at DC. The polynomials are
  /// expanded root by root in scipy's order, so the coefficients agree to the last bits.
  public init(order: Int, cutoff: Double, sampleRate: Double) {
    precondition(order >= 1, "a Butterworth filter needs order ≥ 1, not \(order)")
    precondition(
      cutoff > 0 && cutoff < sampleRate / 2,
      "the cutoff \(cutoff) Hz must lie between 0 and the Nyquist frequency \(sampleRate / 2) Hz")
    self.order = order
    self.cutoff = cutoff
    self.sampleRate = sampleRate
    let warped = 4 * tan(Double.pi * cutoff / sampleRate)
    var poles: [(re: Double, im: Double)] = []
    var gainDenominator = (re: 1.0, im: 0.0)
    for m in stride(from: -order + 1, through: order - 1, by: 2) {
      let angle = Double.pi * Double(m) / Double(2 * order)
      let analogue = (re: -cos(angle) * warped, im: -sin(angle) * warped)
      // (4 + s) / (4 − s)
      let (nr, ni) = (4 + analogue.re, analogue.im)
      let (dr, di) = (4 - analogue.re, -analogue.im)
      let norm = dr * dr + di * di
      poles.append(((nr * dr + ni * di) / norm, (ni * dr - nr * di) / norm))
      gainDenominator = (
        gainDenominator.re * dr - gainDenominator.im * di,
        gainDenominator.re * di + gainDenominator.im * dr
      )
    }
    // k = warped^N / ∏(4 − pᵢ); the product is real because the poles come in conjugate
    // pairs (and one real pole for odd N).
    let gain = pow(warped, Double(order)) / gainDenominator.re
    var b = [1.0]
    for _ in 0..<order { b = zip(b + [0], [0] + b).map { $0 + $1 } }
    numerator = b.map { $0 * gain }
    var a: [(re: Double, im: Double)] = [(1, 0)]
    for pole in poles {
      var next = a + [(0, 0)]
      for j in 1...a.count {
        next[j].re -= pole.re * a[j - 1].re - pole.im * a[j - 1].im
        next[j].im -= pole.re * a[j - 1].im + pole.im * a[j - 1].re
      }
      a = next
    }
    denominator = a.map(\.re)
  }

  /// Samples of odd extension on each side: filtfilt's default padlen, 3·max(len(a), len(b)).
  public var padding: Int { 3 * (order + 1) }

  /// The zero-phase filtered `signal`; it must be longer than `padding`.
  public func filtfilt(_ signal: [Float]) -> [Float] {
    var output = [Float](repeating: 0, count: signal.count)
    var scratch = [Double](repeating: 0, count: signal.count + 2 * padding)
    signal.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { result in
        scratch.withUnsafeMutableBufferPointer { work in
          filtfilt(
            input.baseAddress!, stride: 1, count: signal.count, into: result.baseAddress!,
            stride: 1, scratch: work)
        }
      }
    }
    return output
  }

  /// Filters `count` samples read every `inputStride` elements from `input` into `output`
  /// (every `outputStride` elements), so that one component of an interleaved [T, 3]
  /// record is filtered in place of a copy. `scratch` holds at least count + 2·padding
  /// Doubles; the passes run in it in double precision. Input and output may coincide.
  ///
  /// scipy's steps: odd extension by `padding` samples (2·x₀ − x[k], 2·x₋₁ − x[−1−k]);
  /// a forward pass of the direct form II transposed starting from the steady state of a
  /// unit step (lfilter_zi) times the first extended sample; a backward pass starting from
  /// the same steady state times the last forward output; the extension cut off.
  public func filtfilt(
    _ input: UnsafePointer<Float>, stride inputStride: Int, count: Int,
    into output: UnsafeMutablePointer<Float>, stride outputStride: Int,
    scratch: UnsafeMutableBufferPointer<Double>
  ) {
    let edge = padding
    precondition(
      count > edge,
      "filtfilt needs more than \(edge) samples (the padding of an order-\(order) filter), not \(count)"
    )
    let length = count + 2 * edge
    precondition(scratch.count >= length, "scratch of \(scratch.count) for \(length) samples")
    let work = scratch.baseAddress!
    let first = Double(input[0])
    let last = Double(input[(count - 1) * inputStride])
    for i in 0..<count { work[edge + i] = Double(input[i * inputStride]) }
    for k in 1...edge {
      work[edge - k] = 2 * first - work[edge + k]
      work[edge + count - 1 + k] = 2 * last - work[edge + count - 1 - k]
    }
    numerator.withUnsafeBufferPointer { b in
      denominator.withUnsafeBufferPointer { a in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * order) { buffers in
          let steady = buffers.baseAddress!
          let state = steady + order
          steadyState(b, a, into: steady)
          for k in 0..<order { state[k] = steady[k] * work[0] }
          for i in 0..<length { work[i] = step(work[i], b, a, state) }
          for k in 0..<order { state[k] = steady[k] * work[length - 1] }
          for i in stride(from: length - 1, through: 0, by: -1) {
            work[i] = step(work[i], b, a, state)
          }
        }
      }
    }
    for i in 0..<count { output[i * outputStride] = Float(work[edge + i]) }
  }

  /// One sample through the direct form II transposed (scipy.signal.lfilter).
  @inline(__always)
  private func step(
    _ x: Double, _ b: UnsafeBufferPointer<Double>, _ a: UnsafeBufferPointer<Double>,
    _ state: UnsafeMutablePointer<Double>
  ) -> Double {
    let y = b[0] * x + state[0]
    for k in 1..<order { state[k - 1] = b[k] * x + state[k] - a[k] * y }
    state[order - 1] = b[order] * x - a[order] * y
    return y
  }

  /// The state of the direct form II transposed after a unit step has settled: what
  /// scipy.signal.lfilter_zi solves (I − Aᵀ)·z = b[1:] − a[1:]·b[0] for, written out as
  /// the closed form its own comment gives (z₀ = Σ(b − a·b₀)[1:] / Σa, then
  /// zₖ = (1 + a₁ + … + aₖ)·z₀ − Σⱼ≤ₖ (bⱼ − aⱼ·b₀)), which avoids a linear solve.
  private func steadyState(
    _ b: UnsafeBufferPointer<Double>, _ a: UnsafeBufferPointer<Double>,
    into z: UnsafeMutablePointer<Double>
  ) {
    var (forced, sumA) = (0.0, 0.0)
    for k in 0...order {
      sumA += a[k]
      if k > 0 { forced += b[k] - a[k] * b[0] }
    }
    z[0] = forced / sumA
    var (partialA, partialForced) = (1.0, 0.0)
    for k in 1..<order {
      partialA += a[k]
      partialForced += b[k] - a[k] * b[0]
      z[k] = partialA * z[0] - partialForced
    }
  }
}
