import CPUSupport
import Foundation
import TensorEngine
import TestSupport
import Testing

/// The start-up restart that corrects a generic OpenBLAS kernel, played with the test hook
/// `LANDSLIDE_BLAS_DETECTED_CORE=Prescott` (what Debian's OpenBLAS 0.3.21 picks on CPUs
/// newer than itself), and the refusal of a CPU without our kernels' instructions.
@Suite struct KernelRestartTests {
  struct Report: Decodable {
    let rank: Int
    let size: Int
    let blasCore: String
    let blasReason: String
    let processRestarts: Int
    let collectives: MPILaunchTests.RankReport.Collectives?
  }

  static var expectedCore: String? { BLASKernel.recommendedCore(for: .current) }
  static var playsGenericKernel: [String: String] {
    [BLASKernel.detectedOverrideVariable: "Prescott"]
  }
  /// The correction is for processes whose user set no kernel; a runner that has
  /// OPENBLAS_CORETYPE in its environment (some machines set it) would make the played
  /// kernel "the user's" and nothing would be corrected. These children only report what
  /// they run, so they start without it.
  static let userChoice: Set<String> = [BLASKernel.coreVariable]

  static func reports(_ result: Launcher.Result) throws -> [Report] {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try result.standardOutput.split(separator: "\n")
      .map { try decoder.decode(Report.self, from: Data($0.utf8)) }.sorted { $0.rank < $1.rank }
  }

  @Test(.enabled(if: expectedCore != nil, "needs an x86-64 CPU with AVX or wider"))
  func aGenericKernelIsCorrectedByOneRestart() throws {
    let result = try Launcher.run(
      Launcher.landslidePath, ["info", "--json"], environment: Self.playsGenericKernel,
      unsetting: Self.userChoice)
    #expect(result.status == 0, "\(result.standardError)")
    let report = try #require(try Self.reports(result).first)
    #expect(report.blasCore == Self.expectedCore)
    #expect(report.blasReason.contains("OpenBLAS chose Prescott"))
    #expect(report.processRestarts == 1)
  }

  @Test(.enabled(if: expectedCore != nil, "needs an x86-64 CPU with AVX or wider"))
  func twoMPIRanksRestartAndKeepTheirRanksAndArguments() throws {
    let result = try Launcher.run(
      "/usr/bin/env",
      [
        "mpirun", "--oversubscribe", "-np", "2", Launcher.landslidePath, "info", "--json",
        "--check-mpi",
      ],
      environment: Self.playsGenericKernel.merging([
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
      ]) { $1 }, unsetting: Self.userChoice, deadline: Launcher.Deadline.mpi)
    #expect(result.status == 0, "\(result.standardError)")
    let reports = try Self.reports(result)
    #expect(reports.map(\.rank) == [0, 1])
    for report in reports {
      #expect(report.size == 2)
      #expect(report.blasCore == Self.expectedCore)
      #expect(report.processRestarts == 1)
      // --check-mpi survived the restart, and the collectives still work.
      #expect(report.collectives?.passed == true)
    }
  }

  @Test func theUsersCoreTypeIsKept() throws {
    let result = try Launcher.run(
      Launcher.landslidePath, ["info", "--json"],
      environment: [BLASKernel.coreVariable: "Prescott"].merging(Self.playsGenericKernel) { $1 })
    let report = try #require(try Self.reports(result).first)
    #expect(report.blasCore == "Prescott")
    // Kept, and called weaker than what this CPU runs (every x86-64 CPU with AVX or wider).
    let weaker = Self.expectedCore.map { ", weaker than this CPU's \($0)" } ?? ""
    #expect(report.blasReason == "OPENBLAS_CORETYPE set by the user" + weaker)
    #expect(report.processRestarts == 0)
  }

  @Test func aCPUWithoutTheKernelsInstructionsGetsAMessageNotSIGILL() throws {
    // An old CPU as our kernels see it (OpenBLAS still runs its own choice).
    let result = try Launcher.run(
      Launcher.landslidePath, ["info"], environment: [CPUFeatures.overrideVariable: "sse sse2"])
    switch KernelISA.compiled {
    case .baseline:
      #expect(result.status == 0)
    default:
      #expect(result.status == 1)
      #expect(result.standardError.contains("this CPU lacks"), "\(result.standardError)")
      #expect(result.standardError.contains("LANDSLIDE_ISA=baseline"))
      #expect(result.standardOutput.isEmpty)
    }
  }

  @Test func longJobsLogTheirKernelsOnce() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try Launcher.landslide(
      "synth", "--out", directory.path, "--size-km", "4", "4", "--periods", "2")
    #expect(result.status == 0, "\(result.standardError)")
    let lines = result.standardError.split(separator: "\n").filter {
      $0.contains("OpenBLAS kernel")
    }
    #expect(lines.count == 1, "\(result.standardError)")
    #expect(lines.first?.contains("our kernels \(KernelISA.compiled.name)") == true)
  }
}
