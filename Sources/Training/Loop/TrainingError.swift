import TensorEngine

/// Why training (or reading what it needs) ended without a result: the kind says what
/// happened, the description says where and why in one line (the file, the key, what was
/// expected), and `isOnEveryRank` whether all ranks stopped at the same point.
public struct TrainingError: Error, CustomStringConvertible {
  public enum Kind: Equatable, Sendable {
    /// SIGTERM or SIGUSR1 stopped every rank after a checkpoint (nil: no checkpoint
    /// directory); the job exits with `StopRequest.exitCode` and `--resume auto` continues.
    case interrupted(checkpoint: String?)
    /// The trainer's `epochEnded` (a sweep's successive halving) ended training.
    case pruned
    /// The loss or the validation loss stopped being finite, or the output collapsed:
    /// this config cannot go on (the message names the setting to change).
    case diverged
    /// A file that was read is missing, truncated, corrupt or of another kind.
    case badInput(path: String)
    /// The run's settings do not fit its data or ranks (a batch the ranks cannot share, a
    /// split with no samples, a checkpoint of another config): fix the config or the
    /// command line.
    case invalidSetup
    /// Anything else (a failed write, an MPI call that failed), with the underlying error's
    /// message.
    case failed
  }

  public let kind: Kind
  public let description: String
  /// Every rank of the trainer's communicator threw it at the same point (an agreed stop,
  /// divergence, a failed write on rank 0), so all can go on to other work together; any
  /// other error may leave ranks waiting in a collective.
  public var isOnEveryRank = false

  public init(_ description: String, kind: Kind = .failed) {
    self.description = description
    self.kind = kind
  }

  /// A file error, with the path it names.
  public init(_ error: SafeTensorsError) {
    self.init(error.description, kind: .badInput(path: error.path))
  }

  /// Training stopped on SIGTERM or SIGUSR1 after writing a checkpoint (see `StopRequest`).
  public var isInterruption: Bool {
    if case .interrupted = kind { return true }
    return false
  }

  public var isPruned: Bool { kind == .pruned }

  /// The documented exit status of a `landslide` process that ends with this error.
  public var exitCode: Int32 {
    switch kind {
    case .interrupted: StopRequest.exitCode
    case .invalidSetup: ExitStatus.usage
    case .pruned, .diverged, .badInput, .failed: ExitStatus.failure
    }
  }

  /// An error agreed on every rank.
  func onEveryRank() -> TrainingError {
    var error = self
    error.isOnEveryRank = true
    return error
  }
}

/// The exit statuses of `landslide`: 0 success, 1 failure, 64 bad usage or config
/// (EX_USAGE, as the argument parser already uses), 75 interrupted with a checkpoint to
/// resume from (EX_TEMPFAIL, which the SLURM scripts requeue on).
public enum ExitStatus {
  public static let success: Int32 = 0
  public static let failure: Int32 = 1
  public static let usage: Int32 = 64
  public static let interrupted: Int32 = StopRequest.exitCode
}
