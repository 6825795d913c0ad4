import Foundation

/// How many compute threads a command uses by default: SLURM's CPUs per task when set,
/// otherwise the cores this process may run on, shared evenly among the MPI ranks of this
/// node when launched by mpirun.
enum ComputeThreads {
  static var available: Int {
    let environment = ProcessInfo.processInfo.environment
    if let cpus = environment["SLURM_CPUS_PER_TASK"].flatMap(Int.init), cpus > 0 { return cpus }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let ranksHere = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    return max(1, cores / max(ranksHere, 1))
  }
}
