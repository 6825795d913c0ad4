import CMPI

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide MPI set-up: whether a launcher started us, initialisation and shutdown.
public enum MPIRuntime {
  /// Environment variables that mpirun (OpenMPI), srun with PMIx or PMI-2, and other
  /// launchers set in every rank they start.
  static let launcherRankVariables = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"]

  /// True when mpirun or srun started this process as a rank of a parallel job. Plain
  /// invocations skip MPI initialisation, which keeps single-process commands fast and
  /// independent of the launcher.
  public static var isLaunchedByLauncher: Bool {
    launcherRankVariables.contains { getenv($0) != nil }
  }

  /// The MPI library's own description, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, …".
  /// Safe to call before initialisation.
  public static var libraryVersion: String {
    var text = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
    var length: Int32 = 0
    guard MPI_Get_library_version(&text, &length) == MPI_SUCCESS else { return "unknown" }
    return String(nulTerminated: text).trimmingSpaces
  }

  /// Initialises MPI and returns the world communicator. Call once per process; pair with
  /// `finalize()`.
  /// - Parameter concurrentThreads: whether several threads will call MPI at once (a sweep's
  ///   coordinator thread beside rank 0's training); otherwise every call comes from the
  ///   main thread, which spares the library its locks.
  public static func initialize(concurrentThreads: Bool = false) throws(MPIError)
    -> Communicator
  {
    let required = concurrentThreads ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED
    var provided: Int32 = 0
    try check(MPI_Init_thread(nil, nil, Int32(required), &provided), "MPI_Init_thread")
    guard provided >= Int32(required) else {
      throw MPIError(
        call: "MPI_Init_thread", code: provided,
        message:
          "this MPI library provides thread level \(provided), below the \(required) requested "
          + (concurrentThreads
            ? "(MPI_THREAD_MULTIPLE: a sweep's coordinator thread calls MPI beside training)"
            : "(MPI_THREAD_FUNNELED)"))
    }
    return try Communicator(handle: cmpi_comm_world())
  }

  /// Shuts MPI down; every rank must call it after its last collective.
  public static func finalize() {
    var finalized: Int32 = 0
    MPI_Finalized(&finalized)
    if finalized == 0 { MPI_Finalize() }
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    var scalars = Substring(self)
    while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
    return String(scalars)
  }
}
