/// One recorded op: its inputs, its output and what backward needs. An enum rather than
/// closures so that recording allocates nothing.
enum Operation {
  case linear(x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor)
  case conv2d(x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor, shape: ConvShape)
  case maxPool(x: Tensor, y: Tensor, shape: PoolShape)
  case averagePool(x: Tensor, y: Tensor, shape: PoolShape)
  /// `replicaRows`: rows over all replicas when the statistics were synchronised, else 0.
  case batchNorm(
    x: Tensor, gamma: Tensor, beta: Tensor, residual: Tensor?, y: Tensor, mean: Tensor,
    inverseStd: Tensor, frozen: Bool, relu: Bool, replicaRows: Int)
  case layerNorm(
    x: Tensor, gamma: Tensor, beta: Tensor, y: Tensor, mean: Tensor, inverseStd: Tensor)
  case elementwise(ElementwiseFunction, x: Tensor, y: Tensor)
  case softmax(x: Tensor, y: Tensor)
  case binary(BinaryKernel.Operation, a: Tensor, b: Tensor, y: Tensor)
  case reshape(x: Tensor, y: Tensor)
  case reduce(x: Tensor, y: Tensor, axis: Int, scale: Float)
  case concat(a: Tensor, b: Tensor, y: Tensor, axis: Int)
  case attention(
    q: Tensor, k: Tensor, v: Tensor, o: Tensor, logSumExp: Tensor, shape: AttentionShape)
  case loss(Loss, prediction: Tensor, target: Tensor, y: Tensor)
}

extension Operation {
  /// Accumulates the gradients of the inputs from the output's gradient.
  func backward(_ tape: Tape) {
    switch self {
    case .linear(let x, let weight, let bias, let y):
      guard let dy = y.liveGradientIfAny else { return }
      let k = x.shape.last
      let dx = tape.gradientDestination(x)
      LinearKernel.backward(
        x: x.data, w: weight.data, dy: dy, dx: dx?.pointer, accumulateDX: dx?.accumulate ?? true,
        dw: tape.gradientTarget(weight),
        db: tape.gradientTarget(bias), rows: x.count / k, inputs: k, outputs: weight.shape[1])

    case .conv2d(let x, let weight, let bias, let y, let shape):
      guard let dy = y.liveGradientIfAny else { return }
      let dx = tape.gradientDestination(x)
      Conv2DKernel.backward(
        x: x.data, w: weight.data, dy: dy, dx: dx?.pointer, accumulateDX: dx?.accumulate ?? true,
        dw: tape.gradientTarget(weight),
        db: tape.gradientTarget(bias), shape: shape, budget: tape.im2colBudget,
        scratch: { tape.tensor(Shape($0)).data })

    case .maxPool(let x, let y, let shape):
      guard let dy = y.liveGradientIfAny, let dx = tape.gradientTarget(x) else { return }
      MaxPoolKernel.backward(x: x.data, y: y.data, dy: dy, dx: dx, shape: shape)

    case .averagePool(let x, let y, let shape):
      guard let dy = y.liveGradientIfAny, let dx = tape.gradientTarget(x) else { return }
      AveragePoolKernel.backward(dy: dy, dx: dx, shape: shape)

    case .batchNorm(
      let x, let gamma, let beta, let residual, let y, let mean, let inverseStd, let frozen,
      let relu, let replicaRows):
      guard let dy = y.liveGradientIfAny else { return }
      let c = x.shape.last
      let m = x.count / c
      BatchNormKernel.backward(
        x: x.data, dy: dy,
        map: .init(
          gamma: gamma.data, beta: beta.data, mean: mean.data, inverseStd: inverseStd.data,
          residual: residual?.data, relu: relu),
        dx: tape.gradientDestination(x), dResidual: tape.gradientDestination(residual),
        dgamma: tape.gradientTarget(gamma), dbeta: tape.gradientTarget(beta),
        scratch: tape.tensor(Shape(BatchNormKernel.scratchCount(rows: m, channels: c))).data,
        rows: m, channels: c, frozen: frozen, replicaRows: replicaRows,
        crossReplicaSum: replicaRows > 0 ? tape.crossReplicaSum : nil)

    case .layerNorm(let x, let gamma, let beta, let y, let mean, let inverseStd):
      guard let dy = y.liveGradientIfAny else { return }
      let d = x.shape.last
      LayerNormKernel.backward(
        x: x.data, dy: dy, gamma: gamma.data, mean: mean.data, inverseStd: inverseStd.data,
        dx: tape.gradientTarget(x), dgamma: tape.gradientTarget(gamma),
        dbeta: tape.gradientTarget(beta),
        rows: x.count / d, features: d)

    case .elementwise(let function, let x, let y):
      guard let dy = y.liveGradientIfAny, let dx = tape.gradientDestination(x) else { return }
      ElementwiseKernel.backward(
        function, x: x.data, y: y.data, dy: dy, dx: dx.pointer, accumulate: dx.accumulate,
        count: x.count)

    case .softmax(let x, let y):
      guard let dy = y.liveGradientIfAny, let dx = tape.gradientTarget(x) else { return }
      let d = x.shape.last
      SoftmaxKernel.backward(y: y.data, dy: dy, dx: dx, rows: x.count / d, features: d)

    case .binary(let operation, let a, let b, let y):
      guard let dy = y.liveGradientIfAny else { return }
      BinaryKernel.backward(
        operation, a: a.data, b: b.data, dy: dy, da: tape.gradientDestination(a),
        db: tape.gradientDestination(b), count: a.count, period: b.count)

    case .reshape(let x, let y):
      guard let dy = y.liveGradientIfAny else { return }
      BinaryKernel.backward(
        .add, a: dy, b: dy, dy: dy, da: tape.gradientDestination(x), db: nil, count: x.count,
        period: x.count)

    case .reduce(let x, let y, let axis, let scale):
      guard let dy = y.liveGradientIfAny, let dx = tape.gradientTarget(x) else { return }
      ReduceKernel.backward(
        dy: dy, dx: dx, outer: x.shape.count(before: axis), axis: x.shape[axis],
        inner: x.shape.count(after: axis), scale: scale)

    case .concat(let a, let b, let y, let axis):
      guard let dy = y.liveGradientIfAny else { return }
      let inner = a.shape.count(after: axis)
      ConcatKernel.backward(
        dy: dy, da: tape.gradientTarget(a), db: tape.gradientTarget(b),
        outer: a.shape.count(before: axis),
        aBlock: a.shape[axis] * inner, bBlock: b.shape[axis] * inner)

    case .attention(let q, let k, let v, let o, let logSumExp, let shape):
      guard let dO = o.liveGradientIfAny else { return }
      let scratch = tape.tensor(
        Shape(shape.batch * shape.heads * AttentionKernel.backwardScratch(shape)))
      AttentionKernel.backward(
        q: q.data, k: k.data, v: v.data, o: o.data, dO: dO, logSumExp: logSumExp.data,
        dq: tape.gradientTarget(q), dk: tape.gradientTarget(k), dv: tape.gradientTarget(v),
        shape: shape,
        scratch: scratch.data)

    case .loss(let loss, let prediction, let target, let y):
      guard let dy = y.liveGradientIfAny, let dp = tape.gradientTarget(prediction) else { return }
      LossKernel.backward(
        loss, p: prediction.data, y: target.data, dp: dp, count: prediction.count, upstream: dy[0])
    }
  }
}

extension Operation {
  /// Calls `body` with each input of the op (not its output or saved statistics): the
  /// tensors whose gradients its backward adds to.
  func forEachInput(_ body: (Tensor) -> Void) {
    switch self {
    case .linear(let x, let weight, let bias, _), .conv2d(let x, let weight, let bias, _, _):
      body(x)
      body(weight)
      if let bias { body(bias) }
    case .batchNorm(let x, let gamma, let beta, let residual, _, _, _, _, _, _):
      body(x)
      body(gamma)
      body(beta)
      if let residual { body(residual) }
    case .layerNorm(let x, let gamma, let beta, _, _, _):
      body(x)
      body(gamma)
      body(beta)
    case .maxPool(let x, _, _), .averagePool(let x, _, _), .elementwise(_, let x, _),
      .softmax(let x, _), .reshape(let x, _), .reduce(let x, _, _, _):
      body(x)
    case .binary(_, let a, let b, _), .concat(let a, let b, _, _):
      body(a)
      body(b)
    case .attention(let q, let k, let v, _, _, _):
      body(q)
      body(k)
      body(v)
    case .loss(_, let prediction, let target, _):
      body(prediction)
      body(target)
    }
  }
}

extension Tensor {
  /// This step's gradient, or nil when nothing downstream produced one.
  var liveGradientIfAny: UnsafeMutablePointer<Float>? {
    gradientIsLive ? gradient?.data : nil
  }
}
