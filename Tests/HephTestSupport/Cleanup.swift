import Foundation
import Synchronization

/// Where the tests' `defer` cleanups (``Docker/forceRemove(_:)`` and its kin) run: one
/// after another on a thread of their own, not on Swift's cooperative pool. A `defer`
/// cannot await, and a `docker rm -f` waited for there blocked one of the pool's threads
/// (two, on a two-core machine: every task of the test process) for as long as the engine
/// took. ``EngineLock`` waits for the queue to drain before it lets the engine go, and
/// the process waits for it before it exits, so nothing is left behind.
public enum Cleanup {
    private static let queue = DispatchQueue(label: "heph-test-cleanup")
    private static let pending = Mutex(0)
    private static let exitHook: Void = {
        atexit { Cleanup.queue.sync {} }
    }()

    /// Runs `work` after the cleanups already queued.
    public static func enqueue(_ work: @escaping @Sendable () -> Void) {
        _ = exitHook
        pending.withLock { $0 += 1 }
        queue.async {
            work()
            pending.withLock { $0 -= 1 }
        }
    }

    /// Returns once every cleanup queued so far has run.
    public static func drained() async {
        while pending.withLock({ $0 }) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
