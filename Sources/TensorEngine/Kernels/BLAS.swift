import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
  case none
  case transposed

  var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// The BLAS library this build links (OpenBLAS) and its threading.
public enum BLAS {
  /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
  public static var configuration: String {
    guard let text = openblas_get_config() else { return "unknown" }
    return String(cString: text)
  }

  /// Threads OpenBLAS uses for one call. The engine keeps it at 1 and splits GEMMs over
  /// its own `ThreadPool` instead.
  public static var threadCount: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(newValue)) }
  }
}

/// Below this many multiply-adds a GEMM runs in a plain loop: OpenBLAS's small-matrix path
/// allocates on every call, and splitting tiny products over threads does not pay.
let smallGEMM = 1 << 18

/// Row-major single-precision GEMM: C ← α·op(A)·op(B) + β·C, with op(A) m×k and op(B) k×n.
/// Leading dimensions are row strides of the matrices as stored. Large products are split
/// over the `ThreadPool` by rows (or columns) of C, each part a single-threaded BLAS call.
public func gemm(
  _ transposeA: Transpose, _ transposeB: Transpose,
  m: Int, n: Int, k: Int,
  alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  guard m > 0, n > 0 else { return }
  if m * n * k < smallGEMM {
    smallGemm(
      transposeA, transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
      beta: beta, c: c, ldc: ldc)
    return
  }
  if n == 1 || m == 1 {
    // Matrix–vector products: OpenBLAS's GEMM would take its allocating small-matrix path.
    matrixVector(
      transposeA, transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
      beta: beta, c: c, ldc: ldc)
    return
  }
  let split = m >= n ? m : n
  ThreadPool.shared.parallelFor(
    split, work: m * n * k,
    GEMMPart(
      transposeA: transposeA, transposeB: transposeB, byRows: m >= n, m: m, n: n, k: k,
      alpha: alpha,
      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc))
}

/// A block of rows (or columns) of C, computed by one single-threaded BLAS call.
struct GEMMPart: ParallelJob {
  let transposeA, transposeB: Transpose
  let byRows: Bool
  let m, n, k: Int
  let alpha: Float
  let a: UnsafePointer<Float>
  let lda: Int
  let b: UnsafePointer<Float>
  let ldb: Int
  let beta: Float
  let c: UnsafeMutablePointer<Float>
  let ldc: Int

  func run(_ range: Range<Int>) {
    if byRows {
      let aPart = transposeA == .none ? a + range.lowerBound * lda : a + range.lowerBound
      cblas_sgemm(
        CblasRowMajor, transposeA.cblas, transposeB.cblas, Int32(range.count), Int32(n), Int32(k),
        alpha, aPart, Int32(lda), b, Int32(ldb), beta, c + range.lowerBound * ldc, Int32(ldc))
    } else {
      let bPart = transposeB == .none ? b + range.lowerBound : b + range.lowerBound * ldb
      cblas_sgemm(
        CblasRowMajor, transposeA.cblas, transposeB.cblas, Int32(m), Int32(range.count), Int32(k),
        alpha, a, Int32(lda), bPart, Int32(ldb), beta, c + range.lowerBound, Int32(ldc))
    }
  }
}

/// C = α·op(A)·op(B) + β·C when C is a single column (n = 1) or a single row (m = 1).
private func matrixVector(
  _ transposeA: Transpose, _ transposeB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  if n == 1 {
    // c[i] = Σ_p op(A)[i, p]·op(B)[p, 0]; A is stored m×k (or k×m when transposed).
    let rows = transposeA == .none ? m : k
    let columns = transposeA == .none ? k : m
    let bStride = transposeB == .none ? ldb : 1
    cblas_sgemv(
      CblasRowMajor, transposeA.cblas, Int32(rows), Int32(columns), alpha, a, Int32(lda), b,
      Int32(bStride), beta, c, Int32(ldc))
  } else {
    // c[j] = Σ_p op(A)[0, p]·op(B)[p, j] = (op(B)ᵀ·a)[j]; B is stored k×n (or n×k).
    let rows = transposeB == .none ? k : n
    let columns = transposeB == .none ? n : k
    let flipped: CBLAS_TRANSPOSE = transposeB == .none ? CblasTrans : CblasNoTrans
    let aStride = transposeA == .none ? 1 : lda
    cblas_sgemv(
      CblasRowMajor, flipped, Int32(rows), Int32(columns), alpha, b, Int32(ldb), a, Int32(aStride),
      beta, c, 1)
  }
}

/// The same product in plain loops, for products too small for BLAS to pay.
private func smallGemm(
  _ transposeA: Transpose, _ transposeB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  // Strides of op(A)[i, p] and op(B)[p, j] in memory.
  let (aRow, aColumn) = transposeA == .none ? (lda, 1) : (1, lda)
  let (bRow, bColumn) = transposeB == .none ? (ldb, 1) : (1, ldb)
  for i in 0..<m {
    let row = c + i * ldc
    if beta == 0 {
      row.update(repeating: 0, count: n)
    } else if beta != 1 {
      for j in 0..<n { row[j] *= beta }
    }
    for p in 0..<k {
      let scaled = alpha * a[i * aRow + p * aColumn]
      let bLine = b + p * bRow
      for j in 0..<n { row[j] += scaled * bLine[j * bColumn] }
    }
  }
}
