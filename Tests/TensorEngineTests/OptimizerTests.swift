import Foundation
import Testing

@testable import TensorEngine

@Suite struct OptimizerTests {
  /// θ₀ = 1, lr = 0.1, β = (0.9, 0.999), ε = 1e-8, gradients 0.5 then −1, worked by hand:
  /// step 1: m = 0.05, v = 2.5e-4, m̂ = 0.5, v̂ = 0.25, θ = 1 − 0.1·0.5/0.5 = 0.9;
  /// step 2: m = −0.055, v = 1.24975e-3, m̂ = −0.289474, v̂ = 0.625188, θ = 0.936610.
  @Test func adamMatchesTwoHandWorkedSteps() {
    let theta = Tensor([1], shape: Shape(1), requiresGradient: true)
    let adam = Adam(parameters: [theta], beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    theta.liveGradient()[0] = 0.5
    adam.update(learningRate: 0.1)
    #expect(abs(theta[0] - 0.9) < 1e-6)
    #expect(abs(adam.firstMoments[0][0] - 0.05) < 1e-7)
    #expect(abs(adam.secondMoments[0][0] - 2.5e-4) < 1e-8)  // 1 − β₂ rounds in Float32
    #expect(theta.gradient![0] == 0, "the step clears the gradient")
    theta.gradient![0] = -1
    adam.update(learningRate: 0.1)
    #expect(abs(theta[0] - 0.936_610_35) < 1e-6)
    #expect(abs(adam.firstMoments[0][0] + 0.055) < 1e-7)
    #expect(abs(adam.secondMoments[0][0] - 1.249_75e-3) < 1e-7)
    #expect(adam.step == 2)
  }

  /// 37 elements: two blocks of sixteen in vector lanes and five scalar, against the
  /// textbook update written out here.
  @Test func adamInVectorLanesMatchesTheFormula() {
    let initial = (0..<37).map { Float(sin(Double($0) * 0.7)) }
    let theta = Tensor(initial, shape: Shape(37), requiresGradient: true)
    let adam = Adam(parameters: [theta], beta1: 0.9, beta2: 0.999, epsilon: 1e-7)
    var expected = initial.map(Double.init)
    var m = [Double](repeating: 0, count: 37)
    var v = [Double](repeating: 0, count: 37)
    for step in 1...3 {
      for index in 0..<37 {
        let g = cos(Double(index) * 0.3 + Double(step))
        theta.liveGradient()[index] = Float(g)
        m[index] = 0.9 * m[index] + 0.1 * g
        v[index] = 0.999 * v[index] + 0.001 * g * g
        let mHat = m[index] / (1 - pow(0.9, Double(step)))
        let vHat = v[index] / (1 - pow(0.999, Double(step)))
        expected[index] -= 0.01 * mHat / (vHat.squareRoot() + 1e-7)
      }
      adam.update(learningRate: 0.01)
    }
    for index in 0..<37 {
      #expect(abs(Double(theta[index]) - expected[index]) < 1e-5, "element \(index)")
    }
    #expect(theta.gradient!.array.allSatisfy { $0 == 0 })
  }

  /// b = 0.9·b + g, θ −= 0.1·b with gradients 0.5, −1: θ = 0.95, then b = −0.55, θ = 1.005.
  @Test func sgdWithMomentumByHand() {
    let theta = Tensor([1], shape: Shape(1), requiresGradient: true)
    let sgd = SGD(parameters: [theta], momentum: 0.9)
    theta.liveGradient()[0] = 0.5
    sgd.update(learningRate: 0.1)
    #expect(abs(theta[0] - 0.95) < 1e-7)
    theta.gradient![0] = -1
    sgd.update(learningRate: 0.1)
    #expect(abs(theta[0] - 1.005) < 1e-6)
    #expect(abs(sgd.velocities[0][0] + 0.55) < 1e-7)
  }

  @Test func exponentialDecayContinuousAndStaircase() {
    let continuous = ExponentialDecay(initial: 1e-3, rate: 0.9, decaySteps: 100, staircase: false)
    let staircase = ExponentialDecay(initial: 1e-3, rate: 0.9, decaySteps: 100, staircase: true)
    #expect(continuous.learningRate(at: 0) == 1e-3)
    #expect(abs(continuous.learningRate(at: 150) - 1e-3 * Float(pow(0.9, 1.5))) < 1e-10)
    #expect(staircase.learningRate(at: 99) == 1e-3)
    #expect(abs(staircase.learningRate(at: 100) - 9e-4) < 1e-10)
    #expect(abs(staircase.learningRate(at: 250) - 8.1e-4) < 1e-10)
  }

  @Test func gradientsAccumulateAcrossBackwardPassesUntilTheStep() {
    let w = Tensor([2], shape: Shape(1, 1), requiresGradient: true)
    let x = Tensor([3], shape: Shape(1, 1))
    for _ in 0..<2 {
      let tape = Tape()
      tape.backward(from: tape.linear(x, weight: w, bias: nil))
    }
    #expect(w.gradient!.array == [6], "two passes of d(x·w)/dw = 3")
    SGD(parameters: [w]).update(learningRate: 0.5)
    #expect(w.array == [-1])
    #expect(w.gradient!.array == [0])
  }
}
