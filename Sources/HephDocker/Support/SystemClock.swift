import Foundation

/// The real clock: what `heph run`, `heph repl` and `heph check` are given.
public final class SystemClock: HephClock {
    /// The real clock.
    public init() {}

    public var now: ContinuousClock.Instant { ContinuousClock.now }

    /// Read as `clock_gettime` gives it: `heph.now()` asks this on every call.
    public var epochSeconds: Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Sleeps in slices of at most a second.
    ///
    /// Why: on Linux, a cancelled `sleep` resumes its task at once, but the executor keeps
    /// the sleep's timer entry, and the task it holds, until the original deadline. A script
    /// that starts and stops many long timers (`heph.after(300, …)` then `:stop()`, a
    /// debounce) would hold memory for up to 300 s per stopped timer: 16 MB per million
    /// stopped one-minute timers, measured (docs/reliability.md). In slices, a stopped
    /// timer holds its entry for at most a second.
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let clock = ContinuousClock()
        while clock.now < deadline {
            try Task.checkCancellation()
            try await clock.sleep(until: min(deadline, clock.now + .seconds(1)))
        }
        try Task.checkCancellation()
    }
}
