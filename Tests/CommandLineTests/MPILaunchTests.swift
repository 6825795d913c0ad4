import Foundation
import Testing

/// Starts two real ranks with `mpirun` and checks the collectives they report.
@Suite struct MPILaunchTests {
  struct RankReport: Decodable {
    struct Collectives: Decodable {
      let allreduceSum: [Double]
      let allreduceMax: [Double]
      let broadcast: [Double]
      let passed: Bool
    }
    let rank: Int
    let size: Int
    let mpiLaunched: Bool
    let collectives: Collectives
  }

  @Test func allReduceAndBroadcastAcrossTwoRanks() throws {
    let result = try Launcher.run(
      "/usr/bin/env",
      [
        "mpirun", "--oversubscribe", "-np", "2", Launcher.landslidePath, "info", "--json",
        "--check-mpi",
      ],
      environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"],
      deadline: Launcher.Deadline.mpi)
    #expect(result.status == 0, "mpirun failed: \(result.standardError)")

    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let reports = try result.standardOutput.split(separator: "\n")
      .map { try decoder.decode(RankReport.self, from: Data($0.utf8)) }
      .sorted { $0.rank < $1.rank }
    #expect(reports.map(\.rank) == [0, 1])
    for report in reports {
      #expect(report.size == 2)
      #expect(report.mpiLaunched)
      // Rank r contributes (r + 1, 10^r): sums (1 + 2, 1 + 10), maxima (2, 10).
      #expect(report.collectives.allreduceSum == [3, 11])
      #expect(report.collectives.allreduceMax == [2, 10])
      // Rank 0 broadcasts (size, 42.5, −1); rank 1 started from zeros.
      #expect(report.collectives.broadcast == [2, 42.5, -1])
      #expect(report.collectives.passed)
    }
  }

  @Test func singleProcessReportsRankZeroOfOne() throws {
    let result = try Launcher.landslide("info")
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("single process (not started by mpirun or srun)"))
    #expect(result.standardOutput.contains("Open MPI v"))
    #expect(result.standardOutput.contains("OpenBLAS 0."))
    #expect(result.standardOutput.contains("GDAL 3."))
  }
}

/// The gradient all-reduce behind the backward pass, on two real ranks.
@Suite struct OverlappedReductionTests {
  struct Report: Decodable {
    let ranks: Int
    let buckets: Int
    let bucketsStartedInBackward: Double
    let maxDifference: Double
    let allreduceWaitShare: Double
  }

  /// With 1 MB buckets the small susceptibility network's gradients travel in several
  /// buckets; every one starts while backward still runs, and the averages they give are
  /// bitwise those of one blocking all-reduce of the same gradients.
  @Test func bucketsStartDuringBackwardAndAverageLikeABlockingAllReduce() throws {
    let result = try Launcher.run(
      "/usr/bin/env",
      [
        "mpirun", "--oversubscribe", "-np", "2", Launcher.landslidePath, "bench", "--allreduce",
        "--json", "--threads", "1", "--blocks", "1,1,1,1", "--batch", "4", "--steps", "1",
        "--warmup", "1", "--bucket-mb", "1",
      ],
      environment: DataParallelTests.mpiEnvironment, deadline: Launcher.Deadline.mpi)
    #expect(result.status == 0, "\(result.standardError)")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let lines = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("{") }
    #expect(lines.count == 1, "one report, from rank 0: \(result.standardOutput)")
    let report = try decoder.decode(Report.self, from: Data(lines[0].utf8))
    #expect(report.ranks == 2)
    #expect(report.buckets > 4)
    #expect(report.bucketsStartedInBackward == Double(report.buckets))
    #expect(report.maxDifference == 0)
    #expect((0...1).contains(report.allreduceWaitShare))
  }
}
