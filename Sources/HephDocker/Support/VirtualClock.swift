import Synchronization

/// A clock whose time moves on by itself, straight to the next deadline, whenever
/// everything that runs on it waits: `heph test`'s virtual time, in which an hour of backoff
/// takes milliseconds.
///
/// "Everything waits" is known from two things: what sleeps on the clock, and what holds it
/// (``holding(_:)``; a Lua runtime holds it while its thread has work, and a sleeper the
/// clock woke holds it until it runs again). Work that does neither (a task woken by a
/// stream) is given turns (yields) and then a moment of real time to run (`settling`,
/// 0.5 ms by default): the clock moves only after nothing changed meanwhile. It starts at
/// `epochSeconds` (1,700,000,000 in `heph test`).
///
/// Each step costs that moment and a timer's granularity (about 1 ms of real time a step
/// here: some 3,900 steps took 4.3 s): an hour of 100 ms polls is slow. Yields alone (no real moment) make a
/// step cost microseconds but let the clock outrun a task woken on another thread. What is
/// left to make it both fast and exact: every hand-over visible to the clock (an engine
/// event on its way to the watcher, an engine call's task before it starts).
public final class VirtualClock: HephClock {
    private struct Sleeper {
        let id: Int
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: ContinuousClock.Instant
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Work holding the clock still.
        var holds = 0
        /// Sleepers the clock woke, each holding it until it runs.
        var wokenHolds: Set<Int> = []
        /// Counts every change (a sleep, a wake, a hold, a release): the clock moves only
        /// when it stayed the same for the settling time.
        var generation: UInt64 = 0
        var stopped = false
    }

    private let state: Mutex<State>
    private let epoch: Double
    private let start: ContinuousClock.Instant
    private let settling: Duration
    private let changes: AsyncStream<Void>.Continuation
    private let driver: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// A clock standing at `epochSeconds` since the Unix epoch, moving on once nothing has
    /// changed for `settling` of real time.
    public init(epochSeconds: Double = 1_700_000_000, settling: Duration = .microseconds(500)) {
        let start = ContinuousClock.now
        self.start = start
        self.epoch = epochSeconds
        self.settling = settling
        state = Mutex(State(now: start))
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        changes = continuation
        // The loop holds the clock only while it settles, so a clock no one holds ends it.
        driver.withLock {
            $0 = Task { [weak self] in
                for await _ in stream {
                    guard let self else { return }
                    await self.settleAndAdvance()
                }
            }
        }
    }

    deinit {
        changes.finish()
    }

    public var now: ContinuousClock.Instant { state.withLock { $0.now } }

    public var epochSeconds: Double { epoch + (now - start) / .seconds(1) }

    /// How many tasks sleep on this clock right now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    guard deadline > state.now, !Task.isCancelled, !state.stopped else { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    state.generation += 1
                    return false
                }
                if resumeNow { continuation.resume() } else { changes.yield() }
            }
            // Woken by a move of the clock, which held it for this sleeper until now.
            if state.withLock({ $0.wokenHolds.remove(id) != nil }) { release() }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
            }
            sleeper?.continuation.resume(throwing: CancellationError())
            changes.yield()
        }
        try Task.checkCancellation()
        if state.withLock({ $0.stopped }) { throw CancellationError() }
    }

    /// Runs `body` holding the clock still: time does not move while it runs, whatever
    /// sleeps meanwhile.
    public func holding<T>(_ body: () async throws -> T) async rethrows -> T {
        hold()
        defer { release() }
        return try await body()
    }

    /// Holds the clock still until the matching ``release()``.
    public func hold() {
        state.withLock { state in
            state.holds += 1
            state.generation += 1
        }
    }

    /// Ends one ``hold()``.
    public func release() {
        state.withLock { state in
            state.holds -= 1
            state.generation += 1
        }
        changes.yield()
    }

    /// Stops moving: every sleeper is woken with `CancellationError`, and so is every later
    /// sleep, at once (a loop that sleeps ends rather than spins). For the end of a test.
    public func stop() {
        let sleepers = state.withLock { state in
            state.stopped = true
            defer { state.sleepers = [] }
            return state.sleepers
        }
        for sleeper in sleepers { sleeper.continuation.resume(throwing: CancellationError()) }
        changes.finish()
    }

    /// Moves the clock to the earliest deadline when nothing holds it; returns whether it
    /// moved.
    @discardableResult
    func advanceIfIdle(expecting generation: UInt64? = nil) -> Bool {
        let due: [Sleeper]? = state.withLock { state in
            guard !state.stopped, state.holds == 0, generation.map({ $0 == state.generation }) ?? true,
                  let next = state.sleepers.map(\.deadline).min() else { return nil }
            state.now = max(state.now, next)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            state.sleepers.removeAll { $0.deadline <= now }
            state.holds += due.count
            state.wokenHolds.formUnion(due.map(\.id))
            state.generation += 1
            return due
        }
        guard let due else { return false }
        for sleeper in due { sleeper.continuation.resume() }
        changes.yield()
        return true
    }

    /// After a change: once nothing more changed while every other task had its turns
    /// (yields), and then for the settling time, moves to the next deadline.
    private func settleAndAdvance() async {
        while true {
            let observed = state.withLock { $0.generation }
            for _ in 0..<Self.yieldsPerRound { await Task.yield() }
            guard state.withLock({ $0.generation }) == observed else { continue }
            if settling > .zero { try? await Task.sleep(for: settling) }
            if state.withLock({ $0.generation }) == observed {
                advanceIfIdle(expecting: observed)
                return
            }
        }
    }

    /// Turns given to other tasks before the clock may move.
    static let yieldsPerRound = 32
}
