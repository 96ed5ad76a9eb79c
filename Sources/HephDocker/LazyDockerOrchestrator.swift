import Logging
import Synchronization

/// A ``DockerOrchestrator`` (or, for ``Backend/swarm``, a ``SwarmOrchestrator``) made on
/// first use.
///
/// A program that may never touch the engine (a Lua script that only computes) neither
/// pays for the connection nor fails on a malformed `DOCKER_HOST`: that error surfaces from
/// the first call that needs the engine, every time it is called. Until then the backend
/// may change (``select(_:)``).
public final class LazyDockerOrchestrator: Orchestrator, DockerAPI {
    private enum State {
        case waiting([String: String], Backend)
        case connected(any ConnectedBackend, Backend)
        case failed(DockerError)
        case closed
    }

    private let state: Mutex<State>
    private let logger: Logger
    /// ``SwarmOrchestrator/endpointMode`` for the Swarm backend.
    private let endpointMode: String

    /// An orchestrator for the engine that `environment` (`DOCKER_HOST`, TLS variables)
    /// names, driving `backend` on it.
    /// `endpointMode` is the Swarm backend's default (``SwarmOrchestrator/endpointMode``).
    public init(environment: [String: String], backend: Backend = .engine, endpointMode: String = "vip", logger: Logger = Logger(label: "heph.docker")) {
        state = Mutex(.waiting(environment, backend))
        self.endpointMode = endpointMode
        self.logger = logger
    }

    /// The backend chosen: the one connected, or the one the first call will connect.
    public var backend: Backend {
        state.withLock { state in
            switch state {
            case .waiting(_, let backend), .connected(_, let backend): backend
            case .failed, .closed: .engine
            }
        }
    }

    /// Chooses the backend for the first call. Choosing the one already connected is not
    /// an error.
    ///
    /// - Throws: ``DockerError/Code/conflict`` once a call has connected another backend.
    public func select(_ backend: Backend) throws {
        try state.withLock { state in
            switch state {
            case .waiting(let environment, _):
                state = .waiting(environment, backend)
            case .connected(_, let current) where current != backend:
                throw DockerError(.conflict, "the \(current.rawValue) backend is in use already (the first engine call chose it); choose the backend before any engine call (heph.config.backend = \"\(backend.rawValue)\" at the top of the script, or heph run --swarm)")
            case .connected, .failed, .closed:
                break
            }
        }
    }

    /// The orchestrator, connecting on the first call.
    public func connected() throws -> any ConnectedBackend {
        try state.withLock { state in
            switch state {
            case .connected(let orchestrator, _):
                return orchestrator
            case .failed(let error):
                throw error
            case .closed:
                throw DockerError(.engineUnreachable, "the engine connection is closed")
            case .waiting(let environment, let backend):
                do {
                    let engine = DockerOrchestrator(client: try Client(endpoint: EngineEndpoint(environment: environment), logger: logger))
                    let orchestrator: any ConnectedBackend = switch backend {
                    case .engine: engine
                    case .swarm: SwarmOrchestrator(engine: engine, endpointMode: endpointMode)
                    }
                    state = .connected(orchestrator, backend)
                    return orchestrator
                } catch let error as DockerError {
                    state = .failed(error)
                    throw error
                }
            }
        }
    }

    /// Closes the connection if one was made. Calling it twice is not an error.
    public func close() async throws {
        let previous = state.withLock { state in
            defer { state = .closed }
            return state
        }
        if case .connected(let orchestrator, _) = previous { try await orchestrator.close() }
    }

    public func ping() async throws { try await connected().ping() }
    public func createContainer(_ config: ContainerConfig) async throws -> String { try await connected().createContainer(config) }
    public func startContainer(_ containerID: String) async throws { try await connected().startContainer(containerID) }
    public func stopContainer(_ containerID: String, timeout: Duration) async throws { try await connected().stopContainer(containerID, timeout: timeout) }
    public func removeContainer(_ containerID: String) async throws { try await connected().removeContainer(containerID) }
    public func listContainers() async throws -> [ContainerInfo] { try await connected().listContainers() }
    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo { try await connected().inspectContainer(containerID) }
    @discardableResult public func createNetwork() async throws -> String { try await connected().createNetwork() }
    public func removeNetwork() async throws { try await connected().removeNetwork() }
    public func healthCheck(_ containerID: String) async throws -> ContainerStatus { try await connected().healthCheck(containerID) }
    @discardableResult public func teardownAll() async throws -> TeardownReport { try await connected().teardownAll() }
    public func restartContainer(_ containerID: String, timeout: Duration) async throws { try await connected().restartContainer(containerID, timeout: timeout) }
    public func killContainer(_ containerID: String, signal: String) async throws { try await connected().killContainer(containerID, signal: signal) }
    public func pauseContainer(_ containerID: String) async throws { try await connected().pauseContainer(containerID) }
    public func unpauseContainer(_ containerID: String) async throws { try await connected().unpauseContainer(containerID) }
    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput { try await connected().logs(containerID, tail: tail) }
    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult { try await connected().exec(containerID, command: command) }
    public func checkSupported(_ config: ContainerConfig) throws { try connected().checkSupported(config) }
    public func fingerprint(of config: ContainerConfig) throws -> String { try connected().fingerprint(of: config) }
    public func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String { try await connected().replaceContainer(existing, with: config) }
    public func restartsAfterExit(_ config: ContainerConfig) -> Bool { (try? connected().restartsAfterExit(config)) ?? false }
}
