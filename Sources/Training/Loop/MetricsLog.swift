import Foundation
import TensorEngine

/// `metrics.jsonl`: one JSON object per line and epoch, appended and flushed as each epoch
/// ends so that a plotting script (or a crash) sees every finished epoch.
final class MetricsLog<Record: Encodable> {
  let path: String

  /// Makes the file's folder when missing (a benchmark's or a sweep's per-run folder).
  /// The file itself is left as it is: a resumed run rewrites it from its checkpoint, a
  /// fresh one empties it.
  init(path: String) throws(TrainingError) {
    self.path = path
    do {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    } catch {
      throw TrainingError("\(path): cannot make its folder (\(error.localizedDescription))")
    }
  }

  /// Replaces the file with `records` (a fresh run: none; a resumed run: its history).
  func rewrite(_ records: [Record]) throws(TrainingError) {
    var data = Data()
    for record in records { data += try Self.line(record) }
    do { try AtomicFile.write(data, to: path) } catch {
      throw TrainingError("\(path): \(error.message)")
    }
  }

  func append(_ record: Record) throws(TrainingError) {
    let line = try Self.line(record)
    if !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw TrainingError("\(path): cannot open the metrics file for appending")
    }
    defer { try? handle.close() }
    do {
      try handle.seekToEnd()
      try handle.write(contentsOf: line)
      try handle.synchronize()
    } catch {
      throw TrainingError("\(path): cannot append an epoch record (\(error.localizedDescription))")
    }
  }

  private static func line(_ record: Record) throws(TrainingError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let json = try? encoder.encode(record) else {
      throw TrainingError("cannot encode an epoch record")
    }
    return json + Data("\n".utf8)
  }
}
