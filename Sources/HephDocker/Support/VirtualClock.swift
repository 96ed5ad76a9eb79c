import Synchronization

/// A clock whose time moves on by itself, straight to the next deadline, whenever
/// everything that runs on it waits: `heph test`'s virtual time, in which an hour of backoff
/// takes milliseconds.
///
/// "Everything waits" is known from what sleeps on the clock and what holds it. Every
/// hand-over in a test's world holds it: a Lua runtime while its thread has work; a task
/// started with ``HephClock/task(_:)`` (a script's engine call, a timer, a poller, the
/// simulated engine's own waits) from the moment it is started until it ends, except while
/// it sleeps here; a sleeper the clock woke until it runs; an engine event until the
/// watcher has read it. Once nothing holds it and nothing changed while every other task
/// had its turns (yields), it moves to the earliest deadline: a step costs microseconds.
/// `settling` adds a moment of real time to each step, for work started some other way.
/// It starts at `epochSeconds` (1,700,000,000 in `heph test`).
public final class VirtualClock: HephClock {
    private struct Sleeper {
        let id: Int
        /// What breaks a tie of deadlines, before `id`: the sleeping task's hold's id,
        /// taken on the thread that started the task (so in the order a script's calls and
        /// timers were made), not when the task first ran.
        let order: Int
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
        /// Task holds by id: true while on the clock, false while let go (the task
        /// sleeps); gone once ended. Changed only with `holds`, in one step.
        var taskHolds: [Int: Bool] = [:]
        var nextTaskHold = 0
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
    /// changed while other tasks had their turns (and then for `settling` of real time).
    public init(epochSeconds: Double = 1_700_000_000, settling: Duration = .zero) {
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
        // A task that holds the clock while it works lets go while it sleeps here (its
        // sleep is what the clock may move to), in the same step as its sleep is
        // registered, and takes hold again before it runs on: both under the lock, so an
        // end of the hold meanwhile cannot be miscounted. (Of tasks sharing a hold, an
        // engine call's children, the first to sleep lets go and the first to wake takes back.)
        let token = Self.taskHold?.id
        let letGo = Mutex(false)
        func takeBack() {
            guard let token, letGo.withLock({ $0 }) else { return }
            letGo.withLock { $0 = false }
            state.withLock { state in
                guard state.taskHolds[token] == false else { return }
                state.taskHolds[token] = true
                state.holds += 1
                state.generation += 1
            }
        }
        defer { takeBack() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    guard !Task.isCancelled, !state.stopped else { return true }
                    // A deadline now or past waits too: until everything due before it has
                    // run (heph.sleep(0) lets what is under way happen first).
                    state.sleepers.append(Sleeper(id: id, order: token ?? .max, deadline: max(deadline, state.now), continuation: continuation))
                    if let token, state.taskHolds[token] == true {
                        state.taskHolds[token] = false
                        state.holds -= 1
                        letGo.withLock { $0 = true }
                    }
                    state.generation += 1
                    return false
                }
                if resumeNow { continuation.resume() } else { changes.yield() }
            }
            // Woken by a move of the clock, which held it for this sleeper until now (its
            // task's own hold is taken back first: no gap).
            takeBack()
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

    /// A hold for a task's work (an engine call of a script): taken now, on the caller's
    /// thread, so the clock cannot move before the task starts; the task runs under
    /// ``TaskHold/running(_:)``, which lets the hold go while it sleeps on this clock, and
    /// ends it when done.
    public func taskHold() -> TaskHold {
        let id = state.withLock { state in
            defer { state.nextTaskHold += 1 }
            state.taskHolds[state.nextTaskHold] = true
            state.holds += 1
            state.generation += 1
            return state.nextTaskHold
        }
        return TaskHold(clock: self, id: id)
    }

    /// Runs `body`, a wait for something time moves (another task that sleeps on this clock,
    /// an engine event), with the calling task's hold let go meanwhile; taken back before
    /// the task runs on. Whoever resumes the wait hands the waiter a hold to cover the
    /// moment until then (``HephClock/handOverHold()``, ``HephClock/receiveHandOver()``).
    public func awaitingTime<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows -> T {
        guard let token = Self.taskHold?.id else { return try await body() }
        let letGo = state.withLock { state in
            guard state.taskHolds[token] == true else { return false }
            state.taskHolds[token] = false
            state.holds -= 1
            state.generation += 1
            return true
        }
        if letGo { changes.yield() }
        defer {
            if letGo {
                state.withLock { state in
                    guard state.taskHolds[token] == false else { return }
                    state.taskHolds[token] = true
                    state.holds += 1
                    state.generation += 1
                }
            }
        }
        return try await body()
    }

    /// Ends the task hold `id` (once): off the clock, if it was on.
    fileprivate func endTaskHold(_ id: Int) {
        state.withLock { state in
            if state.taskHolds.removeValue(forKey: id) == true { state.holds -= 1 }
            state.generation += 1
        }
        changes.yield()
    }

    /// The hold of the task running now (inherited by its child tasks), if any.
    @TaskLocal static var taskHold: TaskHold?

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

    /// Wakes the earliest sleeper (moving the clock to its deadline) when nothing holds the
    /// clock; returns whether it woke one. One at a time: sleepers due at the same instant
    /// wake in the order their tasks were started (then went to sleep), each once the one
    /// before has done its work, so a run goes the same way every time (what
    /// `heph test --seed` replays).
    @discardableResult
    func advanceIfIdle(expecting generation: UInt64? = nil) -> Bool {
        let due: Sleeper? = state.withLock { state in
            guard !state.stopped, state.holds == 0, generation.map({ $0 == state.generation }) ?? true,
                  let next = state.sleepers.indices.min(by: { (state.sleepers[$0].deadline, state.sleepers[$0].order, state.sleepers[$0].id) < (state.sleepers[$1].deadline, state.sleepers[$1].order, state.sleepers[$1].id) })
            else { return nil }
            let sleeper = state.sleepers.remove(at: next)
            state.now = max(state.now, sleeper.deadline)
            state.holds += 1
            state.wokenHolds.insert(sleeper.id)
            state.generation += 1
            return sleeper
        }
        guard let due else { return false }
        due.continuation.resume()
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

/// A task's hold on a ``VirtualClock`` (``VirtualClock/taskHold()``): on while the task
/// works, let go while it sleeps on the clock, ended when it is done. Its state lives in
/// the clock, changed with the clock's holds in one step.
public final class TaskHold: Sendable {
    private let clock: VirtualClock
    /// Its key in the clock's state.
    let id: Int

    init(clock: VirtualClock, id: Int) {
        self.clock = clock
        self.id = id
    }

    /// Runs `body` as the task this hold is for, then ends the hold.
    public func running<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        defer { end() }
        return try await VirtualClock.$taskHold.withValue(self) { try await body() }
    }

    /// Ends the hold (once; again is nothing).
    public func end() {
        clock.endTaskHold(id)
    }

    /// Runs `body` under `hold` when there is one (a virtual clock's), else as it is.
    public static func run<T: Sendable>(_ hold: TaskHold?, _ body: () async throws -> T) async rethrows -> T {
        guard let hold else { return try await body() }
        return try await hold.running(body)
    }
}
