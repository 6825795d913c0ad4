import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The launcher's deadline: a command that hangs is killed, with everything it started,
/// and the test fails with the output it wrote until then.
@Suite struct LauncherTests {
  /// Runs `body`, which must throw `LaunchTimeout`, and returns it with the seconds taken.
  static func timeout(_ body: () throws -> Void) throws -> (LaunchTimeout, Double) {
    let started = Date()
    do {
      try body()
    } catch let timeout as LaunchTimeout {
      return (timeout, Date().timeIntervalSince(started))
    }
    throw LaunchError(description: "the command ended before its deadline")
  }

  /// The pids a script printed as `<label> <pid>` lines.
  static func pids(_ label: String, in output: String) -> [pid_t] {
    output.split(separator: "\n").compactMap { line in
      let words = line.split(separator: " ")
      return words.count == 2 && words[0] == label ? pid_t(words[1]) : nil
    }
  }

  @Test func finishedCommandReportsStatusAndOutput() throws {
    let result = try Launcher.run(
      "/bin/sh", ["-c", "echo out; echo err >&2; pwd; exit 3"], deadline: 30)
    #expect(result.status == 3)
    #expect(!result.timedOut)
    #expect(result.standardOutput == "out\n\(TestPaths.repositoryRoot.path)\n")
    #expect(result.standardError == "err\n")
  }

  /// A shell that hangs with a child of its own (a grandchild of the test), and one more
  /// in a session and process group of its own (as mpirun's ranks are): two seconds in,
  /// all three are killed, well within ten seconds, and the failure names the command, the
  /// deadline and the output printed before the hang.
  @Test func hangingCommandIsKilledWithItsChildren() throws {
    let script =
      "echo started; sleep 1000 & echo child $!; setsid sleep 1000 & echo apart $!; sleep 1000"
    let (timeout, seconds) = try Self.timeout {
      _ = try Launcher.run("/bin/sh", ["-c", script], deadline: 2)
    }
    #expect(seconds < 10, "the launcher took \(seconds) s to give up")
    #expect(timeout.result.timedOut)
    #expect(timeout.result.standardOutput.hasPrefix("started\n"))
    #expect(timeout.deadline == 2)
    #expect(timeout.description.contains("timed out after 2.0 s"), "\(timeout)")
    #expect(timeout.description.contains("/bin/sh -c 'echo started;"), "\(timeout)")
    #expect(timeout.description.contains("started"), "\(timeout)")
    let children =
      Self.pids("child", in: timeout.result.standardOutput)
      + Self.pids("apart", in: timeout.result.standardOutput)
    #expect(children.count == 2, "\(timeout.result.standardOutput)")
    #expect(ChildProcess.livingProcesses(inGroup: timeout.processGroup).isEmpty)
    for pid in children { #expect(!ChildProcess.isAlive(pid), "pid \(pid) survived") }
  }

  /// The same through mpirun: its two ranks (each in a process group of its own) and
  /// their children end with it.
  @Test func hangingMPIJobIsKilledWithItsRanks() throws {
    let script = "echo rank $$; sleep 1000 & echo child $!; sleep 1000"
    let (timeout, seconds) = try Self.timeout {
      _ = try Launcher.run(
        "/usr/bin/env", ["mpirun", "--oversubscribe", "-np", "2", "/bin/sh", "-c", script],
        environment: DataParallelTests.mpiEnvironment, deadline: 8)
    }
    #expect(seconds < 25, "the launcher took \(seconds) s to give up")
    let output = timeout.result.standardOutput
    let started = Self.pids("rank", in: output) + Self.pids("child", in: output)
    #expect(started.count == 4, "\(output)")
    #expect(ChildProcess.livingProcesses(inGroup: timeout.processGroup).isEmpty)
    for pid in started { #expect(!ChildProcess.isAlive(pid), "pid \(pid) survived") }
  }

  /// A handle to a running child: signalled, it ends with that signal; waited for, it
  /// reports it.
  @Test func startedChildCanBeSignalled() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let log = directory.appendingPathComponent("log")
    let child = try ChildProcess.start(
      "/bin/sh", ["-c", "echo ready; exec sleep 1000"], standardOutput: log)
    #expect(child.isRunning)
    let ready = Date().addingTimeInterval(10)
    while Date() < ready, (try? String(contentsOf: log, encoding: .utf8)) != "ready\n" {
      usleep(10_000)
    }
    child.signal(SIGTERM)
    #expect(try child.wait(deadline: 10) == SIGTERM)
    #expect(child.terminationSignal == SIGTERM)
    #expect(!child.isRunning)
  }
}
