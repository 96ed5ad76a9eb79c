import Foundation
import Synchronization
import Testing

/// Two containers no test may touch, running for the whole test run, and checked by every
/// test that owns the engine (teardown, `heph down`, the examples) when it ends:
/// - a container named like heph's own but without its label: heph must never list, stop
///   or remove it;
/// - a container of heph's, in a project no test makes: what acts on one project (the
///   default one, or a test's own) must leave every other project alone.
public enum ForeignSentinel {
    /// `heph-foreign-sentinel-<pid>`: one per test process.
    static let name = "heph-foreign-sentinel-\(getpid())"
    /// The project of the second sentinel: `sentinel-<pid>`.
    public static let project = "sentinel-\(getpid())"
    /// The second sentinel, named as heph names a project's container: `heph_sentinel-<pid>_guard`.
    public static let projectName = "heph_\(project)_guard"

    /// The start, made by the first caller and awaited by every caller: a test must not
    /// check the sentinels before they run.
    private static let start = Mutex<Task<Void, Never>?>(nil)

    /// Starts the sentinels once per process, and removes them when the process exits.
    static func ensureRunning() async {
        let task = start.withLock { start in
            if let start { return start }
            let task = Task {
                await removeStale()
                _ = try? await Docker.run("rm", "-f", name, projectName)
                _ = try? await Docker.run("run", "-d", "--name", name, "heph/busybox:latest", "sleep", "86400")
                _ = try? await Docker.run("run", "-d", "--name", projectName, "--label", "io.heph.managed=true", "--label", "io.heph.project=\(project)",
                                          "heph/busybox:latest", "sleep", "86400")
                atexit {
                    _ = try? Command.runBlocking(Docker.executable(), ["rm", "-f", ForeignSentinel.name, ForeignSentinel.projectName])
                }
            }
            start = task
            return task
        }
        await task.value
    }

    /// Removes the sentinels of test processes that are gone (killed before their `atexit`),
    /// which would otherwise stand in every later run's `heph ps --all`.
    private static func removeStale() async {
        guard let names = try? await Docker.output("ps", "-a", "--filter", "name=sentinel-", "--format", "{{.Names}}") else { return }
        let stale = names.split(separator: "\n").map(String.init).filter { name in
            let digits = name.split(whereSeparator: { !$0.isNumber }).last.flatMap { Int32($0) }
            guard let pid = digits, name.hasPrefix("heph-foreign-sentinel-") || name.hasPrefix("heph_sentinel-") else { return false }
            return !FileManager.default.fileExists(atPath: "/proc/\(pid)")
        }
        if !stale.isEmpty { _ = try? await Command.run(Docker.executable(), ["rm", "-f"] + stale) }
    }

    /// Records an issue in the current test when a sentinel is no longer running.
    static func expectUntouched() async {
        let state = try? await Docker.output("inspect", "-f", "{{.State.Status}}", name)
        if state != "running" {
            Issue.record("the foreign container \(name) (named heph-*, not labelled) was touched: it is \(state ?? "gone")")
        }
        let guardState = try? await Docker.output("inspect", "-f", "{{.State.Status}}", projectName)
        if guardState != "running" {
            Issue.record("the container \(projectName) of project \(project), which no test made, was touched: it is \(guardState ?? "gone")")
        }
    }
}
