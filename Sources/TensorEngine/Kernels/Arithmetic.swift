/// Binary element-wise ops. `b` may be smaller than `a` when its shape is a suffix of a's
/// (a bias per channel, a scale per feature): it then repeats over a's leading axes.
enum BinaryKernel {
  static func add(
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
    period: Int
  ) {
    for start in stride(from: 0, to: count, by: period) {
      for index in 0..<period { y[start + index] = a[start + index] + b[index] }
    }
  }

  static func multiply(
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
    period: Int
  ) {
    for start in stride(from: 0, to: count, by: period) {
      for index in 0..<period { y[start + index] = a[start + index] * b[index] }
    }
  }

  /// da += dy; db += Σ over repeats of dy.
  static func addBackward(
    dy: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
    count: Int, period: Int
  ) {
    if let da { for index in 0..<count { da[index] += dy[index] } }
    if let db {
      for start in stride(from: 0, to: count, by: period) {
        for index in 0..<period { db[index] += dy[start + index] }
      }
    }
  }

  /// da += dy·b; db += Σ over repeats of dy·a.
  static func multiplyBackward(
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, count: Int, period: Int
  ) {
    for start in stride(from: 0, to: count, by: period) {
      for index in 0..<period {
        da?[start + index] += dy[start + index] * b[index]
        db?[index] += dy[start + index] * a[start + index]
      }
    }
  }
}

/// Dropout: y = x·mask, where mask is 0 with probability p and 1/(1 − p) otherwise, so the
/// expected activation is unchanged (inverted dropout).
enum DropoutKernel {
  static func forward(
    x: UnsafePointer<Float>, mask: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
    count: Int, rate: Float, random: inout RandomGenerator
  ) {
    let keep = 1 / (1 - rate)
    for index in 0..<count {
      mask[index] = random.nextUniform() < rate ? 0 : keep
      y[index] = x[index] * mask[index]
    }
  }
}

extension Tape {
  /// Checks that `b` is `a`'s shape or a suffix of it, and returns the repeat period.
  private func broadcastPeriod(_ a: Tensor, _ b: Tensor, _ name: String) -> Int {
    precondition(b.shape.rank <= a.shape.rank, "\(name): \(a.shape) and \(b.shape)")
    for axis in 0..<b.shape.rank {
      precondition(
        b.shape[b.shape.rank - 1 - axis] == a.shape[a.shape.rank - 1 - axis],
        "\(name): \(b.shape) does not broadcast to \(a.shape)")
    }
    return b.count
  }

  /// a + b, with b repeating over a's leading axes if its shape is a suffix of a's.
  public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let period = broadcastPeriod(a, b, "add")
    let y = output(a.shape, a, b)
    BinaryKernel.add(a: a.data, b: b.data, y: y.data, count: a.count, period: period)
    record(.add(a: a, b: b, y: y), producing: y)
    return y
  }

  /// a ∘ b, with b repeating over a's leading axes if its shape is a suffix of a's.
  public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    let period = broadcastPeriod(a, b, "multiply")
    let y = output(a.shape, a, b)
    BinaryKernel.multiply(a: a.data, b: b.data, y: y.data, count: a.count, period: period)
    record(.multiply(a: a, b: b, y: y), producing: y)
    return y
  }

  /// Inverted dropout with the tape's seeded generator; the identity when `rate` is 0.
  public func dropout(_ x: Tensor, rate: Float) -> Tensor {
    precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
    guard rate > 0 else { return x }
    let y = output(x.shape, x)
    let mask = tensor(x.shape)
    DropoutKernel.forward(
      x: x.data, mask: mask.data, y: y.data, count: x.count, rate: rate, random: &random)
    record(.multiply(a: x, b: mask, y: y), producing: y)
    return y
  }
}
