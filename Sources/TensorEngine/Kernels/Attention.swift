#if canImport(Glibc)
  import Glibc
#endif

/// The sizes of one attention call: q, k, v and the output are [B, T, H·D].
struct AttentionShape {
  let batch, length, heads, headSize: Int
  var width: Int { heads * headSize }
  var scale: Float { 1 / Float(headSize).squareRoot() }
}

/// Multi-head scaled dot-product self-attention whose memory is O(T): scores are never
/// stored. Forward streams the softmax over blocks of keys for each query (running
/// maximum and sum), keeping only the log-sum-exp per query; backward recomputes the
/// probabilities from it (FlashAttention's scheme, one query row at a time). Each
/// (batch, head) pair is one unit of parallel work; keys and values are gathered
/// transposed ([D, T]) so that sixteen keys at a time fill the vector lanes.
enum AttentionKernel {
  /// Keys scored at once: one block of scores lives in a small scratch buffer.
  static let keyBlock = 256

  /// Scratch floats per (batch, head) unit.
  static func forwardScratch(_ shape: AttentionShape) -> Int {
    3 * shape.length * shape.headSize + keyBlock
  }
  static func backwardScratch(_ shape: AttentionShape) -> Int {
    8 * shape.length * shape.headSize + keyBlock
  }

  /// Copies head `h` of batch `b` of a [B, T, H·D] tensor into a [T, D] buffer, or into a
  /// [D, T] buffer when `transposed`.
  static func gatherHead(
    _ source: UnsafePointer<Float>, _ shape: AttentionShape, b: Int, h: Int, transposed: Bool,
    into head: UnsafeMutablePointer<Float>
  ) {
    let (t, d) = (shape.length, shape.headSize)
    for step in 0..<t {
      let row = source + (b * t + step) * shape.width + h * d
      for index in 0..<d { head[transposed ? index * t + step : step * d + index] = row[index] }
    }
  }

  /// Adds a [T, D] (or, `transposed`, [D, T]) head buffer into head `h` of batch `b`.
  static func scatterAddHead(
    _ head: UnsafePointer<Float>, _ shape: AttentionShape, b: Int, h: Int, transposed: Bool,
    into target: UnsafeMutablePointer<Float>
  ) {
    let (t, d) = (shape.length, shape.headSize)
    for step in 0..<t {
      let row = target + (b * t + step) * shape.width + h * d
      for index in 0..<d { row[index] += head[transposed ? index * t + step : step * d + index] }
    }
  }

  /// scores[j] = scale · q·k_j for keys [start, start + count), keys stored [D, T].
  @inline(__always)
  static func score(
    _ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, start: Int, count: Int,
    shape: AttentionShape,
    into scores: UnsafeMutablePointer<Float>
  ) {
    let (t, d, scale) = (shape.length, shape.headSize, shape.scale)
    var j = 0
    while j + 16 <= count {
      var sum = Lanes()
      for index in 0..<d { sum += q[index] * keys.lanes(at: index * t + start + j) }
      scores.store(sum * scale, at: j)
      j += 16
    }
    while j < count {
      var sum: Float = 0
      for index in 0..<d { sum += q[index] * keys[index * t + start + j] }
      scores[j] = sum * scale
      j += 1
    }
  }

  /// The largest of `count` floats.
  @inline(__always)
  static func maximumOf(_ values: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var lanes = Lanes(repeating: -.infinity)
    var j = 0
    while j + 16 <= count {
      let block = values.lanes(at: j)
      lanes = lanes.replacing(with: block, where: block .> lanes)
      j += 16
    }
    var result = lanes.max()
    while j < count {
      result = max(result, values[j])
      j += 1
    }
    return result
  }

  /// Σ a[j]·b[j] over `count` floats.
  @inline(__always)
  static func dot(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float
  {
    var lanes = Lanes()
    var j = 0
    while j + 16 <= count {
      lanes += a.lanes(at: j) * b.lanes(at: j)
      j += 16
    }
    var result = lanes.sum()
    while j < count {
      result += a[j] * b[j]
      j += 1
    }
    return result
  }

  /// o = softmax(scale·q·kᵀ)·v per head; logSumExp [B, H, T] is kept for backward.
  static func forward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    o: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>, shape: AttentionShape,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let units = shape.batch * shape.heads
    ThreadPool.shared.parallelFor(
      units, work: units * shape.length * shape.length,
      Forward(q: q, k: k, v: v, o: o, logSumExp: logSumExp, shape: shape, scratch: scratch))
  }

  /// Accumulates dq, dk, dv (any may be nil) from dO, recomputing the probabilities.
  static func backward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    o: UnsafePointer<Float>,
    dO: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>?,
    dk: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?, shape: AttentionShape,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let units = shape.batch * shape.heads
    ThreadPool.shared.parallelFor(
      units, work: units * shape.length * shape.length,
      Backward(
        q: q, k: k, v: v, o: o, dO: dO, logSumExp: logSumExp, dq: dq, dk: dk, dv: dv, shape: shape,
        scratch: scratch))
  }

  struct Forward: ParallelJob {
    let q, k, v: UnsafePointer<Float>
    let o, logSumExp: UnsafeMutablePointer<Float>
    let shape: AttentionShape
    let scratch: UnsafeMutablePointer<Float>

    func run(_ units: Range<Int>) {
      let (t, d) = (shape.length, shape.headSize)
      for unit in units {
        let (b, h) = (unit / shape.heads, unit % shape.heads)
        let qHead = scratch + unit * forwardScratch(shape)
        let kHead = qHead + t * d
        let vHead = kHead + t * d
        let scores = vHead + t * d
        gatherHead(q, shape, b: b, h: h, transposed: false, into: qHead)
        gatherHead(k, shape, b: b, h: h, transposed: true, into: kHead)
        gatherHead(v, shape, b: b, h: h, transposed: true, into: vHead)
        if d == 1 {
          forwardHeadSizeOne(unit: unit, b: b, h: h, q: qHead, k: kHead, v: vHead)
          continue
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: d) { accumulator in
          for query in 0..<t {
            var maximum = -Float.infinity
            var sum: Float = 0
            accumulator.initialize(repeating: 0)
            for start in stride(from: 0, to: t, by: keyBlock) {
              let count = min(keyBlock, t - start)
              score(
                qHead + query * d, keys: kHead, start: start, count: count, shape: shape,
                into: scores)
              let blockMaximum = max(maximum, maximumOf(scores, count: count))
              if blockMaximum > maximum {
                let correction = expf(maximum - blockMaximum)
                sum *= correction
                for index in 0..<d { accumulator[index] *= correction }
                maximum = blockMaximum
              }
              // p = exp(s − max) in place, Σ p, and Σ p·v (fused when D = 1).
              let values = UnsafePointer(vHead + start)
              var j = 0
              var sums = Lanes()
              var weighted = Lanes()
              while j + 16 <= count {
                let p = exp(scores.lanes(at: j) - maximum)
                scores.store(p, at: j)
                sums += p
                if d == 1 { weighted += p * values.lanes(at: j) }
                j += 16
              }
              sum += sums.sum()
              if d == 1 { accumulator[0] += weighted.sum() }
              while j < count {
                scores[j] = expf(scores[j] - maximum)
                sum += scores[j]
                if d == 1 { accumulator[0] += scores[j] * values[j] }
                j += 1
              }
              if d > 1 {
                for index in 0..<d {
                  accumulator[index] += dot(
                    scores, UnsafePointer(vHead + index * t + start), count: count)
                }
              }
            }
            let out = o + (b * t + query) * shape.width + h * d
            for index in 0..<d { out[index] = accumulator[index] / sum }
            logSumExp[unit * t + query] = maximum + logf(sum)
          }
        }
      }
    }

    /// Head size 1: the score is q·k·scale, so a row's maximum is known before any exp —
    /// q·scale times the largest key when q ≥ 0, the smallest otherwise — and one pass
    /// over the keys gives Σ p and Σ p·v with no rescaling.
    private func forwardHeadSizeOne(
      unit: Int, b: Int, h: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
      v: UnsafeMutablePointer<Float>
    ) {
      let t = shape.length
      var (largest, smallest) = (-Float.infinity, Float.infinity)
      for key in 0..<t {
        largest = max(largest, k[key])
        smallest = min(smallest, k[key])
      }
      for query in 0..<t {
        let scaled = q[query] * shape.scale
        let maximum = scaled * (scaled >= 0 ? largest : smallest)
        var (sums, weighted) = (Lanes(), Lanes())
        var key = 0
        while key + 16 <= t {
          let p = exp(scaled * k.lanes(at: key) - maximum)
          sums += p
          weighted += p * v.lanes(at: key)
          key += 16
        }
        var (sum, total) = (sums.sum(), weighted.sum())
        while key < t {
          let p = expf(scaled * k[key] - maximum)
          sum += p
          total += p * v[key]
          key += 1
        }
        o[(b * t + query) * shape.width + h] = total / sum
        logSumExp[unit * t + query] = maximum + logf(sum)
      }
    }
  }

  struct Backward: ParallelJob {
    let q, k, v, o, dO, logSumExp: UnsafePointer<Float>
    let dq, dk, dv: UnsafeMutablePointer<Float>?
    let shape: AttentionShape
    let scratch: UnsafeMutablePointer<Float>

    func run(_ units: Range<Int>) {
      let (t, d, scale) = (shape.length, shape.headSize, shape.scale)
      for unit in units {
        let (b, h) = (unit / shape.heads, unit % shape.heads)
        let qHead = scratch + unit * backwardScratch(shape)  // [T, D]
        let kHead = qHead + t * d  // [D, T]
        let vHead = kHead + t * d  // [D, T]
        let oHead = vHead + t * d  // [T, D]
        let dOHead = oHead + t * d  // [T, D]
        let dqHead = dOHead + t * d  // [T, D]
        let dkHead = dqHead + t * d  // [D, T]
        let dvHead = dkHead + t * d  // [D, T]
        let probabilities = dvHead + t * d
        gatherHead(q, shape, b: b, h: h, transposed: false, into: qHead)
        gatherHead(k, shape, b: b, h: h, transposed: true, into: kHead)
        gatherHead(v, shape, b: b, h: h, transposed: true, into: vHead)
        gatherHead(o, shape, b: b, h: h, transposed: false, into: oHead)
        gatherHead(dO, shape, b: b, h: h, transposed: false, into: dOHead)
        dqHead.update(repeating: 0, count: 3 * t * d)  // dq, dk and dv heads are adjacent
        if d == 1 {
          backwardHeadSizeOne(
            unit: unit, q: qHead, k: kHead, v: vHead, o: oHead, dO: dOHead, dq: dqHead, dk: dkHead,
            dv: dvHead)
        } else {
          // Per query, dq accumulates in vector lanes and is reduced once per row.
          withUnsafeTemporaryAllocation(of: Lanes.self, capacity: d) { queryGradient in
            for query in 0..<t {
              queryGradient.initialize(repeating: Lanes())
              let lse = logSumExp[unit * t + query]
              let queryRow = UnsafePointer(qHead + query * d)
              let gradientRow = UnsafePointer(dOHead + query * d)
              var rowDot: Float = 0  // Σ dO·O: the softmax backward's subtracted term
              for index in 0..<d { rowDot += gradientRow[index] * oHead[query * d + index] }
              for start in stride(from: 0, to: t, by: keyBlock) {
                let count = min(keyBlock, t - start)
                score(
                  queryRow, keys: kHead, start: start, count: count, shape: shape,
                  into: probabilities
                )
                var j = 0
                while j + 16 <= count {
                  let key = start + j
                  let p = exp(probabilities.lanes(at: j) - lse)
                  var dp = Lanes()
                  for index in 0..<d {
                    let offset = index * t + key
                    dvHead.store(dvHead.lanes(at: offset) + p * gradientRow[index], at: offset)
                    dp += gradientRow[index] * vHead.lanes(at: offset)
                  }
                  let ds = p * (dp - rowDot) * scale
                  for index in 0..<d {
                    let offset = index * t + key
                    queryGradient[index] += ds * kHead.lanes(at: offset)
                    dkHead.store(dkHead.lanes(at: offset) + ds * queryRow[index], at: offset)
                  }
                  j += 16
                }
                while j < count {
                  let key = start + j
                  let p = expf(probabilities[j] - lse)
                  var dp: Float = 0
                  for index in 0..<d {
                    dvHead[index * t + key] += p * gradientRow[index]
                    dp += gradientRow[index] * vHead[index * t + key]
                  }
                  let ds = p * (dp - rowDot) * scale
                  for index in 0..<d {
                    dqHead[query * d + index] += ds * kHead[index * t + key]
                    dkHead[index * t + key] += ds * queryRow[index]
                  }
                  j += 1
                }
              }
              for index in 0..<d { dqHead[query * d + index] += queryGradient[index].sum() }
            }
          }
        }
        if let dq { scatterAddHead(dqHead, shape, b: b, h: h, transposed: false, into: dq) }
        if let dk { scatterAddHead(dkHead, shape, b: b, h: h, transposed: true, into: dk) }
        if let dv { scatterAddHead(dvHead, shape, b: b, h: h, transposed: true, into: dv) }
      }
    }

    /// Head size 1: scores q·k·scale recomputed in vector lanes straight from the keys,
    /// with nothing stored between passes.
    private func backwardHeadSizeOne(
      unit: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
      v: UnsafeMutablePointer<Float>, o: UnsafeMutablePointer<Float>,
      dO: UnsafeMutablePointer<Float>,
      dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
      dv: UnsafeMutablePointer<Float>
    ) {
      let (t, scale) = (shape.length, shape.scale)
      for query in 0..<t {
        let lse = logSumExp[unit * t + query]
        let scaled = q[query] * scale
        let gradient = dO[query]
        let rowDot = gradient * o[query]
        var queryGradient = Lanes()
        var key = 0
        while key + 16 <= t {
          let keys = k.lanes(at: key)
          let p = exp(scaled * keys - lse)
          dv.store(dv.lanes(at: key) + p * gradient, at: key)
          let ds = p * (gradient * v.lanes(at: key) - rowDot) * scale
          queryGradient += ds * keys
          dk.store(dk.lanes(at: key) + ds * q[query], at: key)
          key += 16
        }
        var total = queryGradient.sum()
        while key < t {
          let p = expf(scaled * k[key] - lse)
          dv[key] += p * gradient
          let ds = p * (gradient * v[key] - rowDot) * scale
          total += ds * k[key]
          dk[key] += ds * q[query]
          key += 1
        }
        dq[query] += total
      }
    }
  }

}

extension Tape {
  /// Scaled dot-product self-attention over [B, T, H·D] projections with `heads` heads;
  /// memory O(T) in the sequence length.
  public func attention(query q: Tensor, key k: Tensor, value v: Tensor, heads: Int) -> Tensor {
    precondition(
      q.shape.rank == 3 && q.shape == k.shape && q.shape == v.shape,
      "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
    precondition(
      q.shape[2] % heads == 0, "attention: width \(q.shape[2]) not divisible by \(heads) heads")
    let shape = AttentionShape(
      batch: q.shape[0], length: q.shape[1], heads: heads, headSize: q.shape[2] / heads)
    let o = output(q.shape, q, k, v)
    let logSumExp = tensor(Shape(shape.batch, heads, shape.length))
    let scratch = tensor(Shape(shape.batch * heads * AttentionKernel.forwardScratch(shape)))
    AttentionKernel.forward(
      q: q.data, k: k.data, v: v.data, o: o.data, logSumExp: logSumExp.data, shape: shape,
      scratch: scratch.data)
    // q·kᵀ and p·v, each 2·T²·D per head.
    forwardFLOPs += 4 * shape.batch * heads * shape.length * shape.length * shape.headSize
    record(.attention(q: q, k: k, v: v, o: o, logSumExp: logSumExp, shape: shape), producing: o)
    return o
  }
}
