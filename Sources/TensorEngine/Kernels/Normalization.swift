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

  /// Mean, biased variance and 1/σ per channel, in one pass: sums of x − s and (x − s)²
  /// with s the channel's value in row 0, which keeps E[(x−s)²] − E[x−s]² from cancelling
  /// when the mean is large against the spread.
  static func statistics(
    x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
    variance: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>,
    rows m: Int, channels c: Int, epsilon: Float, scratch: UnsafeMutablePointer<Float>
  ) {
    // Σ (x − s) into mean, Σ (x − s)² into variance.
    sumOverBlocks(
      MomentSums(x: x, c: c), rows: m, channels: c, scratch: scratch, into: mean, variance)
    let scale = 1 / Float(m)
    for channel in 0..<c {
      let offset = mean[channel] * scale
      mean[channel] = x[channel] + offset
      variance[channel] = max(0, variance[channel] * scale - offset * offset)
      inverseStd[channel] = 1 / (variance[channel] + epsilon).squareRoot()
    }
  }

  /// y = `map`(x) row by row.
  static func normalize(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, map: ElementMap, rows m: Int,
    channels c: Int
  ) {
    ThreadPool.shared.parallelFor(m, work: m * c, Normalize(x: x, y: y, map: map, c: c))
  }

  /// Gradients of batch norm: through the batch statistics (training), or through the
  /// per-channel affine map alone when the statistics were fixed (`frozen`, inference).
  /// With a ReLU, dy is first masked where the output was clipped to 0; the residual's
  /// gradient is that masked dy, written to `dResidual`. `scratch` holds `scratchCount`
  /// floats.
  static func backward(
    x: UnsafePointer<Float>, dy: UnsafePointer<Float>, map: ElementMap,
    dx: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
    dResidual: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
    dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?,
    scratch: UnsafeMutablePointer<Float>, rows m: Int, channels c: Int, frozen: Bool,
    replicaRows: Int = 0, crossReplicaSum: ((UnsafeMutableBufferPointer<Float>) -> Void)? = nil
  ) {
    // sums[0..<c] = Σ g, sums[c..<2c] = Σ g·x̂, after the blocks' partial sums.
    let sums = scratch + 2 * c * sumBlocks(rows: m, channels: c)
    sumOverBlocks(
      GradientSums(x: x, dy: dy, map: map, c: c), rows: m, channels: c, scratch: scratch,
      into: sums, sums + c)
    // γ and β take this replica's sums (the replicas' parameter gradients are averaged
    // later); with synchronised statistics dx needs the sums over every replica's rows.
    if let dgamma { for channel in 0..<c { dgamma[channel] += sums[c + channel] } }
    if let dbeta { for channel in 0..<c { dbeta[channel] += sums[channel] } }
    guard dx != nil || dResidual != nil else { return }
    if dx != nil, let crossReplicaSum {
      crossReplicaSum(UnsafeMutableBufferPointer(start: sums, count: 2 * c))
    }
    ThreadPool.shared.parallelFor(
      m, work: m * c,
      InputGradient(
        x: x, dy: dy, map: map, sums: sums, dx: dx, dResidual: dResidual,
        m: replicaRows > 0 ? replicaRows : m, c: c, frozen: frozen))
  }

  /// Two per-channel sums over all rows: each row block's partial sums in parallel into
  /// `scratch`, then added in block order into `first` and `second`.
  static func sumOverBlocks(
    _ sums: some RowSums, rows m: Int, channels c: Int, scratch: UnsafeMutablePointer<Float>,
    into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>
  ) {
    let blocks = sumBlocks(rows: m, channels: c)
    ThreadPool.shared.parallelFor(
      blocks, work: m * c, BlockSums(sums: sums, partial: scratch, m: m, c: c, blocks: blocks))
    addBlocks(scratch, blocks: blocks, channels: c, into: first, second)
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

  /// The per-element map of one batch norm, y = act(γ·(x − μ)·(1/σ) + β + r), act a ReLU
  /// or nothing, r a residual added first (a ResNet block's sum, fused) or nothing. One
  /// expression serves forward and backward, so that backward finds the ReLU mask again,
  /// bit for bit the forward one, instead of reading the output back.
  struct ElementMap {
    let gamma, beta, mean, inverseStd: UnsafePointer<Float>
    /// [M, C], as x.
    let residual: UnsafePointer<Float>?
    let relu: Bool

    /// The pre-activation value and x̂ on sixteen lanes at `offset` (row·C + channel).
    @inline(__always)
    func lanes(_ x: UnsafePointer<Float>, at offset: Int, channel: Int) -> (
      value: Lanes, xhat: Lanes
    ) {
      let invStd = inverseStd.lanes(at: channel)
      let centred = x.lanes(at: offset) - mean.lanes(at: channel)
      var value = gamma.lanes(at: channel) * centred * invStd + beta.lanes(at: channel)
      if let residual { value += residual.lanes(at: offset) }
      return (value, centred * invStd)
    }

    /// The same for one element.
    @inline(__always)
    func scalar(_ x: UnsafePointer<Float>, at offset: Int, channel: Int) -> (
      value: Float, xhat: Float
    ) {
      let invStd = inverseStd[channel]
      let centred = x[offset] - mean[channel]
      var value = gamma[channel] * centred * invStd + beta[channel]
      if let residual { value += residual[offset] }
      return (value, centred * invStd)
    }

    /// dy masked where the forward ReLU clipped the output, and x̂, on sixteen lanes.
    @inline(__always)
    func gradientLanes(
      _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, at offset: Int, channel: Int
    ) -> (g: Lanes, xhat: Lanes) {
      let (value, xhat) = lanes(x, at: offset, channel: channel)
      let g = dy.lanes(at: offset)
      return (relu ? g.replacing(with: 0, where: value .<= 0) : g, xhat)
    }

    /// The same for one element.
    @inline(__always)
    func gradientScalar(
      _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, at offset: Int, channel: Int
    ) -> (g: Float, xhat: Float) {
      let (value, xhat) = scalar(x, at: offset, channel: channel)
      return (relu && value <= 0 ? 0 : dy[offset], xhat)
    }
  }

  // The jobs below walk each row in blocks of sixteen channels held in vector lanes, with
  // a scalar loop for the remainder; per-channel accumulators live in (L1-resident)
  // arrays, loaded and stored as lanes.

  /// A row's contributions to two per-channel sums.
  protocol RowSums {
    func add(
      row: Int, into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>)
  }

  /// The sums of each block of rows in a range of blocks, into the block's partial sums
  /// (first and second, C floats each, at 2·C·block).
  struct BlockSums<Sums: RowSums>: ParallelJob {
    let sums: Sums
    let partial: UnsafeMutablePointer<Float>
    let m, c, blocks: Int

    func run(_ range: Range<Int>) {
      for block in range {
        let first = partial + 2 * c * block
        first.update(repeating: 0, count: 2 * c)
        for row in rows(ofBlock: block, blocks, rows: m) {
          sums.add(row: row, into: first, first + c)
        }
      }
    }
  }

  /// Σ (x − s) and Σ (x − s)², s = row 0.
  struct MomentSums: RowSums {
    let x: UnsafePointer<Float>
    let c: Int

    @inline(__always)
    func add(
      row: Int, into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>
    ) {
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

  struct Normalize: ParallelJob {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let map: ElementMap
    let c: Int

    func run(_ rows: Range<Int>) {
      for row in rows {
        var channel = 0
        while channel + 16 <= c {
          let value = map.lanes(x, at: row * c + channel, channel: channel).value
          y.store(
            map.relu ? value.replacing(with: 0, where: value .< 0) : value, at: row * c + channel)
          channel += 16
        }
        while channel < c {
          let value = map.scalar(x, at: row * c + channel, channel: channel).value
          y[row * c + channel] = map.relu ? max(value, 0) : value
          channel += 1
        }
      }
    }
  }

  /// Σ g and Σ g·x̂, g = dy masked by the ReLU.
  struct GradientSums: RowSums {
    let x, dy: UnsafePointer<Float>
    let map: ElementMap
    let c: Int

    @inline(__always)
    func add(
      row: Int, into sumG: UnsafeMutablePointer<Float>, _ sumGXhat: UnsafeMutablePointer<Float>
    ) {
      var channel = 0
      while channel + 16 <= c {
        let (g, xhat) = map.gradientLanes(x, dy, at: row * c + channel, channel: channel)
        sumG.store(sumG.lanes(at: channel) + g, at: channel)
        sumGXhat.store(sumGXhat.lanes(at: channel) + g * xhat, at: channel)
        channel += 16
      }
      while channel < c {
        let (g, xhat) = map.gradientScalar(x, dy, at: row * c + channel, channel: channel)
        sumG[channel] += g
        sumGXhat[channel] += g * xhat
        channel += 1
      }
    }
  }

  /// dx (through the batch statistics, or when frozen through the affine map only) and the
  /// residual's gradient for a block of rows; each is added (another op already
  /// contributed) or assigned (the first contribution).
  struct InputGradient: ParallelJob {
    let x, dy: UnsafePointer<Float>
    let map: ElementMap
    let sums: UnsafePointer<Float>
    let dx, dResidual: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?
    let m, c: Int
    let frozen: Bool

    func run(_ rows: Range<Int>) {
      let scale: Float = frozen ? 0 : 1 / Float(m)
      let (sumG, sumGXhat) = (sums, sums + c)
      let (gamma, inverseStd) = (map.gamma, map.inverseStd)
      for row in rows {
        var channel = 0
        while channel + 16 <= c {
          let offset = row * c + channel
          let (g, xhat) = map.gradientLanes(x, dy, at: offset, channel: channel)
          if let (target, accumulate) = dx {
            let gradient =
              gamma.lanes(at: channel) * inverseStd.lanes(at: channel)
              * (g - scale * sumG.lanes(at: channel) - xhat * scale * sumGXhat.lanes(at: channel))
            target.store(accumulate ? target.lanes(at: offset) + gradient : gradient, at: offset)
          }
          if let (target, accumulate) = dResidual {
            target.store(accumulate ? target.lanes(at: offset) + g : g, at: offset)
          }
          channel += 16
        }
        while channel < c {
          let offset = row * c + channel
          let (g, xhat) = map.gradientScalar(x, dy, at: offset, channel: channel)
          if let (target, accumulate) = dx {
            let gradient =
              gamma[channel] * inverseStd[channel]
              * (g - scale * sumG[channel] - xhat * scale * sumGXhat[channel])
            target[offset] = accumulate ? target[offset] + gradient : gradient
          }
          if let (target, accumulate) = dResidual {
            target[offset] = accumulate ? target[offset] + g : g
          }
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
  /// Batch normalisation with batch statistics (training), then `residual` added and ReLU
  /// when asked: y = relu(BN(x) + residual), fused into one pass and one tensor as at the
  /// end of a ResNet block. Updates the running averages:
  /// running = momentum·running + (1 − momentum)·batch, with the unbiased batch variance.
  public func batchNorm(
    _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
    momentum: Float, epsilon: Float, relu: Bool = false, residual: Tensor? = nil
  ) -> Tensor {
    let c = x.shape.last
    let m = x.count / c
    let y = normalizationOutput(x, gamma: gamma, beta: beta, residual: residual)
    let mean = tensor(Shape(c))
    let inverseStd = tensor(Shape(c))
    let variance = tensor(Shape(c))
    BatchNormKernel.statistics(
      x: x.data, mean: mean.data, variance: variance.data, inverseStd: inverseStd.data,
      rows: m, channels: c, epsilon: epsilon,
      scratch: tensor(Shape(BatchNormKernel.scratchCount(rows: m, channels: c))).data)
    var rows = m
    if let crossReplicaSum {
      // Synchronised batch norm: per-replica counts, sums and sums of squares, added over
      // the replicas, give the statistics of the whole global batch.
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
    }
    BatchNormKernel.normalize(
      x: x.data, y: y.data,
      map: .init(
        gamma: gamma.data, beta: beta.data, mean: mean.data, inverseStd: inverseStd.data,
        residual: residual?.data, relu: relu),
      rows: m, channels: c)
    let unbias = rows > 1 ? Float(rows) / Float(rows - 1) : 1
    for channel in 0..<c {
      runningMean[channel] = momentum * runningMean[channel] + (1 - momentum) * mean[channel]
      runningVariance[channel] =
        momentum * runningVariance[channel] + (1 - momentum) * variance[channel] * unbias
    }
    record(
      .batchNorm(
        x: x, gamma: gamma, beta: beta, residual: residual, y: y, mean: mean,
        inverseStd: inverseStd, frozen: false, relu: relu,
        replicaRows: crossReplicaSum == nil ? 0 : rows),
      producing: y)
    return y
  }

  /// Batch normalisation with fixed statistics (inference, or frozen layers), then
  /// `residual` and ReLU as in `batchNorm`; differentiable with respect to x, γ, β and the
  /// residual.
  public func batchNormInference(
    _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
    epsilon: Float, relu: Bool = false, residual: Tensor? = nil
  ) -> Tensor {
    let c = x.shape.last
    let y = normalizationOutput(x, gamma: gamma, beta: beta, residual: residual)
    let inverseStd = tensor(Shape(c))
    for channel in 0..<c {
      inverseStd[channel] = 1 / (runningVariance[channel] + epsilon).squareRoot()
    }
    BatchNormKernel.normalize(
      x: x.data, y: y.data,
      map: .init(
        gamma: gamma.data, beta: beta.data, mean: runningMean.data, inverseStd: inverseStd.data,
        residual: residual?.data, relu: relu),
      rows: x.count / c, channels: c)
    record(
      .batchNorm(
        x: x, gamma: gamma, beta: beta, residual: residual, y: y, mean: runningMean,
        inverseStd: inverseStd, frozen: true, relu: relu, replicaRows: 0),
      producing: y)
    return y
  }

  /// The output of a batch norm over the last axis of `x`, after checking the shapes.
  private func normalizationOutput(
    _ x: Tensor, gamma: Tensor, beta: Tensor, residual: Tensor?
  ) -> Tensor {
    let c = x.shape.last
    precondition(gamma.count == c && beta.count == c, "batchNorm: x \(x.shape), γ \(gamma.shape)")
    precondition(
      residual == nil || residual!.shape == x.shape,
      "batchNorm: x \(x.shape), residual \(residual!.shape)")
    let requires =
      x.requiresGradient || gamma.requiresGradient || beta.requiresGradient
      || residual?.requiresGradient == true
    return tensor(x.shape, requiresGradient: requires)
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
