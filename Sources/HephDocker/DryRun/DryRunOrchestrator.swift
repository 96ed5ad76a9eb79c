import Foundation
import Synchronization

/// An orchestrator that touches no engine: it checks every config as the real one does,
/// records what it is asked to create, and answers as an engine that did it would (a
/// started container with a healthcheck is healthy at once). `heph check` runs scripts
/// against it. `exec` runs nothing (exit code 0, no output); `logs` are empty.
public final class DryRunOrchestrator: Orchestrator {
    /// A container as the dry run keeps it.
    public struct Container: Sendable, Hashable {
        public var id: String
        /// The engine's name it would have: `heph_P_web` in project `P`.
        public var dockerName: String
        /// Its mounts, HOST→CONTAINER as the engine would get them: a named volume by the
        /// engine's name (`heph_P_pages→/www`; the dry run cannot know of a volume that exists
        /// and is not heph's, which a run mounts as written), a host path as written.
        public var volumes: [String]
        public var config: ContainerConfig
        public var status: ContainerStatus
        /// The engine's word for the state (`paused` is `error` to heph).
        var paused = false
    }

    private struct State {
        var containers: [String: Container] = [:]
        var nextID = 1
    }

    private let state = Mutex(State())
    /// The backend whose rules configs are checked by.
    public let backend: Backend
    public let clock: any HephClock
    /// Nothing reaches an engine: the lead is taken at once, the state kept in memory.
    public let coordination: any Coordination = LocalCoordination()
    /// Where what the run creates is written down.
    public let record: DryRunRecord
    /// The project whose names it would create.
    public let project: Project

    /// Makes an empty dry run that checks configs as `backend` would (`heph check --swarm`:
    /// the swarm) and writes what it creates into `record`. ``Backend/makeOrchestrator(_:)``
    /// makes one when the run context asks for a dry run.
    public init(backend: Backend = .engine, clock: any HephClock = SystemClock(), record: DryRunRecord = DryRunRecord(), project: Project = .default) {
        self.backend = backend
        self.clock = clock
        self.record = record
        self.project = project
    }

    public func ping() async throws {}
    public func close() async throws {}

    /// Checks exactly what the chosen backend checks: one container per config on the
    /// engine, a Swarm service's spec on a swarm.
    public func checkSupported(_ config: ContainerConfig) throws {
        switch backend {
        case .engine: try config.checkOneContainer(in: project)
        case .swarm: _ = try config.serviceSpec(project: project)
        }
    }

    public func createContainer(_ config: ContainerConfig) async throws -> String {
        try config.validate()
        try checkSupported(config)
        let fullName = ContainerName.full(config.name)
        let creation = try config.engineCreation(in: project)
        return try state.withLock { state in
            guard state.containers[fullName] == nil else {
                throw DockerError(.conflict, "a container named \(fullName) already exists; remove it first or choose another name")
            }
            record.created(network: creation.network)
            // Ids that differ in their first 12 digits, as real ones do.
            let id = String(format: "%012x", state.nextID) + String(repeating: "0", count: 52)
            state.nextID += 1
            // The mounts are in the order of the config's sorted keys.
            let volumes = zip(config.volumes.sorted { $0.key < $1.key }, creation.body.HostConfig.Mounts).map { "\($1.Source)→\($0.value)" }
            let container = Container(id: id, dockerName: creation.fullName, volumes: volumes, config: config, status: .created)
            state.containers[fullName] = container
            record.created(container)
            return id
        }
    }

    public func startContainer(_ containerID: String) async throws {
        try update(containerID) { $0.status = $0.config.healthcheck == nil ? .running : .healthy; $0.paused = false }
    }

    public func stopContainer(_ containerID: String, timeout: Duration) async throws {
        try update(containerID) { $0.status = .stopped; $0.paused = false }
    }

    public func removeContainer(_ containerID: String) async throws {
        let name = try lookup(containerID).config.name
        state.withLock { _ = $0.containers.removeValue(forKey: ContainerName.full(name)) }
    }

    public func listContainers() async throws -> [ContainerInfo] {
        return state.withLock { state in state.containers.values.map(info).sorted { $0.name < $1.name } }
    }

    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo {
        let container = try lookup(containerID)
        var info = info(container)
        var labels = container.config.labels
        labels.merge(project.labels) { _, heph in heph }
        labels[configHashLabel] = try? container.config.fingerprint()
        info.details = ContainerDetails(exitCode: 0, oomKilled: false, restartCount: 0, startedAt: nil, finishedAt: nil,
                                        labels: labels, hostname: container.config.hostname ?? String(container.id.prefix(12)),
                                        health: nil, engineState: container.paused ? "paused" : container.status == .stopped ? "exited" : container.status.rawValue)
        return info
    }

    @discardableResult
    public func createNetwork() async throws -> String {
        record.created(network: project.networkEngineName)
        return String(repeating: "0", count: 64)
    }

    public func removeNetwork() async throws {}

    public func healthCheck(_ containerID: String) async throws -> ContainerStatus {
        return (try? lookup(containerID).status) ?? .error
    }

    /// Removes every container; there are no volumes to remove.
    @discardableResult
    public func teardownAll(removingVolumes: Bool) async throws -> TeardownReport {
        state.withLock { state in
            let names = state.containers.values.map(\.dockerName).sorted()
            state.containers = [:]
            return TeardownReport(containers: names, networks: [])
        }
    }

    public func restartContainer(_ containerID: String, timeout: Duration) async throws {
        try await startContainer(containerID)
    }

    public func killContainer(_ containerID: String, signal: String) async throws {
        try await stopContainer(containerID, timeout: .zero)
    }

    public func pauseContainer(_ containerID: String) async throws {
        try update(containerID) { $0.status = .error; $0.paused = true }
    }

    public func unpauseContainer(_ containerID: String) async throws {
        try await startContainer(containerID)
    }

    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput {
        _ = try lookup(containerID)
        return ContainerOutput()
    }

    /// Nothing: a dry-run container writes nothing.
    public func followLogs(_ containerID: String, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws {
        _ = try lookup(containerID)
    }

    /// No watcher: nothing changes in a dry run unless the script changes it.
    public func makeWatcher(
        pollInterval: Duration,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (ContainerWatcher.Notice) -> Void
    ) -> ContainerWatcher? {
        nil
    }

    public func fingerprint(of config: ContainerConfig) throws -> String {
        try config.fingerprint()
    }

    /// Removes `existing` and creates and starts the new one, as the engine backend does.
    public func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String {
        try await removeContainer(existing.id)
        let id = try await createContainer(config)
        try await startContainer(id)
        return id
    }

    /// As on one engine (its restart policy), whichever backend's rules apply.
    public func restartsAfterExit(_ config: ContainerConfig) -> Bool {
        config.engineRestartsAfterExit
    }

    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult {
        _ = try lookup(containerID)
        return ExecResult(exitCode: 0, output: ContainerOutput())
    }

    private func lookup(_ reference: String) throws -> Container {
        try state.withLock { state in
            if let container = state.containers[ContainerName.full(project.scriptName(reference))] { return container }
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

    private func info(_ container: Container) -> ContainerInfo {
        ContainerInfo(id: container.id, name: ContainerName.full(container.config.name), dockerName: container.dockerName, project: project.name,
                      image: container.config.image, status: container.status, ports: container.config.ports)
    }
}

/// What a dry run created, in order: `heph check`'s summary.
public final class DryRunRecord: Sendable {
    private let state = Mutex<(containers: [DryRunOrchestrator.Container], networks: [String])>(([], []))

    /// An empty record.
    public init() {}

    /// Every container created during the run, in order (removed ones included).
    public var containers: [DryRunOrchestrator.Container] { state.withLock { $0.containers } }
    /// Every network created during the run, in order.
    public var networks: [String] { state.withLock { $0.networks } }

    func created(_ container: DryRunOrchestrator.Container) {
        state.withLock { $0.containers.append(container) }
    }

    func created(network: String) {
        state.withLock { state in
            if !state.networks.contains(network) { state.networks.append(network) }
        }
    }
}
