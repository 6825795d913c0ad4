import ArgumentParser
import Distributed
import Foundation
import GeoData
import TensorEngine

/// `landslide info`: what this process runs on. The first thing to try on a new cluster
/// node, and under `mpirun`/`srun` a check that the ranks see each other.
struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Report library versions, BLAS threads, MPI rank and size, and cores.")

  @Flag(help: "Print one JSON object per rank instead of the text report from rank 0.")
  var json = false

  @Flag(help: "Run an all-reduce and a broadcast across all ranks and check their results.")
  var checkMPI = false

  func run() throws {
    // Read before initialising: a singleton MPI_Init sets the launcher's variables itself.
    let launched = MPIRuntime.isLaunchedByLauncher
    let communicator = launched || checkMPI ? try MPIRuntime.initialize() : nil
    defer { if communicator != nil { MPIRuntime.finalize() } }

    let compute = ComputeReport.current
    var report = InfoReport(
      version: Landslide.version,
      host: ProcessInfo.processInfo.hostName,
      cores: ProcessInfo.processInfo.activeProcessorCount,
      mpiLibrary: MPIRuntime.libraryVersion,
      mpiLaunched: launched,
      rank: communicator?.rank ?? 0,
      size: communicator?.size ?? 1,
      openblasConfig: BLAS.configuration,
      openblasThreads: BLAS.threadCount,
      blasCore: compute.blasCore,
      blasReason: compute.blasReason,
      isa: compute.isa,
      cpuIsa: compute.cpuISA,
      processRestarts: compute.processRestarts,
      gdalVersion: gdalVersion,
      collectives: nil)
    if checkMPI, let communicator {
      report.collectives = try CollectivesCheck.run(on: communicator)
    }

    if json {
      let encoder = JSONEncoder()
      encoder.keyEncodingStrategy = .convertToSnakeCase
      encoder.outputFormatting = [.sortedKeys]
      let line = String(decoding: try encoder.encode(report), as: UTF8.self)
      print(line)
    } else if report.rank == 0 {
      print(report.text)
    }
    if let collectives = report.collectives, !collectives.passed {
      throw ExitCode.failure
    }
  }
}

/// Everything `info` reports, as text or as one JSON object.
struct InfoReport: Encodable {
  var version: String
  var host: String
  var cores: Int
  var mpiLibrary: String
  var mpiLaunched: Bool
  var rank: Int
  var size: Int
  var openblasConfig: String
  var openblasThreads: Int
  /// The kernel OpenBLAS runs and why (detected, corrected, set by the user).
  var blasCore: String
  var blasReason: String
  /// Our kernels' vector instructions, and the widest this CPU runs.
  var isa: String
  var cpuIsa: String
  var processRestarts: Int
  var gdalVersion: String
  var collectives: CollectivesCheck?

  var text: String {
    let launch =
      mpiLaunched
      ? "rank \(rank) of \(size) (started by an MPI launcher)"
      : "single process (not started by mpirun or srun)"
    let blasThreads = "\(openblasThreads) BLAS thread\(openblasThreads == 1 ? "" : "s") per process"
    var lines = [
      "landslide \(version) on \(host), \(cores) cores",
      "MPI       \(mpiLibrary)",
      "          \(launch)",
      "OpenBLAS  \(openblasConfig)",
      "          kernel \(blasCore) (\(blasReason))",
      "          \(blasThreads)",
      "Kernels   \(isa) (this CPU runs \(cpuIsa))",
      "GDAL      \(gdalVersion)",
    ]
    if let collectives {
      lines.append(
        "MPI check all-reduce and broadcast across \(size) rank\(size == 1 ? "" : "s"): "
          + (collectives.passed ? "passed" : "FAILED on at least one rank"))
    }
    return lines.joined(separator: "\n")
  }
}

/// A small collective workout whose answers are known in closed form: rank r contributes
/// (r + 1, 10^r) to a sum and a max; rank 0 broadcasts (size, 42.5, −1).
struct CollectivesCheck: Encodable {
  var allreduceSum: [Double]
  var allreduceMax: [Double]
  var broadcast: [Double]
  /// True when every rank got the expected answers.
  var passed: Bool

  static func run(on communicator: Communicator) throws -> CollectivesCheck {
    let rank = communicator.rank
    let size = Double(communicator.size)
    var sum = [Double(rank + 1), pow(10, Double(rank))]
    var maximum = sum
    try communicator.allReduce(&sum, .sum)
    try communicator.allReduce(&maximum, .max)
    var payload: [Double] = rank == 0 ? [size, 42.5, -1] : [0, 0, 0]
    try communicator.broadcast(&payload, root: 0)

    let expectedSum = [size * (size + 1) / 2, (pow(10, size) - 1) / 9]
    let expectedMax = [size, pow(10, size - 1)]
    let correct = sum == expectedSum && maximum == expectedMax && payload == [size, 42.5, -1]
    var passed: [Int32] = [correct ? 1 : 0]
    try communicator.allReduce(&passed, .min)
    return CollectivesCheck(
      allreduceSum: sum, allreduceMax: maximum, broadcast: payload, passed: passed[0] == 1)
  }
}
