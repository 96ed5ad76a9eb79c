import Logging

/// Which orchestrator a program drives: `heph run --swarm`, or `heph.config.backend`.
public enum Backend: String, Sendable, CaseIterable {
    /// One Docker engine: a container per config (``DockerOrchestrator``).
    case engine
    /// A Docker Swarm through one of its managers: a service per config (``SwarmOrchestrator``).
    case swarm

    /// The one place a backend is made: an orchestrator of this kind over the engine that
    /// `context` names. Does no I/O; throws only for a malformed `DOCKER_HOST` or missing
    /// TLS files.
    public func makeOrchestrator(_ context: RunContext) throws -> any Orchestrator {
        let engine = DockerOrchestrator(client: try EngineClient(endpoint: EngineEndpoint(environment: context.environment), logger: context.logger), clock: context.clock)
        return switch self {
        case .engine: engine
        case .swarm: SwarmOrchestrator(manager: engine, endpointMode: context.endpointMode)
        }
    }
}

/// What a run gives the orchestrator it makes: the clock, where the engine is, and the
/// backend's defaults. (Projects and more join it later.)
public struct RunContext: Sendable {
    /// The clock every wait reads.
    public var clock: any HephClock
    /// The environment the engine is read from (`DOCKER_HOST`, the TLS variables).
    public var environment: [String: String]
    /// ``SwarmOrchestrator/endpointMode`` for the swarm backend.
    public var endpointMode: String
    /// Where the engine layer logs.
    public var logger: Logger

    /// Makes a context.
    public init(clock: any HephClock = SystemClock(), environment: [String: String], endpointMode: String = "vip", logger: Logger = Logger(label: "heph.docker")) {
        self.clock = clock
        self.environment = environment
        self.endpointMode = endpointMode
        self.logger = logger
    }
}
