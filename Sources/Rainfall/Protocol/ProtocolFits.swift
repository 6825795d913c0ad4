import Foundation
import TensorEngine

/// One fit of the protocol: a model at one grid point on one fold of one repetition. The
/// protocol is thousands of these (Table 3's XGBoost grid alone: 576 points × 5 folds × 10
/// repetitions), each independent of the others, so they are what a job hands out to its
/// threads or ranks and what a re-run skips once recorded.
public struct ProtocolFit: Sendable, Hashable, Codable {
  public var model: String
  public var point: Int
  public var repetition: Int
  public var fold: Int

  public var label: String { "\(model) point \(point) repetition \(repetition) fold \(fold)" }
}

/// What one fit gives: its validation region's scores and how long it took.
public struct FitResult: Codable, Equatable, Sendable {
  public var scores: ClassificationScores
  public var seconds: Double

  public init(scores: ClassificationScores, seconds: Double) {
    self.scores = scores
    self.seconds = seconds
  }
}

/// `RUN/fits.jsonl`: a line per finished fit with its validation scores, appended and
/// flushed to disk as each arrives, so that a job stopped at any moment (preempted, out
/// of time, killed) loses at most the fits still running. One process alone (rank 0)
/// appends. `RUN/fits_plan.json` records which protocol the lines belong to: a re-run
/// with other grids, seeds or events would otherwise mix two protocols' scores.
public final class FitRecords: @unchecked Sendable {
  public static let fileName = "fits.jsonl"
  public static let planName = "fits_plan.json"

  /// What a run's fits depend on.
  public struct Plan: Codable, Equatable, Sendable {
    public var fits: [String]
    public var points: [String: [String]]
    public var seed: Int
    public var testShare: Double
    public var smoteNeighbours: Int
    public var threshold: Double
    /// CRC-32C of the event set's features and labels.
    public var events: UInt32

    enum CodingKeys: String, CodingKey {
      case fits, points, seed, threshold, events
      case testShare = "test_share"
      case smoteNeighbours = "smote_neighbours"
    }
  }

  struct Line: Codable {
    var fit: ProtocolFit
    var result: FitResult
  }

  public let path: String
  private let lock = NSLock()
  private let handle: FileHandle
  /// The scores recorded so far, this run's and earlier runs'.
  /// Read it once no fit is running.
  public private(set) var results: [ProtocolFit: FitResult] = [:]

  /// Opens `directory`'s records for `plan`: checks (or, the first time, writes) the plan
  /// and reads the fits earlier runs finished. A torn last line (the process died while
  /// writing it) is dropped; any other unreadable line is an error naming it.
  public init(directory: String, plan: Plan) throws(RainfallError) {
    path = (directory as NSString).appendingPathComponent(Self.fileName)
    let planPath = (directory as NSString).appendingPathComponent(Self.planName)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = FileManager.default.contents(atPath: planPath) {
      guard let recorded = try? JSONDecoder().decode(Plan.self, from: data) else {
        throw RainfallError(planPath, "unreadable; it records which protocol the run's fits are")
      }
      guard recorded == plan else {
        let what =
          recorded.events != plan.events
          ? "other events" : "another protocol (grids, repetitions, seed or rules)"
        throw RainfallError(
          planPath,
          "the run directory holds the fits of \(what) than this run's; use a new --run-dir")
      }
    } else {
      do { try AtomicFile.write(try encoder.encode(plan), to: planPath) } catch {
        throw RainfallError(planPath, "cannot write the plan (\(error))")
      }
    }
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw RainfallError(path, "cannot create the fit records")
      }
    }
    guard let data = FileManager.default.contents(atPath: path),
      let handle = FileHandle(forUpdatingAtPath: path)
    else { throw RainfallError(path, "cannot open the fit records") }
    self.handle = handle
    let known = Set(plan.fits)
    var kept = 0
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    for (number, line) in lines.enumerated() where !line.isEmpty {
      guard let record = try? JSONDecoder().decode(Line.self, from: Data(line)) else {
        if number == lines.count - 1 { break }
        throw RainfallError(path, "line \(number + 1) is not a fit record")
      }
      guard known.contains(record.fit.label) else {
        throw RainfallError(path, "line \(number + 1): \(record.fit.label) is not in the plan")
      }
      results[record.fit] = record.result
      kept += line.count + 1
    }
    // Drop a torn tail so that new lines start on a line of their own.
    do {
      try handle.truncate(atOffset: UInt64(kept))
      try handle.seekToEnd()
    } catch { throw RainfallError(path, "cannot truncate a torn last line (\(error))") }
  }

  deinit { try? handle.close() }

  /// Appends a fit's result and syncs it to disk.
  public func record(_ fit: ProtocolFit, _ result: FitResult) throws(RainfallError) {
    let line: Data
    do { line = try JSONEncoder().encode(Line(fit: fit, result: result)) } catch {
      throw RainfallError(path, "cannot encode \(fit.label) (\(error))")
    }
    lock.lock()
    defer { lock.unlock() }
    do {
      try handle.write(contentsOf: line + Data("\n".utf8))
      try handle.synchronize()
    } catch { throw RainfallError(path, "cannot append \(fit.label) (\(error))") }
    results[fit] = result
  }

  public var count: Int { lock.withLock { results.count } }
}
