import ArgumentParser
import Distributed
import Foundation
import Training

#if canImport(Glibc)
  import Glibc
#endif

/// Runs `body` on every rank of an MPI job (or alone when not launched by mpirun or srun).
/// Rank 0 alone writes. SIGTERM or SIGUSR1 (SLURM before a time limit or preemption) make
/// every rank finish its step and rank 0 checkpoint; the job then exits with
/// `StopRequest.exitCode` (75). Any other failure on any rank ends the whole job with that
/// rank's message, so no rank waits forever. `concurrentThreads` is for bodies that call
/// MPI from a second thread (rank 0's coordinator).
func runOnRanks(concurrentThreads: Bool = false, _ body: (Communicator?) throws -> Void) throws {
  StopRequest.install()
  let world =
    MPIRuntime.isLaunchedByLauncher
    ? try MPIRuntime.initialize(concurrentThreads: concurrentThreads) : nil
  ComputeReport.log(rank: world?.rank ?? 0)
  do {
    try body(world)
  } catch let error as TrainingError where error.isInterruption {
    if world?.rank ?? 0 == 0 { print(error.description) }
    if world != nil { MPIRuntime.finalize() }
    throw ExitCode(StopRequest.exitCode)
  } catch {
    guard let world, world.size > 1 else { throw error }
    FileHandle.standardError.write(Data("rank \(world.rank): error: \(error)\n".utf8))
    // Give the launcher's output forwarding a moment: an abort can discard what a rank
    // printed just before it.
    usleep(500_000)
    world.abort(code: Landslide.documentedExitCode(for: error) ?? ExitStatus.failure)
  }
  if world != nil { MPIRuntime.finalize() }
}

/// A warning on standard error (standard output stays for results and `--json`).
func warn(_ message: String) {
  FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
