extension ContinuousClock {
    /// Sleeps until `deadline` (throwing `CancellationError` when cancelled), as a series of
    /// sleeps of at most a second.
    ///
    /// Why: on Linux, a cancelled `sleep` resumes its task at once, but the executor keeps
    /// the sleep's timer entry, and the task it holds, until the original deadline. A script
    /// that starts and stops many long timers (`heph.after(300, …)` then `:stop()`, a
    /// debounce) would hold memory for up to 300 s per stopped timer: 16 MB per million
    /// stopped one-minute timers, measured (docs/reliability.md). In slices, a stopped
    /// timer holds its entry for at most a second.
    public func sleepInSlices(until deadline: Instant) async throws {
        while now < deadline {
            try Task.checkCancellation()
            try await sleep(until: min(deadline, now + .seconds(1)))
        }
        try Task.checkCancellation()
    }
}
