import ArgumentParser
import Distributed
import Foundation
import Models
import TensorEngine
import Training

/// What `bench --allreduce` measures on the susceptibility network trained data-parallel:
/// how long a step waits for the gradient all-reduce that runs behind its backward pass.
struct DataParallelResult: Encodable {
  let ranks: Int
  let threads: Int
  let batch: Int
  let samplesPerSecond: Double
  let stepMilliseconds: Double
  /// Time a step spends in `averageGradients` waiting for transfers still in flight.
  let waitMilliseconds: Double
  let waitShare: Double
  let buckets: Int
  /// Of a step's buckets, those whose all-reduce started while backward was still running.
  let bucketsStartedInBackward: Double
  /// One blocking MPI_Allreduce of all the gradients' floats, best of ten.
  let bareAllReduceMilliseconds: Double
  /// Largest difference between the overlapped averages and those of one blocking
  /// all-reduce of the same gradients (0: bitwise the same).
  let maxDifference: Double
  let blasCore: String
  let isa: String

  enum CodingKeys: String, CodingKey {
    case ranks, threads, batch, buckets, isa
    case samplesPerSecond = "samples_per_s"
    case stepMilliseconds = "step_ms"
    case waitMilliseconds = "allreduce_wait_ms"
    case waitShare = "allreduce_wait_share"
    case bucketsStartedInBackward = "buckets_started_in_backward"
    case bareAllReduceMilliseconds = "bare_allreduce_ms"
    case maxDifference = "max_difference"
    case blasCore = "blas_core"
  }

  var line: String {
    "\(ranks) ranks × \(threads) thread(s), global batch \(batch): "
      + String(
        format: "%.1f ms per step (%.2f samples/s), waiting for the all-reduce %.2f ms (%.1f %%); "
          + "%d buckets, %.1f started during backward; bare MPI_Allreduce %.1f ms; overlapped "
          + "averages vs blocking: max difference %g",
        stepMilliseconds, samplesPerSecond, waitMilliseconds, 100 * waitShare, buckets,
        bucketsStartedInBackward, bareAllReduceMilliseconds, maxDifference)
  }
}

extension Bench {
  /// Trains the susceptibility network (`--blocks`; `--batch` is the global batch, split
  /// over the ranks) under mpirun with its gradient all-reduce behind backward, as training
  /// does it; checks once that the overlapped averages equal a blocking all-reduce's.
  func dataParallelResult() throws -> DataParallelResult? {
    let world = try MPIRuntime.initialize()
    defer { MPIRuntime.finalize() }
    let global = batch ?? 16
    guard global % world.size == 0 else {
      throw ValidationError("--batch \(global) does not split evenly over \(world.size) ranks")
    }
    var random = RandomGenerator(seed: 1)
    let model = SusceptibilityNetwork(
      SusceptibilityArchitecture(blocksPerStage: blockCounts), random: &random)
    let parameters = model.parameters
    let perRank = global / world.size
    let x = Self.inputs(Shape(perRank, 128, 128, 13), seed: 3 + UInt64(world.rank))
    let labels = Self.labels(Shape(perRank, 4, 4, 1), seed: 4 + UInt64(world.rank))
    let adam = Adam(parameters: parameters)
    let tape = Tape(seed: 2)
    let reducer = GradientReducer(world, parameters: parameters, bucketFloats: bucketMB << 18)
    func forwardBackward() {
      tape.reset()
      tape.backward(
        from: tape.loss(.focalTversky(), prediction: model(x, tape), target: labels))
    }
    func gradients() -> [Float] {
      parameters.flatMap { UnsafeBufferPointer(start: $0.gradient!.data, count: $0.count) }
    }

    // The check: one step's gradients averaged by a blocking all-reduce, then overlapped.
    let dropout = tape.random
    forwardBackward()
    var expected = gradients()
    try world.allReduce(&expected, .sum)
    for parameter in parameters { parameter.gradient!.fill(0) }
    tape.random = dropout
    tape.backwardObserver = reducer
    forwardBackward()
    try reducer.averageGradients()
    let scale = 1 / Float(world.size)
    let difference = zip(gradients(), expected).reduce(0) { max($0, abs($1.0 - $1.1 * scale)) }
    for parameter in parameters { parameter.gradient!.fill(0) }

    func step() throws {
      forwardBackward()
      try reducer.averageGradients()
      adam.update(learningRate: 1e-3)
    }
    for _ in 0..<warmup { try step() }
    let steps = self.steps ?? Self.defaultSteps[.susceptibility]!
    let (waitBefore, startedBefore) = (reducer.waitSeconds, reducer.bucketsStartedInBackward)
    let clock = ContinuousClock()
    try world.barrier()
    let start = clock.now
    for _ in 0..<steps { try step() }
    let seconds = (clock.now - start).seconds
    let wait = reducer.waitSeconds - waitBefore
    let started = reducer.bucketsStartedInBackward - startedBefore

    var flat = [Float](repeating: 1, count: model.parameterCount)
    var bare = Double.infinity
    for _ in 0..<10 {
      try world.barrier()
      let begin = clock.now
      try world.allReduce(&flat, .sum)
      bare = min(bare, (clock.now - begin).seconds)
    }
    // Every rank's worst wait and difference, reported by rank 0.
    var worst = [wait, Double(difference)]
    try world.allReduce(&worst, .max)
    guard world.rank == 0 else { return nil }
    let compute = ComputeReport.current
    return DataParallelResult(
      ranks: world.size, threads: threads, batch: global,
      samplesPerSecond: (Double(global * steps) / seconds).rounded(to: 3),
      stepMilliseconds: (seconds / Double(steps) * 1000).rounded(to: 2),
      waitMilliseconds: (worst[0] / Double(steps) * 1000).rounded(to: 3),
      waitShare: (worst[0] / seconds).rounded(to: 4), buckets: reducer.bucketCount,
      bucketsStartedInBackward: Double(started) / Double(steps),
      bareAllReduceMilliseconds: (bare * 1000).rounded(to: 2), maxDifference: worst[1],
      blasCore: compute.blasCore, isa: compute.isa)
  }
}
