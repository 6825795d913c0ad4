#if canImport(Glibc)
  import Glibc
#endif

/// Adam (Kingma & Ba, Algorithm 1): bias-corrected first and second moments, with ε added
/// to √v̂. Each step applies the accumulated gradients and clears them.
public final class Adam {
  public let parameters: [Tensor]
  public let beta1: Float
  public let beta2: Float
  public let epsilon: Float
  /// First and second moments, one pair per parameter (checkpointed with the weights).
  public let firstMoments: [Tensor]
  public let secondMoments: [Tensor]
  /// Steps taken so far.
  public var step = 0

  public init(parameters: [Tensor], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7)
  {
    self.parameters = parameters
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    firstMoments = parameters.map { Tensor(zeros: $0.shape) }
    secondMoments = parameters.map { Tensor(zeros: $0.shape) }
  }

  public func update(learningRate: Float) {
    step += 1
    let correction1 = 1 - powf(beta1, Float(step))
    let correction2 = 1 - powf(beta2, Float(step))
    for (index, parameter) in parameters.enumerated() {
      guard let gradient = parameter.gradient else { continue }
      let job = AdamUpdate(
        theta: parameter.data, gradient: gradient.data, m: firstMoments[index].data,
        v: secondMoments[index].data, learningRate: learningRate, beta1: beta1, beta2: beta2,
        epsilon: epsilon, correction1: correction1, correction2: correction2)
      ThreadPool.shared.parallelFor(parameter.count, job)
    }
  }
}

/// Adam's update of one parameter over a range of its elements; clears the gradient.
struct AdamUpdate: ParallelJob {
  let theta, gradient, m, v: UnsafeMutablePointer<Float>
  let learningRate, beta1, beta2, epsilon, correction1, correction2: Float

  func run(_ range: Range<Int>) {
    let (b1, b2) = (Lanes(repeating: beta1), Lanes(repeating: beta2))
    let step = learningRate / correction1
    let inverseCorrection2 = 1 / correction2
    var element = range.lowerBound
    while element + 16 <= range.upperBound {
      let g = gradient.lanes(at: element)
      let mNew = b1 * m.lanes(at: element) + (1 - b1) * g
      let vNew = b2 * v.lanes(at: element) + (1 - b2) * g * g
      m.store(mNew, at: element)
      v.store(vNew, at: element)
      let update = step * mNew / ((vNew * inverseCorrection2).squareRoot() + epsilon)
      theta.store(theta.lanes(at: element) - update, at: element)
      gradient.store(Lanes(), at: element)
      element += 16
    }
    for element in element..<range.upperBound {
      let g = gradient[element]
      m[element] = beta1 * m[element] + (1 - beta1) * g
      v[element] = beta2 * v[element] + (1 - beta2) * g * g
      let mHat = m[element] / correction1
      let vHat = v[element] / correction2
      theta[element] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
      gradient[element] = 0
    }
  }
}

/// Stochastic gradient descent with (heavy-ball) momentum: b = μ·b + g, θ −= lr·b.
/// Each step applies the accumulated gradients and clears them.
public final class SGD {
  public let parameters: [Tensor]
  public let momentum: Float
  public let velocities: [Tensor]

  public init(parameters: [Tensor], momentum: Float = 0) {
    self.parameters = parameters
    self.momentum = momentum
    velocities = parameters.map { Tensor(zeros: $0.shape) }
  }

  public func update(learningRate: Float) {
    for (index, parameter) in parameters.enumerated() {
      guard let gradient = parameter.gradient else { continue }
      let b = velocities[index].data
      let g = gradient.data
      let theta = parameter.data
      for element in 0..<parameter.count {
        b[element] = momentum * b[element] + g[element]
        theta[element] -= learningRate * b[element]
      }
      gradient.fill(0)
    }
  }
}

/// lr(step) = initial · rate^(step / decaySteps), the exponent floored when `staircase`.
public struct ExponentialDecay: Equatable, Sendable {
  public var initial: Float
  public var rate: Float
  public var decaySteps: Int
  public var staircase: Bool

  public init(initial: Float, rate: Float, decaySteps: Int, staircase: Bool) {
    self.initial = initial
    self.rate = rate
    self.decaySteps = decaySteps
    self.staircase = staircase
  }

  public func learningRate(at step: Int) -> Float {
    let exponent = Double(step) / Double(decaySteps)
    return initial * Float(pow(Double(rate), staircase ? exponent.rounded(.down) : exponent))
  }
}
