import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Files that appear whole or not at all: written under a temporary name beside their
/// destination, flushed to disk, renamed into place, and the directory flushed so that the
/// rename survives a crash. What was there before stays intact until the rename.
public enum AtomicFile {
  /// Why an atomic write failed; callers wrap it in their own error with the file's path.
  public struct Failure: Error {
    public let message: String
  }

  /// The temporary name this process uses for `path`.
  public static func temporaryPath(for path: String) -> String { "\(path).tmp-\(getpid())" }

  /// Writes `data` to `path` atomically.
  public static func write(_ data: Data, to path: String) throws(Failure) {
    let temporary = temporaryPath(for: path)
    do {
      try data.write(to: URL(fileURLWithPath: temporary))
    } catch {
      throw Failure(message: "cannot write \(temporary) (\(error.localizedDescription))")
    }
    try commit(temporary, to: path)
  }

  /// Flushes the finished file `temporary`, renames it over `path` and flushes the
  /// directory. On failure the temporary file is removed.
  public static func commit(_ temporary: String, to path: String) throws(Failure) {
    let file = open(temporary, O_RDONLY)
    guard file >= 0, fsync(file) == 0 else {
      let reason = errnoText
      if file >= 0 { close(file) }
      unlink(temporary)
      throw Failure(message: "cannot flush \(temporary): \(reason)")
    }
    close(file)
    guard rename(temporary, path) == 0 else {
      let reason = errnoText
      unlink(temporary)
      throw Failure(message: "cannot rename \(temporary): \(reason)")
    }
    let parent = (path as NSString).deletingLastPathComponent
    let directory = open(parent.isEmpty ? "." : parent, O_RDONLY)
    if directory >= 0 {
      fsync(directory)
      close(directory)
    }
  }

  private static var errnoText: String { String(cString: strerror(errno)) }
}
