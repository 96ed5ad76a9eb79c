import Synchronization

/// heph's bound on its own bulk calls to the engine: at most ``capacity`` in flight per
/// process, the rest waiting their turn in order of arrival.
///
/// Sending every request at once does not make the engine faster: it queues them in heph's
/// HTTP connection pool instead, where they time out and read as the engine being
/// unreachable. Waiting here is heph's own wait, so it is reported as such
/// (``DockerError/Code/queueTimeout``) and never blamed on the engine.
///
/// Control traffic (the event stream, the watcher's polls) takes no slot: see ``EngineLane``.
public final class EngineSlots: Sendable {
    /// The default number of calls in flight, chosen from the sweep in docs/benchmarks.md
    /// ("Engine concurrency"): the smallest that brings 200 services up and down at the
    /// engine's pace.
    public static let defaultCapacity = 16
    /// The largest ``capacity`` heph accepts: past it an engine only queues the calls itself.
    public static let maximumCapacity = 256
    /// How long a call waits for a slot before it fails with ``DockerError/Code/queueTimeout``.
    /// Generous: a queue that moves is not an error; one this slow means more work was
    /// queued than the slots let through.
    public static let defaultWaitLimit: Duration = .seconds(300)

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
        /// Ends the wait at ``waitLimit``; cancelled when the wait ends otherwise.
        var timer: Task<Void, Never>?

        func resume(throwing error: (any Error)? = nil) {
            timer?.cancel()
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }

    private struct State {
        var capacity: Int
        /// When each call in flight got its slot, by waiter id: the oldest tells a wait
        /// behind a slow engine from a long queue.
        var holders: [UInt64: ContinuousClock.Instant] = [:]
        var inFlight: Int { holders.count }
        /// In order of arrival; a waiter that gives up is taken out wherever it is.
        var waiting: [Waiter] = []
    }

    private let state: Mutex<State>
    private let nextID = Atomic<UInt64>(0)
    /// How long a call waits for a slot before it gives up.
    public let waitLimit: Duration

    /// Slots for `capacity` calls at once (clamped to 1…``maximumCapacity``).
    public init(capacity: Int = defaultCapacity, waitLimit: Duration = defaultWaitLimit) {
        state = Mutex(State(capacity: Self.clamped(capacity)))
        self.waitLimit = waitLimit
    }

    /// How many calls may be in flight. Raising it lets waiting calls in at once; lowering
    /// it lets the calls in flight finish and admits no more until they are under it.
    public var capacity: Int {
        get { state.withLock { $0.capacity } }
        set {
            let admitted = state.withLock { state in
                state.capacity = Self.clamped(newValue)
                return Self.admit(&state)
            }
            for waiter in admitted { waiter.resume() }
        }
    }

    /// Calls in flight and calls waiting, as they are now.
    public var load: (inFlight: Int, waiting: Int) {
        state.withLock { ($0.inFlight, $0.waiting.count) }
    }

    /// Whether `value` is a capacity heph accepts.
    public static func accepts(_ value: Int) -> Bool {
        (1...maximumCapacity).contains(value)
    }

    /// Runs `body` holding a slot.
    ///
    /// - Throws: ``DockerError/Code/queueTimeout`` when no slot came free within
    ///   ``waitLimit``; `CancellationError` when the task was cancelled while waiting.
    public func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        try await acquire(id)
        defer { release(id) }
        return try await body()
    }

    /// Takes a slot, or joins the queue and waits for one. Whether there is room and the
    /// joining are decided under one lock, so no later call overtakes a waiting one.
    private func acquire(_ id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let queued: Bool? = state.withLock { state in
                    // Cancelled before the waiter was in place: the handler found nothing to end.
                    if Task.isCancelled { return nil }
                    if state.waiting.isEmpty, state.inFlight < state.capacity {
                        state.holders[id] = .now
                        return false
                    }
                    state.waiting.append(Waiter(id: id, continuation: continuation))
                    return true
                }
                switch queued {
                case nil: continuation.resume(throwing: CancellationError())
                case false: continuation.resume()
                case true: startTimer(for: id)
                }
            }
        } onCancel: {
            giveUp(id) { _ -> any Error in CancellationError() }
        }
    }

    /// Arms the wait limit of waiter `id`, unless its wait has ended already.
    private func startTimer(for id: UInt64) {
        // The limit runs on real time: it bounds a wait for the real engine.
        let limit = waitLimit
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: limit)) != nil, let self else { return }
            self.giveUp(id) { state -> any Error in self.queueTimeout(state) }
        }
        let armed = state.withLock { state in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return false }
            state.waiting[index].timer = timer
            return true
        }
        if !armed { timer.cancel() }
    }

    /// Ends the wait of `id`, if it still waits, with the error `error` makes of the state
    /// it leaves.
    private func giveUp(_ id: UInt64, with error: (State) -> any Error) {
        let ended = state.withLock { state -> (Waiter, any Error)? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return (state.waiting.remove(at: index), error(state))
        }
        if let (waiter, error) = ended { waiter.resume(throwing: error) }
    }

    private func release(_ id: UInt64) {
        let admitted = state.withLock { state in
            state.holders[id] = nil
            return Self.admit(&state)
        }
        for waiter in admitted { waiter.resume() }
    }

    /// Takes the first waiters while there is room, counting them in flight.
    private static func admit(_ state: inout State) -> ArraySlice<Waiter> {
        let room = max(0, min(state.capacity - state.inFlight, state.waiting.count))
        guard room > 0 else { return [] }
        let admitted = state.waiting.prefix(room)
        state.waiting.removeFirst(room)
        let now = ContinuousClock.now
        for waiter in admitted { state.holders[waiter.id] = now }
        return admitted
    }

    private func queueTimeout(_ state: State) -> DockerError {
        let capacity = state.capacity
        var message = "this call waited \(formatted(waitLimit)) for a free engine slot (heph sends at most \(capacity) at a time; \(state.inFlight) in flight, \(state.waiting.count) more waiting)"
        // Whole seconds: the age says which wait it is, not how long to the millisecond.
        if let oldest = state.holders.values.min() {
            message += "; the oldest call in flight was sent \(formatted(.seconds(Int((ContinuousClock.now - oldest) / .seconds(1))))) ago"
        }
        message += ": more work was queued than that bound gets through in time"
        return DockerError(.queueTimeout, message, remedy: .raiseEngineConcurrency(current: capacity))
    }

    private static func clamped(_ capacity: Int) -> Int {
        min(max(capacity, 1), maximumCapacity)
    }
}
