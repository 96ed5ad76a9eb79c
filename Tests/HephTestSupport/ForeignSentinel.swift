import Foundation
import Synchronization
import Testing

/// A container named like heph's own but without its label, running for the whole test
/// run: heph must never list, stop or remove it. Every test that owns the engine (teardown,
/// `heph down`, the examples) is checked against it when it ends.
enum ForeignSentinel {
    /// `heph-foreign-sentinel-<pid>`: one per test process.
    static let name = "heph-foreign-sentinel-\(getpid())"

    /// The start, made by the first caller and awaited by every caller: a test must not
    /// check the sentinel before it runs.
    private static let start = Mutex<Task<Void, Never>?>(nil)

    /// Starts the sentinel once per process, and removes it when the process exits.
    static func ensureRunning() async {
        let task = start.withLock { start in
            if let start { return start }
            let task = Task {
                _ = try? await Docker.run("rm", "-f", name)
                _ = try? await Docker.run("run", "-d", "--name", name, "heph/busybox:latest", "sleep", "86400")
                atexit {
                    _ = try? Command.runBlocking(Docker.executable(), ["rm", "-f", ForeignSentinel.name])
                }
            }
            start = task
            return task
        }
        await task.value
    }

    /// Records an issue in the current test when the sentinel is no longer running.
    static func expectUntouched() async {
        let state = try? await Docker.output("inspect", "-f", "{{.State.Status}}", name)
        if state != "running" {
            Issue.record("the foreign container \(name) (named heph-*, not labelled) was touched: it is \(state ?? "gone")")
        }
    }
}
