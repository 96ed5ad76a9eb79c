import Logging
import Synchronization

/// A ``DockerOrchestrator`` made on first use.
///
/// A program that may never touch the engine (a Lua script that only computes) neither
/// pays for the connection nor fails on a malformed `DOCKER_HOST`: that error surfaces from
/// the first call that needs the engine, every time it is called.
public final class LazyDockerOrchestrator: Orchestrator, DockerAPI {
    private enum State {
        case waiting([String: String])
        case connected(DockerOrchestrator)
        case failed(DockerError)
        case closed
    }

    private let state: Mutex<State>
    private let logger: Logger

    /// An orchestrator for the engine that `environment` (`DOCKER_HOST`, TLS variables) names.
    public init(environment: [String: String], logger: Logger = Logger(label: "heph.docker")) {
        state = Mutex(.waiting(environment))
        self.logger = logger
    }

    /// The orchestrator, connecting on the first call.
    public func connected() throws -> DockerOrchestrator {
        try state.withLock { state in
            switch state {
            case .connected(let orchestrator):
                return orchestrator
            case .failed(let error):
                throw error
            case .closed:
                throw DockerError(.engineUnreachable, "the engine connection is closed")
            case .waiting(let environment):
                do {
                    let orchestrator = DockerOrchestrator(client: try Client(endpoint: EngineEndpoint(environment: environment), logger: logger))
                    state = .connected(orchestrator)
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
        if case .connected(let orchestrator) = previous { try await orchestrator.close() }
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
}
