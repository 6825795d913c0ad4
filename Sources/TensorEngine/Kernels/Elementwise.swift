#if canImport(Glibc)
  import Glibc
#endif

/// Element-wise functions of one tensor. Backward uses x or y, whichever is cheaper.
public enum ElementwiseFunction: Equatable, Sendable {
  case relu
  case leakyRelu(slope: Float)
  /// Self-normalising: λ·x for x > 0, λ·α·(eˣ − 1) otherwise.
  case selu
  case sigmoid
  case log
  case exp

  static let seluLambda: Float = 1.050_700_987_355_480_5
  static let seluAlpha: Float = 1.673_263_242_354_377_2

  @inline(__always)
  func value(_ x: Float) -> Float {
    switch self {
    case .relu: return x > 0 ? x : 0
    case .leakyRelu(let slope): return x > 0 ? x : slope * x
    case .selu:
      return x > 0
        ? ElementwiseFunction.seluLambda * x
        : ElementwiseFunction.seluLambda * ElementwiseFunction.seluAlpha * (expf(x) - 1)
    case .sigmoid: return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
    case .log: return logf(x)
    case .exp: return expf(x)
    }
  }

  /// dy/dx from the input x and the output y.
  @inline(__always)
  func derivative(x: Float, y: Float) -> Float {
    switch self {
    case .relu: return x > 0 ? 1 : 0
    case .leakyRelu(let slope): return x > 0 ? 1 : slope
    case .selu:
      return x > 0
        ? ElementwiseFunction.seluLambda
        : y + ElementwiseFunction.seluLambda * ElementwiseFunction.seluAlpha
    case .sigmoid: return y * (1 - y)
    case .log: return 1 / x
    case .exp: return y
    }
  }
}

enum ElementwiseKernel {
  static func forward(
    _ function: ElementwiseFunction, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    ThreadPool.shared.parallelFor(count, Forward(function: function, x: x, y: y))
  }

  static func backward(
    _ function: ElementwiseFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool, count: Int
  ) {
    ThreadPool.shared.parallelFor(
      count, Backward(function: function, x: x, y: y, dy: dy, dx: dx, accumulate: accumulate))
  }

  struct Forward: ParallelJob {
    let function: ElementwiseFunction
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>

    func run(_ range: Range<Int>) {
      for index in range { y[index] = function.value(x[index]) }
    }
  }

  struct Backward: ParallelJob {
    let function: ElementwiseFunction
    let x, y, dy: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    let accumulate: Bool

    func run(_ range: Range<Int>) {
      for index in range {
        let previous = accumulate ? dx[index] : 0
        dx[index] = previous + dy[index] * function.derivative(x: x[index], y: y[index])
      }
    }
  }
}

/// Softmax over the last axis of x viewed as [R, D], rows in parallel.
enum SoftmaxKernel {
  static func forward(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, features d: Int
  ) {
    ThreadPool.shared.parallelFor(rows, work: rows * d, Forward(x: x, y: y, d: d))
  }

  /// dx = y ∘ (dy − Σ dy·y).
  static func backward(
    y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int,
    features d: Int
  ) {
    ThreadPool.shared.parallelFor(rows, work: rows * d, Backward(y: y, dy: dy, dx: dx, d: d))
  }

  struct Forward: ParallelJob {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let d: Int

    func run(_ rows: Range<Int>) {
      for row in rows {
        let input = x + row * d
        let out = y + row * d
        var maximum = -Float.infinity
        for index in 0..<d { maximum = max(maximum, input[index]) }
        var sum: Float = 0
        for index in 0..<d {
          out[index] = expf(input[index] - maximum)
          sum += out[index]
        }
        let scale = 1 / sum
        for index in 0..<d { out[index] *= scale }
      }
    }
  }

  struct Backward: ParallelJob {
    let y, dy: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    let d: Int

    func run(_ rows: Range<Int>) {
      for row in rows {
        let out = y + row * d
        let gradient = dy + row * d
        var dot: Float = 0
        for index in 0..<d { dot += gradient[index] * out[index] }
        let target = dx + row * d
        for index in 0..<d { target[index] += out[index] * (gradient[index] - dot) }
      }
    }
  }
}

extension Tape {
  public func apply(_ function: ElementwiseFunction, _ x: Tensor) -> Tensor {
    let y = output(x.shape, x)
    ElementwiseKernel.forward(function, x: x.data, y: y.data, count: x.count)
    record(.elementwise(function, x: x, y: y), producing: y)
    return y
  }

  public func relu(_ x: Tensor) -> Tensor { apply(.relu, x) }
  public func leakyRelu(_ x: Tensor, slope: Float) -> Tensor { apply(.leakyRelu(slope: slope), x) }
  public func selu(_ x: Tensor) -> Tensor { apply(.selu, x) }
  public func sigmoid(_ x: Tensor) -> Tensor { apply(.sigmoid, x) }
  public func log(_ x: Tensor) -> Tensor { apply(.log, x) }
  public func exp(_ x: Tensor) -> Tensor { apply(.exp, x) }

  /// Softmax over the last axis.
  public func softmax(_ x: Tensor) -> Tensor {
    let d = x.shape.last
    let y = output(x.shape, x)
    SoftmaxKernel.forward(x: x.data, y: y.data, rows: x.count / d, features: d)
    record(.softmax(x: x, y: y), producing: y)
    return y
  }
}
