/// Dense layer: y = x·W + b over the last axis, every leading axis folded into one GEMM.
/// W is [inputs, outputs] (Keras layout), so rows of x meet columns of W with no transpose.
enum LinearKernel {
  /// y[M, N] = x[M, K]·w[K, N] + b[N].
  static func forward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, rows m: Int, inputs k: Int, outputs n: Int
  ) {
    if let b {
      for row in 0..<m { (y + row * n).update(from: b, count: n) }
    }
    gemm(
      .none, .none, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: n, beta: b == nil ? 0 : 1, c: y,
      ldc: n)
  }

  /// dx (+)= dy·Wᵀ (assigned unless `accumulateDX`), dW += xᵀ·dy, db += Σ_rows dy (each only
  /// when asked for).
  static func backward(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>?, accumulateDX: Bool = true, dw: UnsafeMutablePointer<Float>?,
    db: UnsafeMutablePointer<Float>?, rows m: Int, inputs k: Int, outputs n: Int
  ) {
    if let dx {
      gemm(
        .none, .transposed, m: m, n: k, k: n, a: dy, lda: n, b: w, ldb: n,
        beta: accumulateDX ? 1 : 0,
        c: dx, ldc: k)
    }
    if let dw {
      gemm(
        .transposed, .none, m: k, n: n, k: m, a: x, lda: k, b: dy, ldb: n, beta: 1, c: dw, ldc: n)
    }
    if let db { addColumnSums(of: dy, rows: m, columns: n, into: db) }
  }
}

/// into[c] += Σ_r matrix[r, c]: bias gradients.
func addColumnSums(
  of matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>
) {
  for row in 0..<rows {
    let line = matrix + row * columns
    for column in 0..<columns { sums[column] += line[column] }
  }
}

extension Tape {
  /// Dense layer over the last axis: [..., K] · [K, N] + [N] → [..., N].
  public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let k = x.shape.last
    precondition(
      weight.shape.rank == 2 && weight.shape[0] == k, "linear: x \(x.shape), W \(weight.shape)")
    let n = weight.shape[1]
    let y = output(x.shape.replacing(x.shape.rank - 1, with: n), x, weight, bias)
    LinearKernel.forward(
      x: x.data, w: weight.data, b: bias?.data, y: y.data, rows: x.count / k, inputs: k, outputs: n)
    forwardFLOPs += 2 * (x.count / k) * k * n
    record(.linear(x: x, weight: weight, bias: bias, y: y), producing: y)
    return y
  }
}
