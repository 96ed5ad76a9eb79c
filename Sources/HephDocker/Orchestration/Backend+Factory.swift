import Logging

extension Backend {
    /// The one place a backend is made: an orchestrator of this kind over the engine that
    /// `context` names. Does no I/O; throws only for a malformed `DOCKER_HOST` or missing
    /// TLS files.
    public func makeOrchestrator(_ context: RunContext) throws -> any Orchestrator {
        if let record = context.dryRun {
            return DryRunOrchestrator(backend: self, clock: context.clock, record: record, project: context.scope.project)
        }
        let engine = DockerOrchestrator(
            client: try EngineClient(endpoint: EngineEndpoint(environment: context.environment), slots: context.engineSlots, logger: context.logger,
                                 direct: context.directCalls),
            clock: context.clock, scope: context.scope, onAction: context.onAction)
        return switch self {
        case .engine: engine
        case .swarm: SwarmOrchestrator(manager: engine, endpointMode: context.endpointMode)
        }
    }
}

/// What a run gives the orchestrator it makes: the clock, where the engine is, the
/// project, and the backend's defaults.
public struct RunContext: Sendable {
    /// The clock every wait reads.
    public var clock: any HephClock
    /// The environment the engine is read from (`DOCKER_HOST`, the TLS variables).
    public var environment: [String: String]
    /// ``SwarmOrchestrator/endpointMode`` for the swarm backend.
    public var endpointMode: String
    /// Where the engine layer logs.
    public var logger: Logger
    /// Set for a dry run (`heph check`): the orchestrator made touches no engine and writes
    /// what it creates here.
    public var dryRun: DryRunRecord?
    /// The process's bound on bulk engine calls (`--engine-concurrency`,
    /// `heph.config.engine_concurrency`).
    public var engineSlots: EngineSlots
    /// The projects the orchestrator sees (`-p`, `HEPH_PROJECT`, `--all`); a script may
    /// still choose its project with `heph.config.project` (``BackendSession/select(project:)``).
    public var scope: ProjectScope
    /// Hears the Lua name of each orchestrator call that changes something
    /// (`create_container`, `restart_container`, `exec`, …) as it is made, whoever made
    /// it (the script, `heph.up`, a plugin): `heph run --metrics` counts them.
    public var onAction: @Sendable (String) -> Void = { _ in }
    /// A command that makes a few calls one after another and ends (`heph ps`): over a
    /// unix socket, its calls are made on the calling thread, without NIO's event loops
    /// (``EngineClient/direct``). Never for a run, whose calls go on at once.
    public var directCalls = false

    /// Makes a context.
    public init(clock: any HephClock = SystemClock(), environment: [String: String], endpointMode: String = "vip",
                logger: Logger = Logger(label: "heph.docker"), dryRun: DryRunRecord? = nil, engineSlots: EngineSlots = EngineSlots(),
                scope: ProjectScope = .project(.default)) {
        self.scope = scope
        self.clock = clock
        self.environment = environment
        self.endpointMode = endpointMode
        self.logger = logger
        self.dryRun = dryRun
        self.engineSlots = engineSlots
    }
}
