import Synchronization

/// The orchestrator of one run, made on its first use.
///
/// A program that may never touch the engine (a Lua script that only computes) neither pays
/// for the connection nor fails on a malformed `DOCKER_HOST`: that error surfaces from the
/// first call that needs the engine, every time it is called. Until then the backend and
/// the project may change (``select(_:)``, ``select(project:)``), as `heph.config.backend`
/// and `heph.config.project` do.
public final class BackendSession: Sendable {
    private enum Phase {
        case waiting
        case made(any Orchestrator)
        case failed(any Error)
        case closed
    }

    private let state: Mutex<(backend: Backend, project: Project, phase: Phase)>
    private let make: @Sendable (Backend, Project) throws -> any Orchestrator
    /// Whether the command line (`-p`) or `HEPH_PROJECT` chose the project: a script may
    /// then only agree with it.
    public let projectChosen: Bool
    /// The run's clock: the one every orchestrator the session makes waits by, and the
    /// runtime's.
    public let clock: any HephClock

    /// The bound on the run's bulk engine calls, which `heph.config.engine_concurrency` sets.
    public let engineSlots: EngineSlots

    private init(backend: Backend, project: Project, projectChosen: Bool, phase: Phase, clock: any HephClock, engineSlots: EngineSlots,
                 make: @escaping @Sendable (Backend, Project) throws -> any Orchestrator) {
        state = Mutex((backend, project, phase))
        self.projectChosen = projectChosen
        self.clock = clock
        self.engineSlots = engineSlots
        self.make = make
    }

    /// A session whose first use makes `backend` (or the one chosen by then) as `context`
    /// says: over the engine it names, or a dry run, in the project of `context` (or the one
    /// chosen by then). `projectChosen`: the command line or `HEPH_PROJECT` chose it.
    public convenience init(backend: Backend = .engine, context: RunContext, projectChosen: Bool = false) {
        self.init(backend: backend, project: context.scope.project, projectChosen: projectChosen, phase: .waiting, clock: context.clock,
                  engineSlots: context.engineSlots) { backend, project in
            var context = context
            context.scope = .project(project)
            return try backend.makeOrchestrator(context)
        }
    }

    /// A session over an orchestrator made already: its backend and project can no longer change.
    public convenience init(_ orchestrator: any Orchestrator, backend: Backend = .engine, project: Project = .default, engineSlots: EngineSlots = EngineSlots()) {
        self.init(backend: backend, project: project, projectChosen: false, phase: .made(orchestrator), clock: orchestrator.clock, engineSlots: engineSlots) { _, _ in orchestrator }
    }

    /// A session over `engine` (`heph test`): its first use makes a ``SimulatedOrchestrator``
    /// in the project chosen by then. The swarm backend is not simulated: choosing it is an
    /// error at that first use.
    public convenience init(simulating engine: SimulatedEngine, project: Project = .default, projectChosen: Bool = false,
                            mutation: SimulatedOrchestrator.Mutation? = nil) {
        self.init(backend: .engine, project: project, projectChosen: projectChosen, phase: .waiting, clock: engine.clock,
                  engineSlots: EngineSlots()) { backend, project in
            guard backend == .engine else {
                throw DockerError(.invalidConfig, "heph test simulates one Docker engine, not a swarm: test the recovery logic on the engine backend (leave heph.config.backend unset), and the swarm itself with heph run --swarm")
            }
            return SimulatedOrchestrator(engine: engine, project: project, mutation: mutation)
        }
    }

    /// Whether the orchestrator has been made: the script's first engine call is behind it.
    public var isInUse: Bool {
        state.withLock { state in
            if case .made = state.phase { true } else { false }
        }
    }

    /// The backend chosen: the one in use, or the one the first use will make.
    public var backend: Backend { state.withLock { $0.backend } }

    /// The project chosen: the one in use, or the one the first use will make.
    public var project: Project { state.withLock { $0.project } }

    /// Chooses the project for the first use. Choosing the one in use is not an error.
    ///
    /// - Throws: ``DockerError/Code/conflict`` when `-p` or `HEPH_PROJECT` chose another, or
    ///   once the first engine call fixed another.
    public func select(project: Project) throws {
        try state.withLock { state in
            guard project != state.project else { return }
            if projectChosen {
                throw DockerError(.conflict, "this run is project \(state.project.name), chosen by -p/--project or HEPH_PROJECT (or the default, with --lead); a script cannot choose \(project.name) (leave heph.config.project unset, or run it with -p \(project.name))")
            }
            switch state.phase {
            case .waiting:
                state.project = project
            case .made, .failed, .closed:
                throw DockerError(.conflict, "this run is project \(state.project.name) already (the first engine call fixed it); set heph.config.project to \(project.name) before anything reaches the engine")
            }
        }
    }

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
                    let orchestrator = try make(state.backend, state.project)
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
