#if canImport(Glibc)
  import Glibc
#endif

/// The losses of the papers. Each reduces a prediction and a target of the same shape to
/// one number; targets get no gradient.
public enum Loss: Equatable, Sendable {
  /// Binary cross-entropy on logits z, computed stably as max(z, 0) − z·y + log(1 + e^−|z|).
  /// Each element is weighted by `positiveWeight` where y = 1 and `negativeWeight` where
  /// y = 0 (linearly between, for soft labels); the sum is divided by the element count,
  /// as Keras does with class weights.
  case binaryCrossEntropyWithLogits(positiveWeight: Float = 1, negativeWeight: Float = 1)
  /// Binary cross-entropy on probabilities, clipped to [ε, 1 − ε] (Keras: ε = 1e-7);
  /// weights as above. Clipped elements get no gradient.
  case binaryCrossEntropy(
    positiveWeight: Float = 1, negativeWeight: Float = 1, epsilon: Float = 1e-7)
  /// Focal Tversky over all elements: TI = (TP + ε)/(TP + α·FP + β·FN + ε), loss = (1 − TI)^γ,
  /// with TP = Σ y·p, FP = Σ (1 − y)·p, FN = Σ y·(1 − p).
  case focalTversky(alpha: Float = 0.3, beta: Float = 0.7, gamma: Float = 1, epsilon: Float = 1e-6)
  /// Mean absolute error.
  case meanAbsoluteError
  /// Mean squared error.
  case meanSquaredError
}

enum LossKernel {
  static func weight(_ y: Float, _ positive: Float, _ negative: Float) -> Float {
    y * positive + (1 - y) * negative
  }

  /// The Tversky sums (TP, FP, FN), accumulated in Double.
  static func tverskySums(p: UnsafePointer<Float>, y: UnsafePointer<Float>, count: Int) -> (
    Double, Double, Double
  ) {
    var tp = 0.0
    var fp = 0.0
    var fn = 0.0
    for index in 0..<count {
      let prediction = Double(p[index])
      let target = Double(y[index])
      tp += target * prediction
      fp += (1 - target) * prediction
      fn += target * (1 - prediction)
    }
    return (tp, fp, fn)
  }

  static func forward(_ loss: Loss, p: UnsafePointer<Float>, y: UnsafePointer<Float>, count: Int)
    -> Float
  {
    var total = 0.0
    switch loss {
    case .binaryCrossEntropyWithLogits(let positive, let negative):
      for index in 0..<count {
        let z = p[index]
        let target = y[index]
        let value = max(z, 0) - z * target + log1pf(expf(-abs(z)))
        total += Double(weight(target, positive, negative) * value)
      }
    case .binaryCrossEntropy(let positive, let negative, let epsilon):
      for index in 0..<count {
        let q = min(max(p[index], epsilon), 1 - epsilon)
        let target = y[index]
        let value = -(target * logf(q) + (1 - target) * logf(1 - q))
        total += Double(weight(target, positive, negative) * value)
      }
    case .focalTversky(let alpha, let beta, let gamma, let epsilon):
      let (tp, fp, fn) = tverskySums(p: p, y: y, count: count)
      let e = Double(epsilon)
      let index = (tp + e) / (tp + Double(alpha) * fp + Double(beta) * fn + e)
      return Float(pow(1 - index, Double(gamma)))
    case .meanAbsoluteError:
      for index in 0..<count { total += Double(abs(p[index] - y[index])) }
    case .meanSquaredError:
      for index in 0..<count {
        let difference = Double(p[index] - y[index])
        total += difference * difference
      }
    }
    return Float(total / Double(count))
  }

  /// dp += upstream · dLoss/dp.
  static func backward(
    _ loss: Loss, p: UnsafePointer<Float>, y: UnsafePointer<Float>, dp: UnsafeMutablePointer<Float>,
    count: Int, upstream: Float
  ) {
    let scale = upstream / Float(count)
    switch loss {
    case .binaryCrossEntropyWithLogits(let positive, let negative):
      for index in 0..<count {
        let z = p[index]
        let sigmoid = z >= 0 ? 1 / (1 + expf(-z)) : expf(z) / (1 + expf(z))
        dp[index] += scale * weight(y[index], positive, negative) * (sigmoid - y[index])
      }
    case .binaryCrossEntropy(let positive, let negative, let epsilon):
      for index in 0..<count where p[index] > epsilon && p[index] < 1 - epsilon {
        let q = p[index]
        let target = y[index]
        dp[index] +=
          scale * weight(target, positive, negative) * (-(target / q) + (1 - target) / (1 - q))
      }
    case .focalTversky(let alpha, let beta, let gamma, let epsilon):
      let (tp, fp, fn) = tverskySums(p: p, y: y, count: count)
      let e = Double(epsilon)
      let numerator = tp + e
      let denominator = tp + Double(alpha) * fp + Double(beta) * fn + e
      let index = numerator / denominator
      // d loss/d TI = −γ (1 − TI)^(γ − 1); dTP/dp = y, dFP/dp = 1 − y, dFN/dp = −y.
      let outer = -Double(gamma) * pow(1 - index, Double(gamma) - 1) * Double(upstream)
      for element in 0..<count {
        let target = Double(y[element])
        let dDenominator = target + Double(alpha) * (1 - target) - Double(beta) * target
        let dIndex = (target * denominator - numerator * dDenominator) / (denominator * denominator)
        dp[element] += Float(outer * dIndex)
      }
    case .meanAbsoluteError:
      for index in 0..<count {
        let difference = p[index] - y[index]
        dp[index] += difference > 0 ? scale : difference < 0 ? -scale : 0
      }
    case .meanSquaredError:
      for index in 0..<count { dp[index] += 2 * scale * (p[index] - y[index]) }
    }
  }
}

extension Tape {
  /// The loss of `prediction` against `target` (same element count) as a one-element tensor.
  public func loss(_ loss: Loss, prediction: Tensor, target: Tensor) -> Tensor {
    precondition(
      prediction.count == target.count,
      "loss: prediction \(prediction.shape), target \(target.shape)")
    let y = output(Shape(), prediction)
    y[0] = LossKernel.forward(loss, p: prediction.data, y: target.data, count: prediction.count)
    record(.loss(loss, prediction: prediction, target: target, y: y), producing: y)
    return y
  }
}
