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
    }

    private struct State {
        var capacity: Int
        var inFlight = 0
        /// In order of arrival; a waiter that gives up is taken out wherever it is.
        var waiting: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
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
            for waiter in admitted { waiter.continuation.resume() }
        }
    }

    /// Calls in flight and calls waiting, for messages and tests.
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
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: UInt64? = state.withLock { state in
            if state.waiting.isEmpty, state.inFlight < state.capacity {
                state.inFlight += 1
                return nil
            }
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        guard let id else { return }
        // The deadline runs on real time: it bounds a wait for the real engine.
        let limit = waitLimit
        let timer = Task { [weak self] in
            try await Task.sleep(for: limit)
            guard let self else { return }
            self.giveUp(id) { state -> any Error in self.queueTimeout(state) }
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Bool, any Error> = state.withLock { state in
                    // Cancelled before the waiter was in place: the handler found nothing to end.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.waiting.isEmpty, state.inFlight < state.capacity {
                        state.inFlight += 1
                        return .success(true)
                    }
                    state.waiting.append(Waiter(id: id, continuation: continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            giveUp(id) { _ -> any Error in CancellationError() }
        }
    }

    /// Ends the wait of `id`, if it still waits, with the error `error` makes of the state
    /// it leaves.
    private func giveUp(_ id: UInt64, with error: (State) -> any Error) {
        let ended = state.withLock { state -> (Waiter, any Error)? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return (state.waiting.remove(at: index), error(state))
        }
        if let (waiter, error) = ended { waiter.continuation.resume(throwing: error) }
    }

    private func release() {
        let admitted = state.withLock { state in
            state.inFlight -= 1
            return Self.admit(&state)
        }
        for waiter in admitted { waiter.continuation.resume() }
    }

    /// Takes the first waiters while there is room, counting them in flight.
    private static func admit(_ state: inout State) -> ArraySlice<Waiter> {
        let room = max(0, min(state.capacity - state.inFlight, state.waiting.count))
        guard room > 0 else { return [] }
        state.inFlight += room
        let admitted = state.waiting.prefix(room)
        state.waiting.removeFirst(room)
        return admitted
    }

    private func queueTimeout(_ state: State) -> DockerError {
        let (capacity, load) = (state.capacity, (state.inFlight, state.waiting.count))
        return DockerError(
            .queueTimeout,
            "this call waited \(formatted(waitLimit)) for a free engine slot (heph sends at most \(capacity) at a time; \(load.0) in flight, \(load.1) more waiting): more work was queued than that bound gets through in time",
            remedy: .raiseEngineConcurrency(current: capacity)
        )
    }

    private static func clamped(_ capacity: Int) -> Int {
        min(max(capacity, 1), maximumCapacity)
    }
}
