/// The clock a run reads: every wait, timeout, deadline, poll interval and backoff in the
/// engine layer and the runtime asks it, never `ContinuousClock` or `Date` directly, so a
/// run can be given virtual time (`heph test`) and more than one run can live in a process.
///
/// Instants are `ContinuousClock.Instant`s: a virtual clock counts from a real instant it
/// took when made and moves only when told to.
public protocol HephClock: AnyObject, Sendable {
    /// Now, on this clock's monotonic time line.
    var now: ContinuousClock.Instant { get }
    /// Now as seconds since the Unix epoch (`heph.now()`, event times).
    var epochSeconds: Double { get }
    /// Returns at `deadline` (at once when it has passed); throws `CancellationError` when
    /// the task is cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension HephClock {
    /// Starts `work` on a task of its own. On a ``VirtualClock`` the clock stands still
    /// from this call until `work` ends, except while `work` sleeps on it: virtual time
    /// never moves past a task that has not started yet, or is at work. Only for work whose
    /// every wait is a sleep on this clock or an engine call (never a stream or a lock).
    @discardableResult
    public func task<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> Task<T, Never> {
        guard let virtual = self as? VirtualClock else { return Task { await work() } }
        let hold = virtual.taskHold()
        return Task { await hold.running(work) }
    }

    /// A hold for a task about to start (a child of a task group, say), to run under with
    /// ``TaskHold/run(_:_:)``; nil unless this is a ``VirtualClock``.
    public func newTaskHold() -> TaskHold? {
        (self as? VirtualClock)?.taskHold()
    }

    /// Runs `body`, a wait for something time moves, with the calling task's hold (on a
    /// ``VirtualClock``) let go meanwhile: ``VirtualClock/awaitingTime(_:)``.
    public func awaitingTime<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows -> T {
        guard let virtual = self as? VirtualClock else { return try await body() }
        return try await virtual.awaitingTime(isolation: isolation, body)
    }

    /// Before resuming a task that waits in ``awaitingTime(_:)``: a hold it takes over
    /// with ``receiveHandOver()`` once it runs, so virtual time cannot move in between.
    public func handOverHold() {
        (self as? VirtualClock)?.hold()
    }

    /// After a wait in ``awaitingTime(_:)`` that was resumed with ``handOverHold()``.
    public func receiveHandOver() {
        (self as? VirtualClock)?.release()
    }

    /// Sleeps for `duration` from now.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }

    /// Calls `body` after `delay`, then every `interval` after the previous due time (a fixed
    /// rate: a slow call delays the next one, it does not shift every later one), until the
    /// task is cancelled or `body` returns false.
    public func repeating(every interval: Duration, startingAfter delay: Duration = .zero, _ body: () async -> Bool) async {
        var due = now + delay
        while !Task.isCancelled {
            do { try await sleep(until: due) } catch { return }
            guard !Task.isCancelled, await body() else { return }
            due += interval
            if due < now { due = now }
        }
    }

    /// Asks `check` every `interval` until it returns a value or `deadline` passes; nil when
    /// the deadline passed first. `check` runs at least once.
    public func poll<T>(every interval: Duration, until deadline: ContinuousClock.Instant, _ check: () async throws -> T?) async throws -> T? {
        while true {
            if let value = try await check() { return value }
            guard now < deadline else { return nil }
            try await sleep(until: min(deadline, now + interval))
        }
    }
}
