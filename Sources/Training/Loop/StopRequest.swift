import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// SIGTERM and SIGUSR1 (what SLURM sends before a time limit or preemption) ask training to
/// stop: every rank finishes its current step, a checkpoint is written, training throws a
/// `TrainingError` marked `isInterruption`, and the job exits with `exitCode`.
public enum StopRequest {
  /// EX_TEMPFAIL: try again later, resuming from the checkpoint.
  public static let exitCode: Int32 = 75

  private static let pending = Atomic<Bool>(false)

  /// Whether SIGTERM or SIGUSR1 has arrived.
  public static var isPending: Bool { pending.load(ordering: .relaxed) }

  /// Installs the handlers (once per process, before any thread starts) and unblocks the
  /// two signals, which a parent may have left blocked in the mask this process inherited.
  public static func install() {
    signal(SIGTERM) { _ in StopRequest.pending.store(true, ordering: .relaxed) }
    signal(SIGUSR1) { _ in StopRequest.pending.store(true, ordering: .relaxed) }
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGUSR1)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
  }
}
