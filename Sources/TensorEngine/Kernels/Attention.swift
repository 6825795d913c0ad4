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
/// probabilities from it (FlashAttention's scheme, one query row at a time).
enum AttentionKernel {
  /// Keys scored at once: scores for one block live in a small scratch buffer.
  static let keyBlock = 256

  /// Copies head `h` of batch `b` of a [B, T, H·D] tensor into a contiguous [T, D] buffer.
  static func gatherHead(
    _ source: UnsafePointer<Float>, _ shape: AttentionShape, b: Int, h: Int,
    into head: UnsafeMutablePointer<Float>
  ) {
    let d = shape.headSize
    for t in 0..<shape.length {
      (head + t * d).update(from: source + (b * shape.length + t) * shape.width + h * d, count: d)
    }
  }

  /// Adds a contiguous [T, D] head buffer into head `h` of batch `b` of a [B, T, H·D] tensor.
  static func scatterAddHead(
    _ head: UnsafePointer<Float>, _ shape: AttentionShape, b: Int, h: Int,
    into target: UnsafeMutablePointer<Float>
  ) {
    let d = shape.headSize
    for t in 0..<shape.length {
      let row = target + (b * shape.length + t) * shape.width + h * d
      for index in 0..<d { row[index] += head[t * d + index] }
    }
  }

  /// scores[j] = scale · q·k_j for keys [start, start + count) of a contiguous head.
  @inline(__always)
  static func score(
    _ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, start: Int, count: Int, d: Int,
    scale: Float,
    into scores: UnsafeMutablePointer<Float>
  ) {
    for j in 0..<count {
      let key = keys + (start + j) * d
      var dot: Float = 0
      for index in 0..<d { dot += q[index] * key[index] }
      scores[j] = dot * scale
    }
  }

  /// o = softmax(scale·q·kᵀ)·v per head; logSumExp [B, H, T] is kept for backward.
  /// `scratch` must hold 3·T·D + keyBlock + D floats.
  static func forward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    o: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>, shape: AttentionShape,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let t = shape.length
    let d = shape.headSize
    let qHead = scratch
    let kHead = qHead + t * d
    let vHead = kHead + t * d
    let scores = vHead + t * d
    let accumulator = scores + keyBlock
    for b in 0..<shape.batch {
      for h in 0..<shape.heads {
        gatherHead(q, shape, b: b, h: h, into: qHead)
        gatherHead(k, shape, b: b, h: h, into: kHead)
        gatherHead(v, shape, b: b, h: h, into: vHead)
        for query in 0..<t {
          var maximum = -Float.infinity
          var sum: Float = 0
          accumulator.update(repeating: 0, count: d)
          for start in stride(from: 0, to: t, by: keyBlock) {
            let count = min(keyBlock, t - start)
            score(
              qHead + query * d, keys: kHead, start: start, count: count, d: d, scale: shape.scale,
              into: scores)
            var blockMaximum = maximum
            for j in 0..<count { blockMaximum = max(blockMaximum, scores[j]) }
            if blockMaximum > maximum {
              let correction = expf(maximum - blockMaximum)
              sum *= correction
              for index in 0..<d { accumulator[index] *= correction }
              maximum = blockMaximum
            }
            for j in 0..<count {
              let p = expf(scores[j] - maximum)
              sum += p
              let value = vHead + (start + j) * d
              for index in 0..<d { accumulator[index] += p * value[index] }
            }
          }
          let out = o + (b * t + query) * shape.width + h * d
          for index in 0..<d { out[index] = accumulator[index] / sum }
          logSumExp[(b * shape.heads + h) * t + query] = maximum + logf(sum)
        }
      }
    }
  }

  /// Accumulates dq, dk, dv (any may be nil) from do, recomputing the probabilities.
  /// `scratch` must hold 8·T·D + keyBlock floats.
  static func backward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    o: UnsafePointer<Float>,
    dO: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>?,
    dk: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?, shape: AttentionShape,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let t = shape.length
    let d = shape.headSize
    let scale = shape.scale
    let qHead = scratch
    let kHead = qHead + t * d
    let vHead = kHead + t * d
    let oHead = vHead + t * d
    let dOHead = oHead + t * d
    let dqHead = dOHead + t * d
    let dkHead = dqHead + t * d
    let dvHead = dkHead + t * d
    let probabilities = dvHead + t * d
    for b in 0..<shape.batch {
      for h in 0..<shape.heads {
        gatherHead(q, shape, b: b, h: h, into: qHead)
        gatherHead(k, shape, b: b, h: h, into: kHead)
        gatherHead(v, shape, b: b, h: h, into: vHead)
        gatherHead(o, shape, b: b, h: h, into: oHead)
        gatherHead(dO, shape, b: b, h: h, into: dOHead)
        dqHead.update(repeating: 0, count: 3 * t * d)  // dq, dk and dv heads are adjacent
        for query in 0..<t {
          let lse = logSumExp[(b * shape.heads + h) * t + query]
          let queryRow = qHead + query * d
          let gradientRow = dOHead + query * d
          var rowDot: Float = 0  // Σ dO·O: the softmax backward's subtracted term
          for index in 0..<d { rowDot += gradientRow[index] * oHead[query * d + index] }
          for start in stride(from: 0, to: t, by: keyBlock) {
            let count = min(keyBlock, t - start)
            score(
              queryRow, keys: kHead, start: start, count: count, d: d, scale: scale,
              into: probabilities)
            for j in 0..<count {
              let key = start + j
              let p = expf(probabilities[j] - lse)
              var dp: Float = 0
              for index in 0..<d {
                dvHead[key * d + index] += p * gradientRow[index]
                dp += gradientRow[index] * vHead[key * d + index]
              }
              let ds = p * (dp - rowDot) * scale
              for index in 0..<d {
                dqHead[query * d + index] += ds * kHead[key * d + index]
                dkHead[key * d + index] += ds * queryRow[index]
              }
            }
          }
        }
        if let dq { scatterAddHead(dqHead, shape, b: b, h: h, into: dq) }
        if let dk { scatterAddHead(dkHead, shape, b: b, h: h, into: dk) }
        if let dv { scatterAddHead(dvHead, shape, b: b, h: h, into: dv) }
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
    let scratch = tensor(
      Shape(3 * shape.length * shape.headSize + AttentionKernel.keyBlock + shape.headSize))
    AttentionKernel.forward(
      q: q.data, k: k.data, v: v.data, o: o.data, logSumExp: logSumExp.data, shape: shape,
      scratch: scratch.data)
    // q·kᵀ and p·v, each 2·T²·D per head.
    forwardFLOPs += 4 * shape.batch * heads * shape.length * shape.length * shape.headSize
    record(.attention(q: q, k: k, v: v, o: o, logSumExp: logSumExp, shape: shape), producing: o)
    return o
  }
}
