import CLAPACKE

/// Why a dense linear solve failed.
public enum LinearSystemError: Error, Equatable, CustomStringConvertible {
  case shapeMismatch(expected: Int, found: Int)
  /// The factor U(i, i) is exactly zero (1-based, as LAPACK reports it).
  case singular(pivot: Int)
  case invalidArgument(position: Int)

  public var description: String {
    switch self {
    case .shapeMismatch(let expected, let found):
      return "linear system: expected \(expected) matrix entries, found \(found)"
    case .singular(let pivot):
      return "linear system: matrix is singular (zero pivot at row \(pivot))"
    case .invalidArgument(let position):
      return "linear system: LAPACK rejected argument \(position)"
    }
  }
}

/// Solves A·X = B for a dense n×n matrix in double precision with LU factorisation and
/// partial pivoting (LAPACK dgesv). Used where small systems appear: kriging weights,
/// Newton steps of logistic regression.
/// - Parameters:
///   - matrix: A, row-major, n×n.
///   - rightHandSides: B, row-major, n×nrhs.
/// - Returns: X, row-major, n×nrhs.
public func solveLinearSystem(
  _ matrix: [Double], _ rightHandSides: [Double], n: Int, rightHandSideCount nrhs: Int = 1
) throws(LinearSystemError) -> [Double] {
  guard matrix.count == n * n else {
    throw .shapeMismatch(expected: n * n, found: matrix.count)
  }
  guard rightHandSides.count == n * nrhs else {
    throw .shapeMismatch(expected: n * nrhs, found: rightHandSides.count)
  }
  var factors = matrix
  var solution = rightHandSides
  var pivots = [Int32](repeating: 0, count: n)
  let info = LAPACKE_dgesv(
    LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), &factors, Int32(n), &pivots,
    &solution, Int32(nrhs))
  if info > 0 { throw .singular(pivot: Int(info)) }
  if info < 0 { throw .invalidArgument(position: Int(-info)) }
  return solution
}
