import Testing

@testable import TensorEngine

/// Keeps, for each parameter, its gradient as it stood when the observer first could call it
/// final (the backward pass had run the first op that reads it), the way a data-parallel
/// reducer decides when to send it.
final class FinalGradientRecorder: BackwardObserver {
  let parameters: [Tensor]
  var firstUse: [Int] = []
  var seen: [Int] = []
  var earlyGradients: [[Float]?] = []

  init(_ parameters: [Tensor]) { self.parameters = parameters }

  func backwardWillStart(_ tape: Tape) {
    firstUse = [Int](repeating: tape.recordedOperationCount, count: parameters.count)
    tape.forEachRecordedInput { operation, input in
      guard let position = parameters.firstIndex(where: { $0 === input }) else { return }
      firstUse[position] = min(firstUse[position], operation)
    }
    earlyGradients = [[Float]?](repeating: nil, count: parameters.count)
  }

  func backwardDidRun(operationAt index: Int) {
    seen.append(index)
    for (position, parameter) in parameters.enumerated()
    where earlyGradients[position] == nil && index <= firstUse[position] {
      earlyGradients[position] = Array(
        UnsafeBufferPointer(start: parameter.gradient!.data, count: parameter.count))
    }
  }
}

@Suite struct BackwardObserverTests {
  /// A layer applied twice (its weights read by two ops) and a parameter no op reads: each
  /// gradient the observer calls final is the one backward ends with, the ops are reported
  /// from the last to the first, and the shared layer's first use is its earlier call.
  @Test func gradientsCalledFinalDoNotChangeAfterwards() {
    var random = RandomGenerator(seed: 7)
    let input = Linear(3, 4, random: &random)
    let shared = Linear(4, 4, random: &random)
    let head = Linear(4, 1, random: &random)
    let unused = Linear(2, 2, random: &random)
    let parameters = [input, shared, head, unused].flatMap { [$0.weight, $0.bias!] }
    let tape = Tape()
    let recorder = FinalGradientRecorder(parameters)
    tape.backwardObserver = recorder
    let x = Tensor((0..<15).map { Float($0) / 15 - 0.4 }, shape: Shape(5, 3))
    let target = Tensor([0.1, -0.2, 0.3, 0.0, 0.5], shape: Shape(5, 1))
    let hidden = shared(tape.relu(shared(tape.relu(input(x, tape)), tape)), tape)
    let loss = tape.loss(.meanSquaredError, prediction: head(hidden, tape), target: target)
    tape.backward(from: loss)

    let operations = tape.recordedOperationCount
    #expect(recorder.seen == Array((0..<operations).reversed()))
    // input, then shared twice: the shared weights are first read by the second op.
    #expect(operations == 7 && recorder.firstUse[0] == 0 && recorder.firstUse[2] == 2)
    #expect(recorder.firstUse[6] == operations && recorder.firstUse[7] == operations)
    for (position, parameter) in parameters.enumerated() {
      let final = Array(
        UnsafeBufferPointer(start: parameter.gradient!.data, count: parameter.count))
      #expect(recorder.earlyGradients[position] == final, "parameter \(position)")
    }
  }
}
