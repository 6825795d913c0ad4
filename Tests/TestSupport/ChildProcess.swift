import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a finished command left: its exit status and everything it wrote.
public struct LaunchResult: Sendable {
  /// The exit code, or the number of the signal that ended it (as Foundation's
  /// `Process.terminationStatus`).
  public let status: Int32
  public let standardOutput: String
  public let standardError: String
  /// True when the command ran past its deadline and was killed (with everything it
  /// started); the output is what it wrote until then.
  public let timedOut: Bool

  public init(status: Int32, standardOutput: String, standardError: String, timedOut: Bool) {
    self.status = status
    self.standardOutput = standardOutput
    self.standardError = standardError
    self.timedOut = timedOut
  }
}

/// A command that ran past its deadline. By the time this is thrown the command and every
/// process it started (its process group, and descendants that left it, as mpirun's ranks
/// do) have been killed and the command reaped; `result` holds the output written until
/// then. The description names the command, the deadline and the end of the output, so a
/// test that lets it propagate fails with all three.
public struct LaunchTimeout: Error, CustomStringConvertible {
  public let commandLine: String
  public let deadline: TimeInterval
  /// The command's pid, which was also its process group.
  public let processGroup: pid_t
  public let result: LaunchResult
  /// True when both streams went to one file (`standardOutput` holds it all).
  let combined: Bool

  public var description: String {
    func tail(_ text: String) -> String {
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
      let joined = lines.joined(separator: "\n")
      let end = joined.count > 6_000 ? "…" + joined.suffix(6_000) : joined
      return end.isEmpty ? "  (nothing)" : end
    }
    var text =
      "timed out after \(deadline) s, killed with its process group: \(commandLine)\n"
    if combined {
      text += "--- output (end) ---\n\(tail(result.standardOutput))\n"
    } else {
      text += "--- stdout (end) ---\n\(tail(result.standardOutput))\n"
      text += "--- stderr (end) ---\n\(tail(result.standardError))\n"
    }
    return text
  }
}

/// A command that could not be started at all.
public struct LaunchError: Error, CustomStringConvertible {
  public let description: String
  public init(description: String) { self.description = description }
}

/// A child process started in a process group of its own, with its output going to files
/// (never pipes: a chatty child can then never block on a full one, and the output so far
/// can be read at any time). Waiting always has a deadline; past it the child's whole tree
/// is stopped: SIGTERM, then SIGKILL after a grace period, to its process group and to every
/// descendant found in /proc (mpirun puts each rank in a group of its own). A handle
/// dropped while its child still runs stops the tree the same way.
public final class ChildProcess {
  /// The child's pid; also its process group id.
  public let pid: pid_t
  public var processGroup: pid_t { pid }
  /// The command as a shell would show it, for messages.
  public let commandLine: String
  public let standardOutputURL: URL
  public let standardErrorURL: URL
  private var waitStatus: Int32?

  /// Starts `executable` (an absolute path) with `arguments`, in `directory`, with the test
  /// runner's environment plus `environment`, less the variables in `unsetting`. Standard input is /dev/null; standard output
  /// goes to `standardOutput`, standard error to `standardError` (or the same file when it
  /// is nil), both truncated first. The child starts with no signal blocked and default
  /// signal dispositions, rather than the test runner's.
  public static func start(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    unsetting: Set<String> = [], directory: URL = TestPaths.repositoryRoot,
    standardOutput: URL, standardError: URL? = nil
  ) throws -> ChildProcess {
    let commandLine = ([executable] + arguments).map(Self.quoted).joined(separator: " ")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }

    let writeFlags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND
    var failures: [String] = []
    func check(_ code: Int32, _ what: String) {
      if code != 0 { failures.append("\(what): \(String(cString: strerror(code)))") }
    }
    check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "stdin")
    check(
      posix_spawn_file_actions_addopen(&actions, 1, standardOutput.path, writeFlags, 0o644),
      "stdout")
    if let standardError, standardError.path != standardOutput.path {
      check(
        posix_spawn_file_actions_addopen(&actions, 2, standardError.path, writeFlags, 0o644),
        "stderr")
    } else {
      check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "stderr")
    }
    // glibc's non-portable actions are not in Swift's Glibc module; look them up.
    guard let chdir = Self.symbol("posix_spawn_file_actions_addchdir_np", as: FileAction.self)
    else { throw LaunchError(description: "posix_spawn_file_actions_addchdir_np is missing") }
    check(directory.path.withCString { chdir(&actions, $0) }, "chdir \(directory.path)")
    // Other tests' descriptors (pipes especially) must not leak into this child.
    if let closeFrom = Self.symbol("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self) {
      check(closeFrom(&actions, 3), "closefrom")
    }

    check(posix_spawnattr_setpgroup(&attributes, 0), "setpgroup")
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    check(posix_spawnattr_setsigmask(&attributes, &noSignals), "sigmask")
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    check(posix_spawnattr_setsigdefault(&attributes, &allSignals), "sigdefault")
    let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    check(posix_spawnattr_setflags(&attributes, Int16(flags)), "flags")
    guard failures.isEmpty else {
      throw LaunchError(
        description: "cannot prepare \(commandLine): \(failures.joined(separator: ", "))")
    }

    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
      .filter { !unsetting.contains($0.key) }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard code == 0 else {
      throw LaunchError(
        description: "cannot start \(commandLine): \(String(cString: strerror(code)))")
    }
    return ChildProcess(
      pid: pid, commandLine: commandLine, standardOutput: standardOutput,
      standardError: standardError ?? standardOutput)
  }

  /// Runs `executable` to the end, or for `deadline` seconds at most, with its output in
  /// files of a temporary directory (removed afterwards). Throws `LaunchTimeout` (holding
  /// the output so far) when the deadline passes.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    unsetting: Set<String> = [], directory: URL = TestPaths.repositoryRoot,
    deadline: TimeInterval
  ) throws -> LaunchResult {
    let folder = try TestPaths.temporaryDirectory("launch")
    defer { try? FileManager.default.removeItem(at: folder) }
    let child = try start(
      executable, arguments, environment: environment, unsetting: unsetting,
      directory: directory,
      standardOutput: folder.appendingPathComponent("stdout"),
      standardError: folder.appendingPathComponent("stderr"))
    let status = try child.wait(deadline: deadline)
    return LaunchResult(
      status: status, standardOutput: child.output(child.standardOutputURL),
      standardError: child.output(child.standardErrorURL), timedOut: false)
  }

  private init(pid: pid_t, commandLine: String, standardOutput: URL, standardError: URL) {
    self.pid = pid
    self.commandLine = commandLine
    self.standardOutputURL = standardOutput
    self.standardErrorURL = standardError
  }

  deinit {
    if isRunning { stopTree() }
  }

  /// Whether the child has not exited yet (it is reaped as soon as it has).
  public var isRunning: Bool {
    reap(blocking: false)
    return waitStatus == nil
  }

  /// The exit code or the ending signal's number, once the child has exited.
  public var terminationStatus: Int32? {
    reap(blocking: false)
    return waitStatus.map(Self.status)
  }

  /// The signal that ended the child, if one did.
  public var terminationSignal: Int32? {
    reap(blocking: false)
    guard let raw = waitStatus, raw & 0x7f != 0 else { return nil }
    return raw & 0x7f
  }

  /// Sends `signal` to the child alone (not to the processes it started).
  public func signal(_ signal: Int32) {
    if isRunning { kill(pid, signal) }
  }

  /// Sends `signal` to the child's process group.
  public func signalGroup(_ signal: Int32) {
    kill(-pid, signal)
  }

  /// Waits until the child exits, `deadline` seconds at most, and returns its status (the
  /// exit code, or the number of the signal that ended it). Past the deadline the child's
  /// tree is stopped and `LaunchTimeout` thrown with the output so far.
  @discardableResult
  public func wait(deadline: TimeInterval) throws -> Int32 {
    let end = Date().addingTimeInterval(deadline)
    var pause: useconds_t = 1_000
    while isRunning {
      guard Date() < end else {
        stopTree()
        let combined = standardErrorURL.path == standardOutputURL.path
        throw LaunchTimeout(
          commandLine: commandLine, deadline: deadline, processGroup: pid,
          result: LaunchResult(
            status: terminationStatus ?? -1, standardOutput: output(standardOutputURL),
            standardError: combined ? "" : output(standardErrorURL), timedOut: true),
          combined: combined)
      }
      usleep(pause)
      pause = min(pause * 2, 50_000)
    }
    return terminationStatus ?? -1
  }

  /// Stops the child and everything it started: SIGTERM to its process group and to every
  /// descendant, SIGKILL to whatever is left after `grace` seconds, and reaps the child.
  /// Descendants are found in /proc by parent pid (snapshot before any signal, and again
  /// while waiting), so ranks that mpirun put in groups of their own, and orphans of
  /// killed parents, are stopped too.
  public func stopTree(grace: TimeInterval = 5) {
    var tree = ProcessTree(root: pid)
    tree.refresh()
    tree.send(SIGTERM)
    let soft = Date().addingTimeInterval(grace)
    while Date() < soft {
      reap(blocking: false)
      tree.refresh()
      if waitStatus != nil && tree.living.isEmpty { return }
      usleep(20_000)
    }
    let hard = Date().addingTimeInterval(10)
    repeat {
      tree.refresh()
      tree.send(SIGKILL)
      usleep(20_000)
      reap(blocking: false)
    } while (waitStatus == nil || !tree.living.isEmpty) && Date() < hard
  }

  /// Processes of `group` that are still alive (zombies, which this sandbox's init may
  /// never reap, do not count).
  public static func livingProcesses(inGroup group: pid_t) -> [pid_t] {
    ProcessTree.snapshot().filter { $0.value.group == group && $0.value.state != "Z" }
      .map(\.key).sorted()
  }

  /// Whether `pid` names a live process (neither gone nor a zombie).
  public static func isAlive(_ pid: pid_t) -> Bool {
    guard let entry = ProcessTree.entry(pid) else { return false }
    return entry.state != "Z"
  }

  /// The text of one of the child's output files so far.
  func output(_ url: URL) -> String {
    guard let data = try? Data(contentsOf: url) else { return "" }
    return String(decoding: data, as: UTF8.self)
  }

  private func reap(blocking: Bool) {
    guard waitStatus == nil else { return }
    var raw: Int32 = 0
    while true {
      let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
      if result == pid {
        waitStatus = raw
        return
      }
      if result == -1 && errno == EINTR { continue }
      // Someone else reaped it (ECHILD): it has exited, status unknown.
      if result == -1 { waitStatus = 0xff00 }
      return
    }
  }

  private static func status(_ raw: Int32) -> Int32 {
    let signal = raw & 0x7f
    return signal == 0 ? (raw >> 8) & 0xff : signal
  }

  private static func quoted(_ word: String) -> String {
    let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
    if plain && !word.isEmpty { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  private typealias FileAction =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) ->
    Int32
  private typealias CloseFrom =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  private static func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
    guard let address = dlsym(nil, name) else { return nil }
    return unsafeBitCast(address, to: type)
  }
}

/// A process tree read from /proc: the root, every process of its process group, and the
/// descendants of all of them, each remembered with its start time so that a pid reused
/// after a process ended is never signalled.
struct ProcessTree {
  struct Entry {
    let parent: pid_t
    let group: pid_t
    let state: Character
    let start: UInt64
  }

  let root: pid_t
  /// Members found so far: pid → start time.
  private(set) var members: [pid_t: UInt64] = [:]
  /// Members still alive (not gone, not a zombie) at the last refresh.
  private(set) var living: [pid_t] = []

  init(root: pid_t) { self.root = root }

  /// Adds the group's processes and the descendants of every member, and updates `living`.
  mutating func refresh() {
    let table = Self.snapshot()
    var children: [pid_t: [pid_t]] = [:]
    for (pid, entry) in table { children[entry.parent, default: []].append(pid) }
    var frontier = [root] + members.keys
    for (pid, entry) in table where entry.group == root { frontier.append(pid) }
    var seen = Set<pid_t>()
    while let pid = frontier.popLast() {
      guard seen.insert(pid).inserted, let entry = table[pid] else { continue }
      if let known = members[pid], known != entry.start { continue }  // a reused pid
      members[pid] = entry.start
      frontier += children[pid] ?? []
    }
    living = members.compactMap { pid, start in
      guard let entry = table[pid], entry.start == start, entry.state != "Z" else { return nil }
      return pid
    }
  }

  /// Sends `signal` to the group and to every living member.
  func send(_ signal: Int32) {
    kill(-root, signal)
    for pid in living where pid != root { kill(pid, signal) }
    if living.contains(root) { kill(root, signal) }
  }

  /// Every process on the machine: pid → its /proc/<pid>/stat fields that matter here.
  static func snapshot() -> [pid_t: Entry] {
    var table: [pid_t: Entry] = [:]
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
      return table
    }
    for name in names {
      guard let pid = pid_t(name), let entry = entry(pid) else { continue }
      table[pid] = entry
    }
    return table
  }

  /// `/proc/<pid>/stat` parsed: after the command name (in parentheses, which may hold
  /// spaces), field 3 is the state, 4 the parent, 5 the process group, 22 the start time.
  static func entry(_ pid: pid_t) -> Entry? {
    guard let text = readSmallFile("/proc/\(pid)/stat"),
      let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]),
      let group = pid_t(fields[2]), let start = UInt64(fields[19])
    else { return nil }
    return Entry(parent: parent, group: group, state: state, start: start)
  }

  /// Reads a /proc file (which reports a size of 0, so it is read until end of file).
  private static func readSmallFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
