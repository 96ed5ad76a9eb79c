import Foundation
import Synchronization

/// An orchestrator that touches no engine: it checks every config as the real one does,
/// records what it is asked to create, and answers as an engine that did it would (a
/// started container with a healthcheck is healthy at once). `heph check` runs scripts
/// against it. `exec` runs nothing (exit code 0, no output); `logs` are empty.
public final class DryRunOrchestrator: Orchestrator, DockerAPI, BackendChoosing {
    /// A container as the dry run keeps it.
    public struct Container: Sendable, Hashable {
        public var id: String
        public var config: ContainerConfig
        public var status: ContainerStatus
        /// The engine's word for the state (`paused` is `error` to heph).
        var paused = false
    }

    private struct State {
        var containers: [String: Container] = [:]
        var created: [Container] = []
        var networks: [String] = []
        var nextID = 1
        var backend: Backend
        /// An engine call was made: the backend is fixed from then on, as on a real engine.
        var used = false
    }

    private let state: Mutex<State>

    /// Makes an empty dry run that checks configs as `backend` would (`heph check --swarm`:
    /// the swarm; the script may still choose with `heph.config.backend`).
    public init(backend: Backend = .engine) {
        state = Mutex(State(backend: backend))
    }

    /// The backend whose rules configs are checked by.
    public var backend: Backend { state.withLock { $0.backend } }

    /// Checks configs by `backend`'s rules from now on; refused, as ``LazyDockerOrchestrator``
    /// refuses it, once an engine call has been made with the other one.
    public func select(_ backend: Backend) throws {
        try state.withLock { state in
            if state.used, state.backend != backend {
                throw DockerError(.conflict, "the \(state.backend.rawValue) backend is in use already (the first engine call chose it); choose the backend before any engine call (heph.config.backend = \"\(backend.rawValue)\" at the top of the script, or heph check --swarm)")
            }
            state.backend = backend
        }
    }

    /// Marks the first engine call (see ``select(_:)``).
    private func use() {
        state.withLock { $0.used = true }
    }

    /// Every container created during the run, in order (removed ones included).
    public var createdContainers: [Container] { state.withLock { $0.created } }
    /// Every network created during the run, in order.
    public var createdNetworks: [String] { state.withLock { $0.networks } }

    public func ping() async throws { use() }
    public func close() async throws {}

    /// Checks exactly what the chosen backend checks: one container per config on the
    /// engine, a Swarm service's spec on a swarm.
    public func checkSupported(_ config: ContainerConfig) throws {
        switch backend {
        case .engine: try config.checkOneContainer()
        case .swarm: _ = try config.serviceSpec()
        }
    }

    public func createContainer(_ config: ContainerConfig) async throws -> String {
        use()
        try config.validate()
        try checkSupported(config)
        let fullName = ContainerName.full(config.name)
        let network = config.networkName ?? networkName
        return try state.withLock { state in
            guard state.containers[fullName] == nil else {
                throw DockerError(.conflict, "a container named \(fullName) already exists; remove it first or choose another name")
            }
            if !state.networks.contains(network) { state.networks.append(network) }
            // Ids that differ in their first 12 digits, as real ones do.
            let id = String(format: "%012x", state.nextID) + String(repeating: "0", count: 52)
            state.nextID += 1
            let container = Container(id: id, config: config, status: .created)
            state.containers[fullName] = container
            state.created.append(container)
            return id
        }
    }

    public func startContainer(_ containerID: String) async throws {
        use()
        try update(containerID) { $0.status = $0.config.healthcheck == nil ? .running : .healthy; $0.paused = false }
    }

    public func stopContainer(_ containerID: String, timeout: Duration) async throws {
        use()
        try update(containerID) { $0.status = .stopped; $0.paused = false }
    }

    public func removeContainer(_ containerID: String) async throws {
        use()
        let name = try lookup(containerID).config.name
        state.withLock { _ = $0.containers.removeValue(forKey: ContainerName.full(name)) }
    }

    public func listContainers() async throws -> [ContainerInfo] {
        use()
        return state.withLock { state in state.containers.values.map(Self.info).sorted { $0.name < $1.name } }
    }

    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo {
        use()
        let container = try lookup(containerID)
        var info = Self.info(container)
        var labels = container.config.labels
        labels[managedLabel] = "true"
        labels[configHashLabel] = try? container.config.fingerprint()
        info.details = ContainerDetails(exitCode: 0, oomKilled: false, restartCount: 0, startedAt: nil, finishedAt: nil,
                                        labels: labels, hostname: container.config.hostname ?? String(container.id.prefix(12)),
                                        health: nil, engineState: container.paused ? "paused" : container.status == .stopped ? "exited" : container.status.rawValue)
        return info
    }

    @discardableResult
    public func createNetwork() async throws -> String {
        use()
        state.withLock { state in
            if !state.networks.contains(networkName) { state.networks.append(networkName) }
        }
        return String(repeating: "0", count: 64)
    }

    public func removeNetwork() async throws { use() }

    public func healthCheck(_ containerID: String) async throws -> ContainerStatus {
        use()
        return (try? lookup(containerID).status) ?? .error
    }

    @discardableResult
    public func teardownAll() async throws -> TeardownReport {
        use()
        return state.withLock { state in
            let names = state.containers.keys.sorted()
            state.containers = [:]
            return TeardownReport(containers: names, networks: [])
        }
    }

    public func restartContainer(_ containerID: String, timeout: Duration) async throws {
        use()
        try await startContainer(containerID)
    }

    public func killContainer(_ containerID: String, signal: String) async throws {
        use()
        try await stopContainer(containerID, timeout: .zero)
    }

    public func pauseContainer(_ containerID: String) async throws {
        use()
        try update(containerID) { $0.status = .error; $0.paused = true }
    }

    public func unpauseContainer(_ containerID: String) async throws {
        use()
        try await startContainer(containerID)
    }

    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput {
        use()
        _ = try lookup(containerID)
        return ContainerOutput()
    }

    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult {
        use()
        _ = try lookup(containerID)
        return ExecResult(exitCode: 0, output: ContainerOutput())
    }

    private func lookup(_ reference: String) throws -> Container {
        try state.withLock { state in
            if let container = state.containers[ContainerName.full(reference)] { return container }
            if ContainerName.isIDPrefix(reference), let container = state.containers.values.first(where: { $0.id.hasPrefix(reference) }) {
                return container
            }
            throw DockerError(.notFound, "no such container: \(ContainerName.full(reference))")
        }
    }

    private func update(_ reference: String, _ change: (inout Container) -> Void) throws {
        var container = try lookup(reference)
        change(&container)
        state.withLock { $0.containers[ContainerName.full(container.config.name)] = container }
    }

    private static func info(_ container: Container) -> ContainerInfo {
        ContainerInfo(id: container.id, name: ContainerName.full(container.config.name), image: container.config.image,
                      status: container.status, ports: container.config.ports)
    }
}
