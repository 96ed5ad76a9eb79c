import Foundation
import Synchronization
import Testing

/// A container named like heph's own but without its label, running for the whole test
/// run: heph must never list, stop or remove it. Every test that owns the engine (teardown,
/// `heph down`, the examples) is checked against it when it ends.
enum ForeignSentinel {
    /// `heph-foreign-sentinel-<pid>`: one per test process.
    static let name = "heph-foreign-sentinel-\(getpid())"

    private static let started = Mutex(false)

    /// Starts the sentinel once per process, and removes it when the process exits.
    static func ensureRunning() async {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        _ = try? await Docker.run("rm", "-f", name)
        _ = try? await Docker.run("run", "-d", "--name", name, "heph/busybox:latest", "sleep", "86400")
        atexit {
            _ = try? Command.runBlocking(Docker.executable(), ["rm", "-f", ForeignSentinel.name])
        }
    }

    /// Records an issue in the current test when the sentinel is no longer running.
    static func expectUntouched() async {
        let state = try? await Docker.output("inspect", "-f", "{{.State.Status}}", name)
        if state != "running" {
            Issue.record("the foreign container \(name) (named heph-*, not labelled) was touched: it is \(state ?? "gone")")
        }
    }
}
