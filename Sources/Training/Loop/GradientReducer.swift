import Distributed
import Foundation
import TensorEngine

/// Averages parameter gradients over the ranks of a data-parallel job: gradients are packed
/// into buckets of at most `bucketFloats` values, each bucket is all-reduced (sum) in
/// place, and the result, divided by the rank count, is unpacked. Fewer, larger messages
/// than one all-reduce per tensor; the packing costs two memory copies per step. (Every
/// parameter owns a gradient buffer from its creation; the optimiser zeroes it.)
public final class GradientReducer {
  private let communicator: Communicator
  private let parameters: [Tensor]
  private var bucket: [Float]

  public init(_ communicator: Communicator, parameters: [Tensor], bucketFloats: Int) {
    self.communicator = communicator
    self.parameters = parameters
    let largest = parameters.map(\.count).max() ?? 0
    bucket = [Float](
      repeating: 0,
      count: max(1, min(bucketFloats, parameters.reduce(0) { $0 + $1.count }), largest))
  }

  /// Seconds spent in all-reduce calls since the reducer was made.
  public private(set) var communicationSeconds = 0.0

  public func averageGradients() throws(TrainingError) {
    let scale = 1 / Float(communicator.size)
    var start = 0
    while start < parameters.count {
      // Tensors [start, end) fill the next bucket.
      var end = start
      var filled = 0
      while end < parameters.count, filled + parameters[end].count <= bucket.count {
        filled += parameters[end].count
        end += 1
      }
      try bucket.withUnsafeMutableBufferPointer { (buffer) throws(TrainingError) in
        var offset = 0
        for parameter in parameters[start..<end] {
          (buffer.baseAddress! + offset).update(
            from: parameter.gradient!.data, count: parameter.count)
          offset += parameter.count
        }
        let clock = ContinuousClock()
        let begin = clock.now
        do {
          try communicator.allReduce(
            UnsafeMutableBufferPointer(rebasing: buffer[0..<filled]), .sum)
        } catch {
          throw TrainingError("\(error)")
        }
        communicationSeconds += (clock.now - begin).seconds
        offset = 0
        for parameter in parameters[start..<end] {
          let gradient = parameter.gradient!.data
          for index in 0..<parameter.count { gradient[index] = buffer[offset + index] * scale }
          offset += parameter.count
        }
      }
      start = end
    }
  }
}
