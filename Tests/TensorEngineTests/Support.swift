import Foundation
import Testing

@testable import TensorEngine

/// Every engine test runs its kernels split over two threads, however small the work, so
/// that the parallel paths are the ones checked.
let parallelEngine: Void = {
  ThreadPool.shared.threadCount = 2
  ThreadPool.shared.minimumParallelWork = 1
}()

/// sin(a·i + b) for i = 0..<count: the input formula shared with tools/fixtures/*.py.
func wave(
  _ shape: Shape, _ a: Double, _ b: Double, scale: Double = 1, requiresGradient: Bool = false
)
  -> Tensor
{
  _ = parallelEngine
  let values = (0..<shape.count).map { Float(sin(a * Double($0) + b) * scale) }
  return Tensor(values, shape: shape, requiresGradient: requiresGradient)
}

/// Values well away from 0 (|v| ≥ 0.1) and from each other, in a scrambled order: inputs for
/// functions with kinks (ReLU, max, |x|) so that finite differences never straddle one.
func distinct(_ shape: Shape, requiresGradient: Bool = false) -> Tensor {
  _ = parallelEngine
  let count = shape.count
  let values = (0..<count).map { index -> Float in
    let rank = (index * 7919) % count  // 7919 is prime, so this permutes 0..<count
    let value = 0.1 + 0.9 * Float(rank) / Float(max(1, count - 1))
    return rank % 2 == 0 ? value : -value
  }
  return Tensor(values, shape: shape, requiresGradient: requiresGradient)
}

/// Expected outputs computed with numpy by tools/fixtures/tensor_engine.py.
enum Fixtures {
  struct Entry: Decodable {
    let shape: [Int]
    let values: [Double]
  }

  static let tensorEngine: [String: Entry] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/tensor_engine.json")
    let data = try! Data(contentsOf: url)
    return try! JSONDecoder().decode([String: Entry].self, from: data)
  }()

  /// Checks `tensor` against fixture `name` to a relative tolerance.
  static func expect(
    _ tensor: Tensor, matches name: String, tolerance: Double = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    guard let entry = tensorEngine[name] else {
      Issue.record("no fixture \(name)", sourceLocation: sourceLocation)
      return
    }
    #expect(
      tensor.shape.dimensions == entry.shape || (entry.shape == [1] && tensor.count == 1),
      "shape \(tensor.shape) vs \(entry.shape)", sourceLocation: sourceLocation)
    guard tensor.count == entry.values.count else { return }
    var worst = 0.0
    for (index, expected) in entry.values.enumerated() {
      let error = abs(Double(tensor[index]) - expected) / max(1, abs(expected))
      worst = max(worst, error)
    }
    #expect(
      worst <= tolerance, "\(name): worst relative error \(worst)", sourceLocation: sourceLocation)
  }
}

/// Compares gradients from `Tape.backward` with central finite differences of
/// L = Σ output ∘ R, for a fixed pseudo-random R, for every tensor in `inputs` that
/// requires a gradient (up to `samples` elements of each).
func checkGradients(
  _ inputs: [Tensor], step h: Float = 1e-2, samples: Int = 48, absolute: Float = 2e-3,
  relative: Float = 2e-2, sourceLocation: SourceLocation = #_sourceLocation,
  _ build: (Tape) -> Tensor
) {
  let tape = Tape(seed: 7)
  let output = build(tape)
  let projection = wave(output.shape, 0.61, 0.3)
  tape.backward(from: output, seed: projection)
  let analytic = inputs.map { $0.gradient?.array }

  func objective() -> Double {
    let probe = Tape(seed: 7, recording: false)
    let value = build(probe)
    var total = 0.0
    for index in 0..<value.count { total += Double(value[index]) * Double(projection[index]) }
    return total
  }

  for (inputIndex, input) in inputs.enumerated() where input.requiresGradient {
    guard let gradient = analytic[inputIndex] else {
      Issue.record(
        "input \(inputIndex) \(input.shape) got no gradient", sourceLocation: sourceLocation)
      continue
    }
    let stride = max(1, input.count / samples)
    for element in Swift.stride(from: 0, to: input.count, by: stride) {
      let original = input[element]
      input[element] = original + h
      let plus = objective()
      input[element] = original - h
      let minus = objective()
      input[element] = original
      let numeric = Float((plus - minus) / Double(2 * h))
      let tolerance = absolute + relative * max(abs(numeric), abs(gradient[element]))
      #expect(
        abs(numeric - gradient[element]) <= tolerance,
        "input \(inputIndex) \(input.shape) element \(element): backward \(gradient[element]), finite difference \(numeric)",
        sourceLocation: sourceLocation)
    }
  }
}
