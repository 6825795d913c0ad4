import Foundation

/// `metrics.jsonl`: one JSON object per line and epoch, flushed as each epoch ends so that a
/// plotting script (or a crash) sees every finished epoch.
final class MetricsLog {
  private let handle: FileHandle
  let path: String

  init(path: String) throws(TrainingError) {
    self.path = path
    // Not truncated here: a resumed run rewrites it from its checkpoint, a fresh one empties it.
    if !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw TrainingError("\(path): cannot open the metrics file for writing")
    }
    self.handle = handle
  }

  deinit { try? handle.close() }

  /// Replaces the file's lines with `records` (a resumed run's history).
  func rewrite(_ records: [EpochRecord]) throws(TrainingError) {
    do {
      try handle.truncate(atOffset: 0)
      try handle.seek(toOffset: 0)
    } catch {
      throw TrainingError("\(path): cannot rewrite (\(error.localizedDescription))")
    }
    for record in records { try append(record) }
  }

  func append(_ record: EpochRecord) throws(TrainingError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      try handle.seekToEnd()
      try handle.write(contentsOf: try encoder.encode(record) + Data("\n".utf8))
      try handle.synchronize()
    } catch {
      throw TrainingError("\(path): cannot append an epoch record (\(error.localizedDescription))")
    }
  }
}

/// A training failure with a message that says where and why, or a stop on request.
public struct TrainingError: Error, CustomStringConvertible {
  public let description: String
  /// Training stopped on SIGTERM or SIGUSR1 after writing a checkpoint (see `StopRequest`).
  public var isInterruption = false
  /// Training ended early because `EnsembleTrainer.epochEnded` said so (a sweep's pruning).
  public var isPruned = false
  /// Every rank of the trainer's communicator threw it at the same point (an agreed stop,
  /// divergence, a failed write on rank 0), so all can go on to other work together; any
  /// other error may leave ranks waiting in a collective.
  public var isOnEveryRank = false

  public init(_ description: String) { self.description = description }
}
