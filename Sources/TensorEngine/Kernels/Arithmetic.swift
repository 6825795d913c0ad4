/// Binary element-wise ops. `b` may be smaller than `a` when its shape is a suffix of a's
/// (a bias per channel, a scale per feature): it then repeats over a's leading axes.
enum BinaryKernel {
  enum Operation { case add, multiply }

  /// y = a ∘ b (b repeating with `period`), in parallel over elements.
  static func forward(
    _ operation: Operation, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, count: Int, period: Int
  ) {
    if period == count, operation == .add {
      ThreadPool.shared.parallelFor(count, Sum(a: a, b: b, y: y))
      return
    }
    ThreadPool.shared.parallelFor(
      count, Forward(operation: operation, a: a, b: b, y: y, period: period))
  }

  /// Gradients of a binary op: da (+)= dy (add) or dy·b (multiply), in parallel; db
  /// likewise (accumulated serially when b is broadcast). Each destination is assigned on
  /// its first contribution of the step, added to otherwise.
  static func backward(
    _ operation: Operation, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    dy: UnsafePointer<Float>,
    da: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
    db: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?, count: Int, period: Int
  ) {
    if let da, let db, operation == .add, period == count {
      // A residual sum: both inputs get the same gradient, in one pass.
      ThreadPool.shared.parallelFor(
        count,
        GradientOfSum(
          dy: dy, da: da.pointer, accumulateA: da.accumulate, db: db.pointer,
          accumulateB: db.accumulate))
      return
    }
    if let da {
      ThreadPool.shared.parallelFor(
        count,
        GradientOfA(
          operation: operation, b: b, dy: dy, da: da.pointer, accumulate: da.accumulate,
          period: period))
    }
    guard let (db, accumulateB) = db else { return }
    if period == count {
      ThreadPool.shared.parallelFor(
        count,
        GradientOfA(
          operation: operation, b: a, dy: dy, da: db, accumulate: accumulateB, period: period)
      )
      return
    }
    if !accumulateB { db.update(repeating: 0, count: period) }
    for start in stride(from: 0, to: count, by: period) {
      for index in 0..<period {
        let element = start + index
        switch operation {
        case .add: db[index] += dy[element]
        case .multiply: db[index] += dy[element] * a[element]
        }
      }
    }
  }

  /// y = a + b of same-shape tensors, in vector lanes.
  struct Sum: ParallelJob {
    let a, b: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>

    func run(_ range: Range<Int>) {
      var index = range.lowerBound
      while index + 16 <= range.upperBound {
        y.store(a.lanes(at: index) + b.lanes(at: index), at: index)
        index += 16
      }
      while index < range.upperBound {
        y[index] = a[index] + b[index]
        index += 1
      }
    }
  }

  struct Forward: ParallelJob {
    let operation: Operation
    let a, b: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let period: Int

    func run(_ range: Range<Int>) {
      var phase = range.lowerBound % period
      for index in range {
        switch operation {
        case .add: y[index] = a[index] + b[phase]
        case .multiply: y[index] = a[index] * b[phase]
        }
        phase += 1
        if phase == period { phase = 0 }
      }
    }
  }

  /// da += dy and db += dy.
  struct GradientOfSum: ParallelJob {
    let dy: UnsafePointer<Float>
    let da: UnsafeMutablePointer<Float>
    let accumulateA: Bool
    let db: UnsafeMutablePointer<Float>
    let accumulateB: Bool

    func run(_ range: Range<Int>) {
      var index = range.lowerBound
      while index + 16 <= range.upperBound {
        let g = dy.lanes(at: index)
        da.store(accumulateA ? da.lanes(at: index) + g : g, at: index)
        db.store(accumulateB ? db.lanes(at: index) + g : g, at: index)
        index += 16
      }
      while index < range.upperBound {
        let g = dy[index]
        da[index] = (accumulateA ? da[index] : 0) + g
        db[index] = (accumulateB ? db[index] : 0) + g
        index += 1
      }
    }
  }

  /// da += dy (add) or dy·b (multiply); with a and b swapped, the same-shape db.
  struct GradientOfA: ParallelJob {
    let operation: Operation
    let b, dy: UnsafePointer<Float>
    let da: UnsafeMutablePointer<Float>
    let accumulate: Bool
    let period: Int

    func run(_ range: Range<Int>) {
      var phase = range.lowerBound % period
      for index in range {
        let previous = accumulate ? da[index] : 0
        switch operation {
        case .add: da[index] = previous + dy[index]
        case .multiply: da[index] = previous + dy[index] * b[phase]
        }
        phase += 1
        if phase == period { phase = 0 }
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

  /// a + b, with b repeating over a's leading axes if its shape is a suffix of a's. (The
  /// residual sum of a ResNet block and its ReLU fuse into `batchNorm`.)
  public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let period = broadcastPeriod(a, b, "add")
    let y = output(a.shape, a, b)
    BinaryKernel.forward(.add, a: a.data, b: b.data, y: y.data, count: a.count, period: period)
    record(.binary(.add, a: a, b: b, y: y), producing: y)
    return y
  }

  /// a ∘ b, with b repeating over a's leading axes if its shape is a suffix of a's.
  public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    let period = broadcastPeriod(a, b, "multiply")
    let y = output(a.shape, a, b)
    BinaryKernel.forward(.multiply, a: a.data, b: b.data, y: y.data, count: a.count, period: period)
    record(.binary(.multiply, a: a, b: b, y: y), producing: y)
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
    record(.binary(.multiply, a: x, b: mask, y: y), producing: y)
    return y
  }
}
