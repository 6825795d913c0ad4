import CPUSupport
import Foundation
import TensorEngine

#if canImport(Glibc)
  @preconcurrency import Glibc
#endif

/// Re-executes this process with a changed environment: the only way to change what a
/// shared library reads when it loads (OpenBLAS's kernel, a preloaded allocation counter).
/// The exec keeps the process id, the arguments and the rest of the environment, so an
/// MPI rank started by mpirun or srun stays the same rank (MPI is initialised afterwards).
enum ProcessRestart {
  /// How many times this process has restarted itself: each restart sets its own marker
  /// first, so the count stays small (and `landslide info` reports it).
  static let countVariable = "LANDSLIDE_RESTARTS"

  static var count: Int {
    ProcessInfo.processInfo.environment[countVariable].flatMap(Int.init) ?? 0
  }

  /// Replaces this process with a fresh copy of the same executable and arguments, the
  /// variables in `setting` set. Returns only if the exec failed.
  static func restart(setting variables: [String: String]) -> String {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    for (name, value) in variables { setenv(name, value, 1) }
    setenv(countVariable, "\(count + 1)", 1)
    execv(executable, CommandLine.unsafeArgv)
    return "cannot re-execute \(executable): \(String(cString: strerror(errno)))"
  }

  /// At start-up, before anything else: when OpenBLAS chose a kernel weaker than this CPU
  /// runs, restart with the right one in `OPENBLAS_CORETYPE` (a user's own setting wins).
  static func correctBLASKernel() {
    let environment = ProcessInfo.processInfo.environment
    let loaded = BLASKernel.loadedCore
    guard
      let core = BLASKernel.correction(
        loaded: loaded, cpu: .current, environment: environment)
    else { return }
    let chosen = BLASKernel.chosenCore(loaded: loaded, environment: environment)
    let failure = restart(setting: [
      BLASKernel.coreVariable: core, BLASKernel.correctedVariable: chosen,
    ])
    // Still here: run on the kernel we have, and say so.
    unsetenv(BLASKernel.coreVariable)
    unsetenv(BLASKernel.correctedVariable)
    FileHandle.standardError.write(
      Data(
        "warning: OpenBLAS runs its \(chosen) kernel on a CPU that can run \(core); \(failure)\n"
          .utf8))
  }
}
