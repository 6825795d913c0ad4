#if canImport(Glibc)
  import Glibc
#endif

/// Batch normalisation over the channels (last axis) of x viewed as [M, C]. Per-channel
/// sums run over blocks of rows in parallel, each block streaming whole rows (a thread
/// that walked a slice of every row would drag its neighbours' cache lines in too), and
/// the blocks' partial sums add up in block order; per-element maps run over rows.
enum BatchNormKernel {
  /// Row blocks of the per-channel sums, set by the shape alone so that a result never
  /// depends on the thread count: enough for every thread, each at least 64 Ki elements.
  static func sumBlocks(rows m: Int, channels c: Int) -> Int {
    max(1, min(64, m, (m * c) >> 16))
  }

  /// Floats of scratch the sums of an [M, C] batch norm need.
  static func scratchCount(rows m: Int, channels c: Int) -> Int {
    2 * c * (sumBlocks(rows: m, channels: c) + 1)
  }

  /// Training: normalises with the batch statistics, saves mean and 1/σ for backward, and
  /// returns the biased batch variance through `variance` (for the running averages).
  static func forwardTraining(
    x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    inverseStd: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
    rows m: Int, channels c: Int, epsilon: Float, relu: Bool,
    scratch: UnsafeMutablePointer<Float>
  ) {
    statistics(
      x: x, mean: mean, variance: variance, inverseStd: inverseStd, rows: m, channels: c,
      epsilon: epsilon, scratch: scratch)
    normalize(
      x: x, y: y, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta, rows: m,
      channels: c, relu: relu)
  }

  /// Mean, biased variance and 1/σ per channel, in one pass: sums of x − s and (x − s)²
  /// with s the channel's value in row 0, which keeps E[(x−s)²] − E[x−s]² from cancelling
  /// when the mean is large against the spread.
  static func statistics(
    x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
    variance: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
    rows m: Int, channels c: Int, epsilon: Float, scratch: UnsafeMutablePointer<Float>
  ) {
    let blocks = sumBlocks(rows: m, channels: c)
    ThreadPool.shared.parallelFor(
      blocks, work: m * c, MomentSums(x: x, partial: scratch, m: m, c: c, blocks: blocks))
    // Σ (x − s) into mean, Σ (x − s)² into variance.
    addBlocks(scratch, blocks: blocks, channels: c, into: mean, variance)
    let scale = 1 / Float(m)
    for channel in 0..<c {
      let offset = mean[channel] * scale
      mean[channel] = x[channel] + offset
      variance[channel] = max(0, variance[channel] * scale - offset * offset)
      inverseStd[channel] = 1 / (variance[channel] + epsilon).squareRoot()
    }
  }

  /// y = γ·(x − μ)·(1/σ) + β, then max(y, 0) when `relu` (the fused BN → ReLU of ResNets).
  static func normalize(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, mean: UnsafePointer<Float>,
    inverseStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    rows m: Int, channels c: Int, relu: Bool
  ) {
    ThreadPool.shared.parallelFor(
      m, work: m * c,
      Normalize(
        x: x, y: y, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta, c: c, relu: relu))
  }

  /// Gradients of batch norm: through the batch statistics (training), or through the
  /// per-channel affine map alone when the statistics were fixed (`frozen`, inference).
  /// With `relu`, dy is first masked where the output was clipped to 0, found again from x
  /// by the forward pass's own expression (so the output need not be read back). `scratch`
  /// holds `scratchCount` floats.
  static func backward(
    x: UnsafePointer<Float>, relu: Bool, dy: UnsafePointer<Float>,
    accumulateDX: Bool, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?,
    dbeta: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>, rows m: Int,
    channels c: Int, frozen: Bool, replicaRows: Int = 0,
    crossReplicaSum: ((UnsafeMutableBufferPointer<Float>) -> Void)? = nil
  ) {
    let blocks = sumBlocks(rows: m, channels: c)
    let map = AffineMap(gamma: gamma, beta: beta, mean: mean, inverseStd: inverseStd, relu: relu)
    let sums = scratch + 2 * c * blocks
    ThreadPool.shared.parallelFor(
      blocks, work: m * c,
      GradientSums(x: x, dy: dy, map: map, partial: scratch, m: m, c: c, blocks: blocks))
    // sums[0..<c] = Σ g, sums[c..<2c] = Σ g·x̂.
    addBlocks(scratch, blocks: blocks, channels: c, into: sums, sums + c)
    // γ and β take this replica's sums (the replicas' parameter gradients are averaged
    // later); with synchronised statistics dx needs the sums over every replica's rows.
    if let dgamma { for channel in 0..<c { dgamma[channel] += sums[c + channel] } }
    if let dbeta { for channel in 0..<c { dbeta[channel] += sums[channel] } }
    guard let dx else { return }
    if let crossReplicaSum {
      crossReplicaSum(UnsafeMutableBufferPointer(start: sums, count: 2 * c))
    }
    ThreadPool.shared.parallelFor(
      m, work: m * c,
      InputGradient(
        x: x, dy: dy, map: map, sums: sums, dx: dx, accumulate: accumulateDX,
        m: replicaRows > 0 ? replicaRows : m, c: c, frozen: frozen))
  }

  /// first[ch] = Σ_b partial[b][0][ch], second[ch] = Σ_b partial[b][1][ch], in block order.
  static func addBlocks(
    _ partial: UnsafePointer<Float>, blocks: Int, channels c: Int,
    into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>
  ) {
    first.update(from: partial, count: c)
    second.update(from: partial + c, count: c)
    for block in 1..<max(1, blocks) {
      let part = partial + 2 * c * block
      for channel in 0..<c {
        first[channel] += part[channel]
        second[channel] += part[c + channel]
      }
    }
  }

  /// The rows of block `block` of `blocks`.
  @inline(__always)
  static func rows(ofBlock block: Int, _ blocks: Int, rows m: Int) -> Range<Int> {
    (m * block / blocks)..<(m * (block + 1) / blocks)
  }

  // The jobs below walk each row in blocks of sixteen channels held in vector lanes, with
  // a scalar loop for the remainder; per-channel accumulators live in (L1-resident)
  // arrays, loaded and stored as lanes.

  /// A block of rows' Σ (x − s) and Σ (x − s)², s = row 0, into its partial sums.
  struct MomentSums: ParallelJob {
    let x: UnsafePointer<Float>
    let partial: UnsafeMutablePointer<Float>
    let m, c, blocks: Int

    func run(_ range: Range<Int>) {
      for block in range {
        let first = partial + 2 * c * block
        let second = first + c
        first.update(repeating: 0, count: 2 * c)
        for row in rows(ofBlock: block, blocks, rows: m) {
          let line = x + row * c
          var channel = 0
          while channel + 16 <= c {
            let centred = line.lanes(at: channel) - x.lanes(at: channel)
            first.store(first.lanes(at: channel) + centred, at: channel)
            second.store(second.lanes(at: channel) + centred * centred, at: channel)
            channel += 16
          }
          while channel < c {
            let centred = line[channel] - x[channel]
            first[channel] += centred
            second[channel] += centred * centred
            channel += 1
          }
        }
      }
    }
  }

  struct Normalize: ParallelJob {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let mean, inverseStd, gamma, beta: UnsafePointer<Float>
    let c: Int
    let relu: Bool

    func run(_ rows: Range<Int>) {
      let floor: Float = relu ? 0 : -.infinity
      for row in rows {
        let input = x + row * c
        let out = y + row * c
        var channel = 0
        while channel + 16 <= c {
          let value =
            gamma.lanes(at: channel) * (input.lanes(at: channel) - mean.lanes(at: channel))
            * inverseStd.lanes(at: channel) + beta.lanes(at: channel)
          out.store(value.replacing(with: floor, where: value .< floor), at: channel)
          channel += 16
        }
        while channel < c {
          let value =
            gamma[channel] * (input[channel] - mean[channel]) * inverseStd[channel] + beta[channel]
          out[channel] = max(value, floor)
          channel += 1
        }
      }
    }
  }

  /// The forward map of one batch norm, for backward: x̂ and, with a fused ReLU, the
  /// gradient g = dy masked where the forward pass clipped its output, recomputed with
  /// `Normalize`'s expression so that the mask is exactly the forward one.
  struct AffineMap {
    let gamma, beta, mean, inverseStd: UnsafePointer<Float>
    let relu: Bool

    /// (g, x̂) on sixteen lanes at `channel` of a row.
    @inline(__always)
    func lanes(x input: UnsafePointer<Float>, dy gradient: UnsafePointer<Float>, at channel: Int)
      -> (Lanes, Lanes)
    {
      let centred = input.lanes(at: channel) - mean.lanes(at: channel)
      let invStd = inverseStd.lanes(at: channel)
      var g = gradient.lanes(at: channel)
      if relu {
        let value = gamma.lanes(at: channel) * centred * invStd + beta.lanes(at: channel)
        g = g.replacing(with: 0, where: value .<= 0)
      }
      return (g, centred * invStd)
    }

    /// (g, x̂) at `channel` of a row.
    @inline(__always)
    func scalar(x input: UnsafePointer<Float>, dy gradient: UnsafePointer<Float>, at channel: Int)
      -> (Float, Float)
    {
      let centred = input[channel] - mean[channel]
      let invStd = inverseStd[channel]
      var g = gradient[channel]
      if relu, max(gamma[channel] * centred * invStd + beta[channel], 0) <= 0 { g = 0 }
      return (g, centred * invStd)
    }
  }

  /// A block of rows' Σ g and Σ g·x̂ into its partial sums.
  struct GradientSums: ParallelJob {
    let x, dy: UnsafePointer<Float>
    let map: AffineMap
    let partial: UnsafeMutablePointer<Float>
    let m, c, blocks: Int

    func run(_ range: Range<Int>) {
      for block in range {
        let sumG = partial + 2 * c * block
        let sumGXhat = sumG + c
        sumG.update(repeating: 0, count: 2 * c)
        for row in rows(ofBlock: block, blocks, rows: m) {
          let (input, gradient) = (x + row * c, dy + row * c)
          var channel = 0
          while channel + 16 <= c {
            let (g, xhat) = map.lanes(x: input, dy: gradient, at: channel)
            sumG.store(sumG.lanes(at: channel) + g, at: channel)
            sumGXhat.store(sumGXhat.lanes(at: channel) + g * xhat, at: channel)
            channel += 16
          }
          while channel < c {
            let (g, xhat) = map.scalar(x: input, dy: gradient, at: channel)
            sumG[channel] += g
            sumGXhat[channel] += g * xhat
            channel += 1
          }
        }
      }
    }
  }

  /// dx for a block of rows: through the batch statistics, or (frozen) the affine map only.
  struct InputGradient: ParallelJob {
    let x, dy: UnsafePointer<Float>
    let map: AffineMap
    let sums: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    /// Add to dx (another op already contributed) or assign (the first contribution).
    let accumulate: Bool
    let m, c: Int
    let frozen: Bool

    func run(_ rows: Range<Int>) {
      let scale: Float = frozen ? 0 : 1 / Float(m)
      let (sumG, sumGXhat) = (sums, sums + c)
      let (gamma, inverseStd) = (map.gamma, map.inverseStd)
      for row in rows {
        let (input, gradient, target) = (x + row * c, dy + row * c, dx + row * c)
        var channel = 0
        while channel + 16 <= c {
          let (g, xhat) = map.lanes(x: input, dy: gradient, at: channel)
          let value =
            gamma.lanes(at: channel) * inverseStd.lanes(at: channel)
            * (g - scale * sumG.lanes(at: channel) - xhat * scale * sumGXhat.lanes(at: channel))
          target.store(accumulate ? target.lanes(at: channel) + value : value, at: channel)
          channel += 16
        }
        while channel < c {
          let (g, xhat) = map.scalar(x: input, dy: gradient, at: channel)
          let value =
            gamma[channel] * inverseStd[channel]
            * (g - scale * sumG[channel] - xhat * scale * sumGXhat[channel])
          target[channel] = accumulate ? target[channel] + value : value
          channel += 1
        }
      }
    }
  }
}

/// Layer normalisation over the last axis of x viewed as [R, D].
enum LayerNormKernel {
  static func forward(
    x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    inverseStd: UnsafeMutablePointer<Float>, rows r: Int, features d: Int, epsilon: Float
  ) {
    for row in 0..<r {
      let input = x + row * d
      var sum: Float = 0
      for index in 0..<d { sum += input[index] }
      let mu = sum / Float(d)
      var squares: Float = 0
      for index in 0..<d { squares += (input[index] - mu) * (input[index] - mu) }
      let invStd = 1 / (squares / Float(d) + epsilon).squareRoot()
      mean[row] = mu
      inverseStd[row] = invStd
      let out = y + row * d
      for index in 0..<d { out[index] = gamma[index] * (input[index] - mu) * invStd + beta[index] }
    }
  }

  static func backward(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?,
    dbeta: UnsafeMutablePointer<Float>?, rows r: Int, features d: Int
  ) {
    for row in 0..<r {
      let input = x + row * d
      let gradient = dy + row * d
      let mu = mean[row]
      let invStd = inverseStd[row]
      var sumG: Float = 0
      var sumGXhat: Float = 0
      for index in 0..<d {
        let xhat = (input[index] - mu) * invStd
        let g = gradient[index] * gamma[index]
        sumG += g
        sumGXhat += g * xhat
        dgamma?[index] += gradient[index] * xhat
        dbeta?[index] += gradient[index]
      }
      guard let dx else { continue }
      let target = dx + row * d
      let scale = 1 / Float(d)
      for index in 0..<d {
        let xhat = (input[index] - mu) * invStd
        target[index] +=
          invStd * (gradient[index] * gamma[index] - scale * sumG - xhat * scale * sumGXhat)
      }
    }
  }
}

extension Tape {
  /// Batch normalisation with batch statistics (training), followed by ReLU when `relu`
  /// (fused: one pass, one tensor). Updates the running averages:
  /// running = momentum·running + (1 − momentum)·batch, with the unbiased batch variance.
  public func batchNorm(
    _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
    momentum: Float, epsilon: Float, relu: Bool = false
  ) -> Tensor {
    let c = x.shape.last
    let m = x.count / c
    precondition(gamma.count == c && beta.count == c, "batchNorm: x \(x.shape), γ \(gamma.shape)")
    let y = output(x.shape, x, gamma, beta)
    let mean = tensor(Shape(c))
    let inverseStd = tensor(Shape(c))
    let variance = tensor(Shape(c))
    let scratch = tensor(Shape(BatchNormKernel.scratchCount(rows: m, channels: c))).data
    var rows = m
    if let crossReplicaSum {
      // Synchronised batch norm: per-replica counts, sums and sums of squares, added over
      // the replicas, give the statistics of the whole global batch.
      BatchNormKernel.statistics(
        x: x.data, mean: mean.data, variance: variance.data, inverseStd: inverseStd.data,
        rows: m, channels: c, epsilon: epsilon, scratch: scratch)
      let moments = tensor(Shape(2 * c + 1))
      for channel in 0..<c {
        moments[channel] = Float(m) * mean[channel]
        moments[c + channel] = Float(m) * (variance[channel] + mean[channel] * mean[channel])
      }
      moments[2 * c] = Float(m)
      crossReplicaSum(moments.buffer)
      rows = Int(moments[2 * c].rounded())
      for channel in 0..<c {
        mean[channel] = moments[channel] / Float(rows)
        variance[channel] = max(
          0, moments[c + channel] / Float(rows) - mean[channel] * mean[channel])
        inverseStd[channel] = 1 / (variance[channel] + epsilon).squareRoot()
      }
      BatchNormKernel.normalize(
        x: x.data, y: y.data, mean: mean.data, inverseStd: inverseStd.data, gamma: gamma.data,
        beta: beta.data, rows: m, channels: c, relu: relu)
    } else {
      BatchNormKernel.forwardTraining(
        x: x.data, gamma: gamma.data, beta: beta.data, y: y.data, mean: mean.data,
        inverseStd: inverseStd.data, variance: variance.data, rows: m, channels: c,
        epsilon: epsilon, relu: relu, scratch: scratch)
    }
    let unbias = rows > 1 ? Float(rows) / Float(rows - 1) : 1
    for channel in 0..<c {
      runningMean[channel] = momentum * runningMean[channel] + (1 - momentum) * mean[channel]
      runningVariance[channel] =
        momentum * runningVariance[channel] + (1 - momentum) * variance[channel] * unbias
    }
    record(
      .batchNorm(
        x: x, gamma: gamma, beta: beta, y: y, mean: mean, inverseStd: inverseStd, frozen: false,
        relu: relu, replicaRows: crossReplicaSum == nil ? 0 : rows),
      producing: y)
    return y
  }

  /// Batch normalisation with fixed statistics (inference, or frozen layers), followed by
  /// ReLU when `relu`; differentiable with respect to x, γ and β.
  public func batchNormInference(
    _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
    epsilon: Float, relu: Bool = false
  ) -> Tensor {
    let c = x.shape.last
    let y = output(x.shape, x, gamma, beta)
    let inverseStd = tensor(Shape(c))
    for channel in 0..<c {
      inverseStd[channel] = 1 / (runningVariance[channel] + epsilon).squareRoot()
    }
    BatchNormKernel.normalize(
      x: x.data, y: y.data, mean: runningMean.data, inverseStd: inverseStd.data, gamma: gamma.data,
      beta: beta.data, rows: x.count / c, channels: c, relu: relu)
    record(
      .batchNorm(
        x: x, gamma: gamma, beta: beta, y: y, mean: runningMean, inverseStd: inverseStd,
        frozen: true, relu: relu, replicaRows: 0),
      producing: y)
    return y
  }

  /// Layer normalisation over the last axis.
  public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float) -> Tensor {
    let d = x.shape.last
    let r = x.count / d
    precondition(gamma.count == d && beta.count == d, "layerNorm: x \(x.shape), γ \(gamma.shape)")
    let y = output(x.shape, x, gamma, beta)
    let mean = tensor(Shape(r))
    let inverseStd = tensor(Shape(r))
    LayerNormKernel.forward(
      x: x.data, gamma: gamma.data, beta: beta.data, y: y.data, mean: mean.data,
      inverseStd: inverseStd.data, rows: r, features: d, epsilon: epsilon)
    record(
      .layerNorm(x: x, gamma: gamma, beta: beta, y: y, mean: mean, inverseStd: inverseStd),
      producing: y)
    return y
  }
}
