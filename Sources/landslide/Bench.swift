import ArgumentParser
import Distributed
import Foundation
import GeoData
import Models
import TensorEngine
import Training

#if canImport(Glibc)
  import Glibc
#endif

/// `landslide bench`: training throughput of the papers' networks, printed, never asserted.
/// Run it on a release build (`swift build -c release`).
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure training throughput, FLOP rate, memory and allocations of the networks.",
    discussion: """
      Each network runs in its own process so that its peak memory is its own. Heap \
      allocations are counted by preloading libLandslideAllocationCounter.so from the \
      build directory; without it they are reported as -1.
      """)

  enum Network: String, CaseIterable, ExpressibleByArgument {
    case susceptibility, density, transformer, all
  }

  @Option(help: "susceptibility, density, transformer or all.")
  var network: Network = .all

  @Option(help: "Batch size (default: 16, 128 and 16 for the three networks).")
  var batch: Int?

  @Option(help: "Timed training steps per network (default: 5, 30 and 3 for the three).")
  var steps: Int?

  @Option(help: "Untimed steps first (the first step allocates the reusable buffers).")
  var warmup = 2

  @Option(help: "Compute threads (default: every core this process may use).")
  var threads = ComputeThreads.available

  @Option(help: "Samples per waveform record (T) for the transformer.")
  var length = 6513

  @Option(help: "Susceptibility blocks per stage, e.g. 3,4,6,3.")
  var blocks = "3,4,6,3"

  @Flag(help: "Measure the sgemm peak (GFLOP/s of large square products) instead.")
  var sgemm = false

  @Option(
    help: ArgumentHelp(
      "Measure sample assembly from prepared shards instead (samples/s on one core).",
      valueName: "shard-directory"))
  var shards: String?

  @Flag(
    help: """
      Under mpirun: train the susceptibility network (--blocks; --batch is the global batch) \
      data-parallel and report how long a step waits for the gradient all-reduce that runs \
      behind backward, beside one bare MPI_Allreduce of the same bytes; the overlapped \
      averages are checked against blocking ones.
      """)
  var allreduce = false

  @Option(name: .customLong("bucket-mb"), help: "Gradient bucket size in MB for --allreduce.")
  var bucketMB = 25

  @Flag(help: "Print one JSON object per line and network.")
  var json = false

  @Flag(help: "Also print where a step's time goes, per kind of op, forward and backward.")
  var profile = false

  /// Set on the per-network child processes of `--network all`: no table header.
  @Flag(help: .hidden)
  var rowOnly = false

  func validate() throws {
    guard steps ?? 1 > 0, warmup > 0, threads > 0, length > 0, batch ?? 1 > 0 else {
      throw ValidationError("--steps, --warmup, --threads, --length and --batch must be positive")
    }
    guard blockCounts.count == 4, blockCounts.allSatisfy({ $0 >= 1 }) else {
      throw ValidationError(
        "--blocks: expected four positive counts such as 3,4,6,3, found '\(blocks)'")
    }
  }

  var blockCounts: [Int] { blocks.split(separator: ",").compactMap { Int($0) } }

  func run() throws {
    try AllocationCounter.preloadIfAvailable()
    ThreadPool.shared.threadCount = threads
    if allreduce {
      guard let result = try dataParallelResult() else { return }
      print(json ? Self.encodedLine(result) : result.line)
      return
    }
    if let shards {
      let rate = try Self.assemblyRate(shards)
      if json {
        print(
          #"{"network":"assembly","threads":1,"samples_per_s":\#(rate.rounded(to: 1)),"#
            + Self.computeKeys + "}")
      } else {
        print("sample assembly: \(rate.rounded(to: 1)) samples/s on one core")
      }
      return
    }
    if sgemm {
      let rate = Self.sgemmRate()
      if json {
        print(
          #"{"network":"sgemm","threads":\#(threads),"gflops":\#(rate.rounded(to: 1)),"#
            + Self.computeKeys + "}")
      } else {
        print("sgemm peak: \(rate.rounded(to: 1)) GFLOP/s with \(threads) thread(s)")
      }
      return
    }
    if network == .all {
      if !json { print(BenchResult.header) }
      for single in [Network.susceptibility, .density, .transformer] { try runChild(single) }
      return
    }
    let result = measure(network)
    if json {
      print(Self.encodedLine(result))
    } else {
      print(rowOnly ? result.row : BenchResult.header + "\n" + result.row)
    }
  }

  /// Runs one network in a child process with the same options.
  private func runChild(_ single: Network) throws {
    var arguments = [
      "bench", "--network", single.rawValue, "--warmup", "\(warmup)",
      "--threads", "\(threads)", "--length", "\(length)", "--blocks", blocks,
    ]
    if let batch { arguments += ["--batch", "\(batch)"] }
    if let steps { arguments += ["--steps", "\(steps)"] }
    if profile { arguments.append("--profile") }
    arguments.append(json ? "--json" : "--row-only")
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = arguments
    try child.run()
    child.waitUntilExit()
    guard child.terminationStatus == 0 else { throw ExitCode(child.terminationStatus) }
  }

  private func measure(_ network: Network) -> BenchResult {
    var random = RandomGenerator(seed: 1)
    let tape = Tape(seed: 2)
    let step: () -> Void
    let optimizer: Adam
    let parameters: Int
    let batchSize: Int
    switch network {
    case .susceptibility, .all:
      batchSize = batch ?? 16
      let model = SusceptibilityNetwork(
        SusceptibilityArchitecture(blocksPerStage: blockCounts), random: &random)
      let x = Self.inputs(Shape(batchSize, 128, 128, 13))
      let labels = Self.labels(Shape(batchSize, 4, 4, 1))
      let adam = Adam(parameters: model.parameters)
      optimizer = adam
      parameters = model.parameterCount
      step = {
        tape.reset()
        let loss = tape.loss(.focalTversky(), prediction: model(x, tape), target: labels)
        tape.backward(from: loss)
        adam.update(learningRate: 1e-3)
      }
    case .density:
      batchSize = batch ?? 128
      let model = DensityNetwork(random: &random)
      let x = Self.inputs(Shape(batchSize, 32, 32, 13))
      let targets = Self.inputs(Shape(batchSize, 1))
      let adam = Adam(parameters: model.parameters)
      optimizer = adam
      parameters = model.parameterCount
      step = {
        tape.reset()
        let loss = tape.loss(.meanAbsoluteError, prediction: model(x, tape), target: targets)
        tape.backward(from: loss)
        adam.update(learningRate: 1e-3)
      }
    case .transformer:
      batchSize = batch ?? 16
      let model = WaveformTransformer(length: length, random: &random)
      let series = Self.inputs(Shape(batchSize, length, 3))
      let covariates = Self.inputs(Shape(batchSize, 5))
      let labels = Self.labels(Shape(batchSize, 1))
      let adam = Adam(parameters: model.parameters)
      optimizer = adam
      parameters = model.parameterCount
      step = {
        tape.reset()
        let logits = model.logits(series: series, static: covariates, tape)
        let loss = tape.loss(
          .binaryCrossEntropyWithLogits(positiveWeight: 9, negativeWeight: 1), prediction: logits,
          target: labels)
        tape.backward(from: loss)
        adam.update(learningRate: 1e-3)
      }
    }
    let steps = self.steps ?? Self.defaultSteps[network]!
    for _ in 0..<warmup { step() }
    if profile { tape.profile = Profile() }
    let allocationsBefore = AllocationCounter.count
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<steps { step() }
    let seconds = (clock.now - start).seconds
    let allocationsAfter = AllocationCounter.count
    if let profile = tape.profile {
      let optimizerStart = clock.now
      for _ in 0..<steps { optimizer.update(learningRate: 0) }
      let optimizerSeconds = (clock.now - optimizerStart).seconds
      Self.printProfile(profile, optimizerSeconds: optimizerSeconds, steps: steps, seconds: seconds)
    }
    let compute = ComputeReport.current
    return BenchResult(
      network: network.rawValue, params: parameters, batch: batchSize, threads: threads,
      samplesPerSecond: (Double(batchSize * steps) / seconds).rounded(to: 3),
      gflops: (3 * Double(tape.forwardFLOPs) * Double(steps) / seconds / 1e9).rounded(to: 2),
      peakRSSMegabytes: Self.peakResidentMegabytes.rounded(to: 1),
      allocationsPerStep: allocationsBefore.flatMap { before in
        allocationsAfter.map { (Double($0 - before) / Double(steps)).rounded(to: 2) }
      } ?? -1, blasCore: compute.blasCore, isa: compute.isa)
  }

  /// Milliseconds per step by op kind; to stderr, so that --json output stays clean.
  static func printProfile(
    _ profile: Profile, optimizerSeconds: Double, steps: Int, seconds: Double
  ) {
    var lines = ["op kind         forward ms  backward ms   share"]
    let total = seconds / Double(steps) * 1000
    var accounted = 0.0
    for kind in Profile.Kind.allCases {
      let forward = profile.forwardSeconds[kind.rawValue] / Double(steps) * 1000
      let backward = profile.backwardSeconds[kind.rawValue] / Double(steps) * 1000
      guard forward + backward > 0 else { continue }
      accounted += forward + backward
      lines.append(profileLine("\(kind)", forward, backward, total))
    }
    let optimizer = optimizerSeconds / Double(steps) * 1000
    lines.append(profileLine("optimizer", optimizer, 0, total))
    lines.append(profileLine("other", max(0, total - accounted - optimizer), 0, total))
    lines.append("step total: \(total.rounded(to: 1)) ms")
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
  }

  private static func profileLine(
    _ name: String, _ forward: Double, _ backward: Double, _ total: Double
  )
    -> String
  {
    let share = (forward + backward) / total * 100
    return name.padding(toLength: 14, withPad: " ", startingAt: 0)
      + String(format: "%11.1f  %11.1f  %5.1f %%", forward, backward, share)
  }

  /// Enough steps for a stable figure in a few seconds each.
  static let defaultSteps: [Network: Int] = [.susceptibility: 5, .density: 30, .transformer: 3]

  /// Deterministic inputs in [0, 1), like min–max normalised predictors.
  static func inputs(_ shape: Shape, seed: UInt64 = 3) -> Tensor {
    var random = RandomGenerator(seed: seed)
    let tensor = Tensor(zeros: shape)
    for index in 0..<tensor.count { tensor[index] = random.nextUniform() }
    return tensor
  }

  /// Binary labels with about 15 % positives, as in the papers' data.
  static func labels(_ shape: Shape, seed: UInt64 = 4) -> Tensor {
    var random = RandomGenerator(seed: seed)
    let tensor = Tensor(zeros: shape)
    for index in 0..<tensor.count { tensor[index] = random.nextUniform() < 0.15 ? 1 : 0 }
    return tensor
  }

  static var peakResidentMegabytes: Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux
  }

  /// Normalised training samples assembled per second from memory-mapped shards, on the
  /// calling thread, in a shuffled order (as training reads them) for at least 3 seconds.
  static func assemblyRate(_ directory: String) throws -> Double {
    let set = try ShardSet(directory: directory)
    let count = set.samples[.train]?.count ?? 0
    guard count > 0 else { throw ValidationError("\(directory): no training samples") }
    var random = RandomGenerator(seed: 5)
    let order = (0..<count).shuffled(using: &random)
    let input = Tensor(zeros: set.inputShape)
    let labels = Tensor(zeros: Shape(set.prepared.patchCells * set.prepared.patchCells * 3))
    let clock = ContinuousClock()
    let start = clock.now
    var assembled = 0
    while (clock.now - start).seconds < 3 {
      try set.assemble(.train, order[assembled % count], input: input.data, labels: labels.data)
      assembled += 1
    }
    return Double(assembled) / (clock.now - start).seconds
  }

  /// GFLOP/s of 2048³ products, best of five.
  static func sgemmRate() -> Double {
    let n = 2048
    let a = inputs(Shape(n, n))
    let b = inputs(Shape(n, n))
    let c = Tensor(zeros: Shape(n, n))
    let clock = ContinuousClock()
    var best = 0.0
    for _ in 0..<5 {
      let start = clock.now
      gemm(.none, .none, m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n)
      best = max(best, 2 * Double(n * n * n) / (clock.now - start).seconds / 1e9)
    }
    return best
  }
}

/// One network's figures.
struct BenchResult: Encodable {
  let network: String
  let params: Int
  let batch: Int
  let threads: Int
  let samplesPerSecond: Double
  let gflops: Double
  let peakRSSMegabytes: Double
  let allocationsPerStep: Double
  /// The OpenBLAS kernel and our kernels' vector instructions the figures were made with.
  let blasCore: String
  let isa: String

  enum CodingKeys: String, CodingKey {
    case network, params, batch, threads
    case samplesPerSecond = "samples_per_s"
    case gflops
    case peakRSSMegabytes = "peak_rss_mb"
    case allocationsPerStep = "allocs_per_step"
    case blasCore = "blas_core"
    case isa
  }

  static let header =
    "network         params        batch  threads  samples/s   GFLOP/s  peak RSS MB  allocs/step"

  var row: String {
    func pad(_ text: String, _ width: Int) -> String {
      text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
    return pad(network, 16) + pad("\(params)", 14) + pad("\(batch)", 7) + pad("\(threads)", 9)
      + pad("\(samplesPerSecond.rounded(to: 2))", 12) + pad("\(gflops.rounded(to: 1))", 9)
      + pad("\(peakRSSMegabytes.rounded(to: 1))", 13) + "\(allocationsPerStep.rounded(to: 1))"
  }

}

extension Bench {
  /// One JSON object with the documented keys, on one line.
  static func encodedLine(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
  }

  /// `"blas_core":"…","isa":"…"` for the hand-written JSON lines.
  static var computeKeys: String {
    let compute = ComputeReport.current
    return #""blas_core":"\#(compute.blasCore)","isa":"\#(compute.isa)""#
  }
}

extension Double {
  func rounded(to digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (self * scale).rounded() / scale
  }
}

/// Heap allocation counts from libLandslideAllocationCounter.so, when preloaded.
enum AllocationCounter {
  static let marker = "LANDSLIDE_ALLOCATION_COUNTER"

  /// Re-executes this process with the counter preloaded, once, if the library was built.
  static func preloadIfAvailable() throws {
    guard getenv(marker) == nil else { return }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let library = executable.deletingLastPathComponent()
      .appendingPathComponent("libLandslideAllocationCounter.so").path
    guard FileManager.default.fileExists(atPath: library) else { return }
    throw ValidationError(ProcessRestart.restart(setting: [marker: "1", "LD_PRELOAD": library]))
  }

  /// Allocations so far, or nil when the counter is not loaded.
  static var count: Int? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "landslide_allocation_count")
    else { return nil }
    typealias Counter = @convention(c) () -> Int
    return unsafeBitCast(symbol, to: Counter.self)()
  }
}
