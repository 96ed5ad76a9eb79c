import Synchronization

/// The orchestrator of one run, made on its first use.
///
/// A program that may never touch the engine (a Lua script that only computes) neither pays
/// for the connection nor fails on a malformed `DOCKER_HOST`: that error surfaces from the
/// first call that needs the engine, every time it is called. Until then the backend may
/// change (``select(_:)``), as `heph.config.backend` does.
public final class BackendSession: Sendable {
    private enum Phase {
        case waiting
        case made(any Orchestrator)
        case failed(any Error)
        case closed
    }

    private let state: Mutex<(backend: Backend, phase: Phase)>
    private let make: @Sendable (Backend) throws -> any Orchestrator
    /// The run's clock: the one every orchestrator the session makes waits by, and the
    /// runtime's.
    public let clock: any HephClock

    /// The bound on the run's bulk engine calls, which `heph.config.engine_concurrency` sets.
    public let engineSlots: EngineSlots

    private init(backend: Backend, phase: Phase, clock: any HephClock, engineSlots: EngineSlots, make: @escaping @Sendable (Backend) throws -> any Orchestrator) {
        state = Mutex((backend, phase))
        self.clock = clock
        self.engineSlots = engineSlots
        self.make = make
    }

    /// A session whose first use makes `backend` (or the one chosen by then) as `context`
    /// says: over the engine it names, or a dry run.
    public convenience init(backend: Backend = .engine, context: RunContext) {
        self.init(backend: backend, phase: .waiting, clock: context.clock, engineSlots: context.engineSlots) { try $0.makeOrchestrator(context) }
    }

    /// A session over an orchestrator made already: its backend can no longer change.
    public convenience init(_ orchestrator: any Orchestrator, backend: Backend = .engine, engineSlots: EngineSlots = EngineSlots()) {
        self.init(backend: backend, phase: .made(orchestrator), clock: orchestrator.clock, engineSlots: engineSlots) { _ in orchestrator }
    }

    /// The backend chosen: the one in use, or the one the first use will make.
    public var backend: Backend { state.withLock { $0.backend } }

    /// Chooses the backend for the first use. Choosing the one in use is not an error.
    ///
    /// - Throws: ``DockerError/Code/conflict`` with ``DockerError/Remedy/chooseBackendFirst(wanted:)``
    ///   once another backend is in use.
    public func select(_ backend: Backend) throws {
        try state.withLock { state in
            switch state.phase {
            case .waiting:
                state.backend = backend
            case .made where state.backend != backend:
                throw DockerError(.conflict, "the \(state.backend.rawValue) backend is in use already (the first engine call chose it)", remedy: .chooseBackendFirst(wanted: backend))
            case .made, .failed, .closed:
                break
            }
        }
    }

    /// The orchestrator, made on the first call.
    public func orchestrator() throws -> any Orchestrator {
        try state.withLock { state in
            switch state.phase {
            case .made(let orchestrator):
                return orchestrator
            case .failed(let error):
                throw error
            case .closed:
                throw DockerError(.engineUnreachable, "the engine connection is closed")
            case .waiting:
                do {
                    let orchestrator = try make(state.backend)
                    state.phase = .made(orchestrator)
                    return orchestrator
                } catch {
                    state.phase = .failed(error)
                    throw error
                }
            }
        }
    }

    /// Closes the orchestrator if one was made. Calling it twice is not an error.
    public func close() async throws {
        let previous = state.withLock { state in
            defer { state.phase = .closed }
            return state.phase
        }
        if case .made(let orchestrator) = previous { try await orchestrator.close() }
    }
}
