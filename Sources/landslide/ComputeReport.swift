import CPUSupport
import Foundation
import TensorEngine

/// What this process computes with: the OpenBLAS kernel and why it runs, and the vector
/// instructions of our own kernels against the CPU's. `info` prints it, `bench --json`
/// carries it, and long jobs log it once to standard error (where SLURM's output file has
/// it too, and JSON lines on standard output stay clean).
struct ComputeReport: Encodable {
  let blasCore: String
  let blasReason: String
  /// Our kernels' compiled level, e.g. "AVX-512".
  let isa: String
  /// The widest level this CPU runs.
  let cpuISA: String
  /// Times this process re-executed itself at start-up (kernel correction, bench's
  /// allocation counter).
  let processRestarts: Int

  static var current: ComputeReport {
    let kernel = BLASKernel.current
    return ComputeReport(
      blasCore: kernel.core, blasReason: kernel.reason.description, isa: KernelISA.compiled.name,
      cpuISA: CPUFeatures.current.level.name, processRestarts: ProcessRestart.count)
  }

  var line: String {
    "OpenBLAS kernel \(blasCore) (\(blasReason)); our kernels \(isa) on a CPU with \(cpuISA)"
  }

  /// The once-per-job log line, from rank 0 only.
  static func log(rank: Int = 0) {
    guard rank == 0 else { return }
    FileHandle.standardError.write(Data("landslide: \(current.line)\n".utf8))
  }

  /// Stops the process, before anything runs, on a CPU that lacks our kernels' instructions.
  static func refuseUnsupportedCPU() {
    guard let problem = KernelISA.unsupported(on: .current) else { return }
    FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
    exit(1)
  }
}
