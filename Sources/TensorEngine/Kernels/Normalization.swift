#if canImport(Glibc)
  import Glibc
#endif

/// Batch normalisation over the channels (last axis) of x viewed as [M, C]. Per-channel
/// sums run in parallel over channel slices, per-element maps over rows.
enum BatchNormKernel {
  /// Training: normalises with the batch statistics, saves mean and 1/σ for backward, and
  /// returns the biased batch variance through `variance` (for the running averages).
  static func forwardTraining(
    x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    inverseStd: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
    rows m: Int, channels c: Int, epsilon: Float, relu: Bool
  ) {
    ThreadPool.shared.parallelFor(
      c, work: m * c,
      Statistics(
        x: x, mean: mean, variance: variance, inverseStd: inverseStd, m: m, c: c, epsilon: epsilon))
    normalize(
      x: x, y: y, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta, rows: m,
      channels: c,
      relu: relu)
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
  /// With `relu`, dy is first masked where the output y was clipped to 0. `sums` is scratch
  /// for 2·C floats.
  static func backward(
    x: UnsafePointer<Float>, y: UnsafePointer<Float>, relu: Bool, dy: UnsafePointer<Float>,
    accumulateDX: Bool, gamma: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?,
    dbeta: UnsafeMutablePointer<Float>?, sums: UnsafeMutablePointer<Float>, rows m: Int,
    channels c: Int, frozen: Bool, replicaRows: Int = 0,
    crossReplicaSum: ((UnsafeMutableBufferPointer<Float>) -> Void)? = nil
  ) {
    // sums[0..<c] = Σ dy, sums[c..<2c] = Σ dy·x̂.
    ThreadPool.shared.parallelFor(
      c, work: m * c,
      GradientSums(
        x: x, y: y, relu: relu, dy: dy, mean: mean, inverseStd: inverseStd, sums: sums, m: m, c: c))
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
        x: x, y: y, relu: relu, dy: dy, gamma: gamma, mean: mean, inverseStd: inverseStd,
        sums: sums, dx: dx, accumulate: accumulateDX, m: replicaRows > 0 ? replicaRows : m, c: c,
        frozen: frozen))
  }

  // The jobs below walk each row in blocks of sixteen channels held in vector lanes, with
  // a scalar loop for the remainder; per-channel accumulators live in the (L1-resident)
  // output arrays, loaded and stored as lanes.

  /// Mean, biased variance and 1/σ of a slice of channels, in one pass: sums of x − s and
  /// (x − s)² with s the channel's value in row 0, which keeps E[(x−s)²] − E[x−s]² from
  /// cancelling when the mean is large against the spread.
  struct Statistics: ParallelJob {
    let x: UnsafePointer<Float>
    let mean, variance, inverseStd: UnsafeMutablePointer<Float>
    let m, c: Int
    let epsilon: Float

    func run(_ channels: Range<Int>) {
      // Σ (x − s) accumulates in mean, Σ (x − s)² in variance.
      (mean + channels.lowerBound).update(repeating: 0, count: channels.count)
      (variance + channels.lowerBound).update(repeating: 0, count: channels.count)
      for row in 0..<m {
        let line = x + row * c
        var channel = channels.lowerBound
        while channel + 16 <= channels.upperBound {
          let centred = line.lanes(at: channel) - x.lanes(at: channel)
          mean.store(mean.lanes(at: channel) + centred, at: channel)
          variance.store(variance.lanes(at: channel) + centred * centred, at: channel)
          channel += 16
        }
        while channel < channels.upperBound {
          let centred = line[channel] - x[channel]
          mean[channel] += centred
          variance[channel] += centred * centred
          channel += 1
        }
      }
      let scale = 1 / Float(m)
      for channel in channels {
        let offset = mean[channel] * scale
        mean[channel] = x[channel] + offset
        variance[channel] = max(0, variance[channel] * scale - offset * offset)
        inverseStd[channel] = 1 / (variance[channel] + epsilon).squareRoot()
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

  /// Σ g and Σ g·x̂ for a slice of channels, g = dy masked where a fused ReLU clipped y.
  struct GradientSums: ParallelJob {
    let x, y: UnsafePointer<Float>
    let relu: Bool
    let dy, mean, inverseStd: UnsafePointer<Float>
    let sums: UnsafeMutablePointer<Float>
    let m, c: Int

    func run(_ channels: Range<Int>) {
      let sumG = sums
      let sumGXhat = sums + c
      (sumG + channels.lowerBound).update(repeating: 0, count: channels.count)
      (sumGXhat + channels.lowerBound).update(repeating: 0, count: channels.count)
      for row in 0..<m {
        let (input, output, gradient) = (x + row * c, y + row * c, dy + row * c)
        var channel = channels.lowerBound
        while channel + 16 <= channels.upperBound {
          var g = gradient.lanes(at: channel)
          if relu { g = g.replacing(with: 0, where: output.lanes(at: channel) .<= 0) }
          let xhat =
            (input.lanes(at: channel) - mean.lanes(at: channel)) * inverseStd.lanes(at: channel)
          sumG.store(sumG.lanes(at: channel) + g, at: channel)
          sumGXhat.store(sumGXhat.lanes(at: channel) + g * xhat, at: channel)
          channel += 16
        }
        while channel < channels.upperBound {
          let g = relu && output[channel] <= 0 ? 0 : gradient[channel]
          sumG[channel] += g
          sumGXhat[channel] += g * (input[channel] - mean[channel]) * inverseStd[channel]
          channel += 1
        }
      }
    }
  }

  /// dx for a block of rows: through the batch statistics, or (frozen) the affine map only.
  struct InputGradient: ParallelJob {
    let x, y: UnsafePointer<Float>
    let relu: Bool
    let dy, gamma, mean, inverseStd, sums: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    /// Add to dx (another op already contributed) or assign (the first contribution).
    let accumulate: Bool
    let m, c: Int
    let frozen: Bool

    func run(_ rows: Range<Int>) {
      let scale: Float = frozen ? 0 : 1 / Float(m)
      let (sumG, sumGXhat) = (sums, sums + c)
      for row in rows {
        let (input, output, gradient, target) = (
          x + row * c, y + row * c, dy + row * c, dx + row * c
        )
        var channel = 0
        while channel + 16 <= c {
          var g = gradient.lanes(at: channel)
          if relu { g = g.replacing(with: 0, where: output.lanes(at: channel) .<= 0) }
          let invStd = inverseStd.lanes(at: channel)
          let xhat = (input.lanes(at: channel) - mean.lanes(at: channel)) * invStd
          let value =
            gamma.lanes(at: channel) * invStd
            * (g - scale * sumG.lanes(at: channel) - xhat * scale * sumGXhat.lanes(at: channel))
          target.store(accumulate ? target.lanes(at: channel) + value : value, at: channel)
          channel += 16
        }
        while channel < c {
          let g = relu && output[channel] <= 0 ? 0 : gradient[channel]
          let xhat = (input[channel] - mean[channel]) * inverseStd[channel]
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
    var rows = m
    if let crossReplicaSum {
      // Synchronised batch norm: per-replica counts, sums and sums of squares, added over
      // the replicas, give the statistics of the whole global batch.
      ThreadPool.shared.parallelFor(
        c, work: m * c,
        BatchNormKernel.Statistics(
          x: x.data, mean: mean.data, variance: variance.data, inverseStd: inverseStd.data, m: m,
          c: c, epsilon: epsilon))
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
        epsilon: epsilon, relu: relu)
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
