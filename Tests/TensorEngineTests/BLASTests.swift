import Foundation
import Testing

@testable import TensorEngine

/// Serialized: `threadCountCanBeSet` changes OpenBLAS's process-wide thread count.
@Suite(.serialized) struct GEMMTests {
  // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[7, 8], [9, 10], [11, 12]] (3×2).
  let a: [Float] = [1, 2, 3, 4, 5, 6]
  let b: [Float] = [7, 8, 9, 10, 11, 12]

  @Test func plainProduct() {
    // Worked by hand: [[1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]].
    var c = [Float](repeating: 0, count: 4)
    gemm(.none, .none, m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
    #expect(c == [58, 64, 139, 154])
  }

  @Test func transposedOperandsWithAlphaAndBeta() {
    // op(A) = Aᵀ (3×2 stored as 2×3), op(B) = Bᵀ (2×3 stored as 3×2): C = 2·AᵀBᵀ + 1·C.
    // AᵀBᵀ = (BA)ᵀ; BA = [[39, 54, 69], [49, 68, 87], [59, 82, 105]], so AᵀBᵀ is its transpose.
    var c = [Float](repeating: 1, count: 9)
    gemm(
      .transposed, .transposed, m: 3, n: 3, k: 2, alpha: 2, a: a, lda: 3, b: b, ldb: 2, beta: 1,
      c: &c, ldc: 3)
    #expect(c == [79, 99, 119, 109, 137, 165, 139, 175, 211])
  }

  @Test func leadingDimensionSelectsASubmatrix() {
    // Multiply only the first two columns of A (lda stays 3) by the first two rows of B.
    var c = [Float](repeating: 0, count: 4)
    gemm(.none, .none, m: 2, n: 2, k: 2, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
    #expect(c == [25, 28, 73, 82])
  }

  @Test func threadCountCanBeSet() {
    let original = BLAS.threadCount
    defer { BLAS.threadCount = original }
    BLAS.threadCount = 1
    #expect(BLAS.threadCount == 1)
    #expect(BLAS.configuration.hasPrefix("OpenBLAS"))
  }
}

@Suite struct LinearSystemTests {
  @Test func solvesAHandWorkedSystem() throws {
    // 2x + y − z = 8, −3x − y + 2z = −11, −2x + y + 2z = −3  ⇒  x = 2, y = 3, z = −1.
    let matrix: [Double] = [2, 1, -1, -3, -1, 2, -2, 1, 2]
    let solution = try solveLinearSystem(matrix, [8, -11, -3], n: 3)
    for (value, expected) in zip(solution, [2.0, 3, -1]) {
      #expect(abs(value - expected) < 1e-12)
    }
  }

  @Test func solvesSeveralRightHandSidesAtOnce() throws {
    // [[4, 3], [6, 3]]·X = I gives the inverse [[−1/2, 1/2], [1, −2/3]].
    let inverse = try solveLinearSystem([4, 3, 6, 3], [1, 0, 0, 1], n: 2, rightHandSideCount: 2)
    for (value, expected) in zip(inverse, [-0.5, 0.5, 1, -2.0 / 3]) {
      #expect(abs(value - expected) < 1e-12)
    }
  }

  @Test func singularMatrixIsReported() {
    #expect(throws: LinearSystemError.singular(pivot: 2)) {
      try solveLinearSystem([1, 2, 2, 4], [1, 2], n: 2)
    }
  }

  @Test func wrongShapeIsReported() {
    #expect(throws: LinearSystemError.shapeMismatch(expected: 4, found: 3)) {
      try solveLinearSystem([1, 2, 3], [1, 2], n: 2)
    }
  }
}

/// GEMM through every path — plain loops for tiny products, matrix–vector calls, and BLAS
/// split over two threads by rows or by columns — against a naive triple loop.
@Suite struct GEMMPathTests {
  init() { _ = parallelEngine }

  static func naive(
    _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
    b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int
  ) -> [Float] {
    var result = c
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for p in 0..<k {
          let left = ta == .none ? a[i * lda + p] : a[p * lda + i]
          let right = tb == .none ? b[p * ldb + j] : b[j * ldb + p]
          sum += Double(left) * Double(right)
        }
        result[i * ldc + j] = alpha * Float(sum) + beta * c[i * ldc + j]
      }
    }
    return result
  }

  @Test(arguments: [
    (3, 4, 5), (300, 1, 500), (1, 300, 500), (700, 90, 64), (90, 700, 64), (1000, 64, 576),
  ])
  func everyPathMatchesTheNaiveProduct(m: Int, n: Int, k: Int) {
    for ta in [Transpose.none, .transposed] {
      for tb in [Transpose.none, .transposed] {
        let lda = (ta == .none ? k : m) + 1  // padded rows exercise the leading dimensions
        let ldb = (tb == .none ? n : k) + 2
        let ldc = n + 3
        let a = (0..<((ta == .none ? m : k) * lda)).map { Float(sin(Double($0) * 0.37)) }
        let b = (0..<((tb == .none ? k : n) * ldb)).map { Float(cos(Double($0) * 0.23)) }
        let c = (0..<(m * ldc)).map { Float(sin(Double($0) * 0.11)) }
        var result = c
        gemm(
          ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &result,
          ldc: ldc)
        let expected = Self.naive(
          ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: c,
          ldc: ldc)
        let worst = zip(result, expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3 * Float(k).squareRoot(), "\(ta) \(tb) \(m)×\(n)×\(k): \(worst)")
      }
    }
  }
}
