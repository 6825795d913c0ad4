/// Reductions and rearrangements, each over a tensor viewed as [outer, axis, inner].
enum ReduceKernel {
  /// y[o, i] = scale · Σ_a x[o, a, i].
  static func forward(
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int,
    scale: Float
  ) {
    y.update(repeating: 0, count: outer * inner)
    for o in 0..<outer {
      let out = y + o * inner
      for a in 0..<axis {
        let input = x + (o * axis + a) * inner
        for i in 0..<inner { out[i] += input[i] }
      }
      for i in 0..<inner { out[i] *= scale }
    }
  }

  static func backward(
    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int,
    scale: Float
  ) {
    for o in 0..<outer {
      let gradient = dy + o * inner
      for a in 0..<axis {
        let target = dx + (o * axis + a) * inner
        for i in 0..<inner { target[i] += scale * gradient[i] }
      }
    }
  }
}

enum ConcatKernel {
  /// y[o, :na + nb, i] = a[o, :na, i] ‖ b[o, :nb, i], for blocks of `inner` elements.
  static func forward(
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int,
    aBlock: Int, bBlock: Int
  ) {
    for o in 0..<outer {
      (y + o * (aBlock + bBlock)).update(from: a + o * aBlock, count: aBlock)
      (y + o * (aBlock + bBlock) + aBlock).update(from: b + o * bBlock, count: bBlock)
    }
  }

  static func backward(
    dy: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
    outer: Int, aBlock: Int, bBlock: Int
  ) {
    for o in 0..<outer {
      let row = dy + o * (aBlock + bBlock)
      if let da { for index in 0..<aBlock { da[o * aBlock + index] += row[index] } }
      if let db { for index in 0..<bBlock { db[o * bBlock + index] += row[aBlock + index] } }
    }
  }
}

extension Tape {
  /// The same elements with another shape (no copy).
  public func reshape(_ x: Tensor, _ shape: Shape) -> Tensor {
    precondition(
      shape.count == x.count, "reshape: \(x.shape) has \(x.count) elements, not \(shape.count)")
    let y = view(x, as: shape)
    record(.reshape(x: x, y: y), producing: y)
    return y
  }

  /// Σ over `axis` (removed), times `scale`.
  func reduce(_ x: Tensor, axis: Int, scale: Float) -> Tensor {
    precondition(axis >= 0 && axis < x.shape.rank, "reduce: axis \(axis) of \(x.shape)")
    let y = output(x.shape.removing(axis), x)
    ReduceKernel.forward(
      x: x.data, y: y.data, outer: x.shape.count(before: axis), axis: x.shape[axis],
      inner: x.shape.count(after: axis), scale: scale)
    record(.reduce(x: x, y: y, axis: axis, scale: scale), producing: y)
    return y
  }

  public func sum(_ x: Tensor, axis: Int) -> Tensor { reduce(x, axis: axis, scale: 1) }

  public func mean(_ x: Tensor, axis: Int) -> Tensor {
    reduce(x, axis: axis, scale: 1 / Float(x.shape[axis]))
  }

  /// Σ of every element, as a one-element tensor.
  public func sum(_ x: Tensor) -> Tensor { sum(reshape(x, Shape(x.count)), axis: 0) }

  /// Global average pooling of NHWC images over space: [N, H, W, C] → [N, C].
  public func globalAveragePool2d(_ x: Tensor) -> Tensor {
    precondition(x.shape.rank == 4, "globalAveragePool2d: x \(x.shape)")
    return mean(reshape(x, Shape(x.shape[0], x.shape[1] * x.shape[2], x.shape[3])), axis: 1)
  }

  /// Concatenation along `axis`; the other axes must agree.
  public func concat(_ a: Tensor, _ b: Tensor, axis: Int) -> Tensor {
    precondition(a.shape.rank == b.shape.rank, "concat: \(a.shape) and \(b.shape)")
    for other in 0..<a.shape.rank where other != axis {
      precondition(
        a.shape[other] == b.shape[other], "concat on axis \(axis): \(a.shape) and \(b.shape)")
    }
    let y = output(a.shape.replacing(axis, with: a.shape[axis] + b.shape[axis]), a, b)
    let inner = a.shape.count(after: axis)
    ConcatKernel.forward(
      a: a.data, b: b.data, y: y.data, outer: a.shape.count(before: axis),
      aBlock: a.shape[axis] * inner, bBlock: b.shape[axis] * inner)
    record(.concat(a: a, b: b, y: y, axis: axis), producing: y)
    return y
  }
}
