import Synchronization

/// A clock that moves only when told to (``advance(by:)``): for tests of everything that
/// waits.
///
/// Sleepers whose deadline the clock reaches are resumed in deadline order, but they then
/// run as tasks do, in any order, and all read the clock where the advance left it: to see
/// one deadline at a time, advance to each in turn. ``VirtualClock`` moves by itself
/// whenever everything waits, as `heph test` needs.
public final class ManualClock: HephClock {
    private struct Sleeper {
        let id: Int
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: ContinuousClock.Instant
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    private let state: Mutex<State>
    /// The epoch seconds of the clock's start.
    private let epoch: Double
    private let start: ContinuousClock.Instant

    /// A clock standing at `epochSeconds` since the Unix epoch.
    public init(epochSeconds: Double = 0) {
        let start = ContinuousClock.now
        self.start = start
        epoch = epochSeconds
        state = Mutex(State(now: start))
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
                    guard deadline > state.now, !Task.isCancelled else { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    /// Moves the clock on by `duration`, resuming every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
