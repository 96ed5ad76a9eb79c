import Logging
import Synchronization

/// The ``Orchestrator`` over a ``SimulatedEngine``: what `heph test` runs scripts against.
///
/// It checks configs and names references exactly as the engine backend does (the same
/// validation, the same project names), answers from the simulated world, and writes down
/// every call that changes something (``actions``), in order. A call that changes
/// something returns once the watcher has read the events it caused.
public final class SimulatedOrchestrator: Orchestrator {
    /// One call that changed something: `op` is the Lua function's name
    /// (`restart_container`), `name` the script's name of what it acted on, `at` the
    /// clock's epoch seconds at the call.
    public struct Action: Sendable, Hashable {
        public var op: String
        public var name: String
        public var at: Double
    }

    /// A deliberate infidelity, for the conformance suite's check that it can fail
    /// (`heph test --mutate`): the transitions lose `previous`, or each container's second
    /// and third arrive swapped.
    public enum Mutation: String, Sendable, CaseIterable {
        case dropPrevious = "drop-previous"
        case swap
    }

    /// The simulated world.
    public let engine: SimulatedEngine
    /// The project whose names it gives.
    public let project: Project
    /// The infidelity it commits, if any (never outside that check).
    public let mutation: Mutation?
    private let recorded = Mutex<[Action]>([])
    let logger = Logger(label: "heph.simulation")

    public var clock: any HephClock { engine.clock }
    /// One process: it leads at once; the state lives in memory, per test.
    public let coordination: any Coordination = LocalCoordination()

    /// An orchestrator over `engine`, in `project`.
    public init(engine: SimulatedEngine, project: Project = .default, mutation: Mutation? = nil) {
        self.engine = engine
        self.project = project
        self.mutation = mutation
    }

    /// Every call that changed something, in order.
    public var actions: [Action] { recorded.withLock { $0 } }

    /// The id of the container a script's reference names (as ``containerID(_:)``), or nil.
    public func id(of reference: String) -> String? {
        engine.id(of: ContainerName.isIDPrefix(reference) ? reference : engineName(of: reference))
    }

    public func ping() async throws {
        try engine.checkReachable()
    }

    public func close() async throws {}

    public func createContainer(_ config: ContainerConfig) async throws -> String {
        let neutral = try config.neutralCreation()
        try config.validateSwarmServiceOptions()
        try config.checkOneContainer()
        let creation = try neutral.placed(in: project, foreignVolumes: [])
        if creation.network == project.networkEngineName { _ = try engine.network(creation.network) }
        let id = try engine.createContainer(name: creation.fullName, config: config, labels: creation.body.Labels)
        record("create_container", creation.fullName)
        await engine.drained()
        return id
    }

    public func startContainer(_ containerID: String) async throws {
        let container = try lookUp(containerID)
        record("start_container", container.name)
        try engine.startContainer(container.id)
        await engine.drained()
    }

    public func stopContainer(_ containerID: String, timeout: Duration) async throws {
        let container = try lookUp(containerID)
        record("stop_container", container.name)
        try engine.stopContainer(container.id)
        await engine.drained()
    }

    /// As the engine backend: a graceful stop of a running container (it exits 0), then
    /// the removal.
    public func removeContainer(_ containerID: String) async throws {
        let container = try lookUp(containerID)
        record("remove_container", container.name)
        try engine.stopContainer(container.id)
        try engine.removeContainer(container.id)
        await engine.drained()
    }

    public func listContainers() async throws -> [ContainerInfo] {
        try engine.containers().filter { project.isDefault ? Project.named(by: $0.labels) == Project.default.name : $0.labels[projectLabel] == project.name }
            .map { Self.info($0) }.sorted { $0.name < $1.name }
    }

    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo {
        let container = try lookUp(containerID)
        var info = Self.info(container)
        info.details = ContainerDetails(
            exitCode: container.exitCode, oomKilled: container.oomKilled, restartCount: container.restartCount,
            startedAt: container.startedAt, finishedAt: container.finishedAt, labels: container.labels,
            hostname: container.config.hostname ?? String(container.id.prefix(12)),
            health: container.health.map { HealthDetails(status: $0, failingStreak: container.failingStreak, log: []) },
            engineState: container.state)
        return info
    }

    @discardableResult
    public func createNetwork() async throws -> String {
        let id = try engine.network(project.networkEngineName)
        record("create_network", networkName)
        return id
    }

    public func removeNetwork() async throws {
        if try engine.removeNetwork(project.networkEngineName) { record("remove_network", networkName) }
    }

    public func healthCheck(_ containerID: String) async throws -> ContainerStatus {
        do {
            return Self.info(try lookUp(containerID)).status
        } catch let error as DockerError where error.code == .notFound {
            return .error
        }
    }

    @discardableResult
    public func teardownAll(removingVolumes: Bool) async throws -> TeardownReport {
        var report = TeardownReport()
        for container in try await listContainers() {
            try await removeContainer(container.id)
            report.containers.append(container.dockerName)
        }
        if try engine.removeNetwork(project.networkEngineName) {
            record("remove_network", networkName)
            report.networks = [project.networkEngineName]
        }
        return report
    }

    public func restartContainer(_ containerID: String, timeout: Duration) async throws {
        let container = try lookUp(containerID)
        record("restart_container", container.name)
        try engine.stopContainer(container.id)
        try engine.startContainer(container.id)
        await engine.drained()
    }

    public func killContainer(_ containerID: String, signal: String) async throws {
        let container = try lookUp(containerID)
        guard let number = Self.signalNumber(signal) else {
            throw DockerError(.invalidConfig, "signal \(quoted(signal)) is not a signal; use a name such as \"SIGKILL\" or a number")
        }
        record("kill_container", container.name)
        try engine.signalContainer(container.id, signal: number)
        await engine.drained()
    }

    public func pauseContainer(_ containerID: String) async throws {
        let container = try lookUp(containerID)
        record("pause_container", container.name)
        try engine.pauseContainer(container.id, true)
        await engine.drained()
    }

    public func unpauseContainer(_ containerID: String) async throws {
        let container = try lookUp(containerID)
        record("unpause_container", container.name)
        try engine.pauseContainer(container.id, false)
        await engine.drained()
    }

    /// What ``SimulatedEngine/setOutput(_:stdout:stderr:)`` set (nothing by default), the
    /// last `tail` lines of each stream when given.
    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput {
        let output = try lookUp(containerID).output
        guard let tail else { return output }
        return ContainerOutput(stdout: Self.lastLines(tail, of: output.stdout), stderr: Self.lastLines(tail, of: output.stderr))
    }

    /// What the logs hold, once: a simulated container writes nothing more.
    public func followLogs(_ containerID: String, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws {
        onOutput(try await logs(containerID, tail: tail))
    }

    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult {
        let container = try lookUp(containerID)
        guard container.state == "running" else {
            throw DockerError(.conflict, "cannot exec in \(container.name): it is \(container.state), not running")
        }
        record("exec", container.name)
        // Succeeds, writing nothing (until `sim.exec_result` sets an answer).
        return ExecResult(exitCode: 0, output: ContainerOutput())
    }

    public func makeWatcher(
        pollInterval: Duration,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (ContainerWatcher.Notice) -> Void
    ) -> ContainerWatcher? {
        ContainerWatcher(feed: SimulatedFeed(orchestrator: self, pollInterval: pollInterval), onTransition: mutated(onTransition), onNotice: onNotice)
    }

    /// `deliver` as ``mutation`` bends it.
    private func mutated(_ deliver: @escaping @Sendable (ContainerTransition) -> Void) -> @Sendable (ContainerTransition) -> Void {
        switch mutation {
        case nil:
            return deliver
        case .dropPrevious:
            return { transition in
                var transition = transition
                transition.previous = nil
                deliver(transition)
            }
        case .swap:
            // Per container: how many came, and the second, held until the third.
            let seen = Mutex<[String: (count: Int, held: ContainerTransition?)]>([:])
            return { transition in
                let out: [ContainerTransition] = seen.withLock { seen in
                    var entry = seen[transition.id] ?? (0, nil)
                    entry.count += 1
                    defer { seen[transition.id] = entry }
                    switch entry.count {
                    case 2:
                        entry.held = transition
                        return []
                    case 3:
                        defer { entry.held = nil }
                        return [transition] + (entry.held.map { [$0] } ?? [])
                    default:
                        return [transition]
                    }
                }
                out.forEach(deliver)
            }
        }
    }

    public func checkSupported(_ config: ContainerConfig) throws {
        try config.checkOneContainer(in: project)
    }

    public func fingerprint(of config: ContainerConfig) throws -> String {
        try config.fingerprint()
    }

    /// Removes `existing`, then creates and starts the new one, as the engine backend does.
    public func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String {
        try await removeContainer(existing.id)
        let id = try await createContainer(config)
        try await startContainer(id)
        return id
    }

    public func restartsAfterExit(_ config: ContainerConfig) -> Bool {
        config.engineRestartsAfterExit
    }

    // MARK: Helpers

    /// The engine's name a reference stands for, as the engine backend reads it.
    private func engineName(of reference: String) -> String {
        if !project.isDefault, reference.hasPrefix(project.enginePrefix) { return reference }
        return project.engineName(reference)
    }

    /// The project's container `reference` names.
    /// The simulated engine answers every kind of probe alike: ready once the container
    /// runs, unless `sim.set_ready` decided otherwise.
    public func readinessSession(_ containerID: String, probe: ReadinessProbe) -> any ReadinessSession {
        SimulatedReadinessSession(orchestrator: self, containerID: containerID, probe: probe)
    }

    /// Whether a probe of `reference` says ready, and why not.
    func probeReadiness(_ reference: String, probe: ReadinessProbe) -> ProbeAnswer {
        do {
            let container = try lookUp(reference)
            if engine.probesReady(container.id) { return .ready }
            return .notReady(container.state == "running" ? "not ready (sim.set_ready)" : "it is \(container.state)")
        } catch {
            return .notReady(DockerError(error).message)
        }
    }

    private func lookUp(_ reference: String) throws -> SimulatedEngine.Container {
        try engine.checkReachable()
        guard let id = id(of: reference), let container = try engine.container(id), Project.named(by: container.labels) == project.name else {
            throw DockerError(.notFound, project.isDefault ? "no such container: \(ContainerName.isIDPrefix(reference) ? reference : engineName(of: reference))"
                                                           : "no such container in project \(project.name): \(reference)")
        }
        return container
    }

    private func record(_ op: String, _ engineName: String) {
        let action = Action(op: op, name: project.scriptName(engineName), at: clock.epochSeconds)
        recorded.withLock { $0.append(action) }
    }

    static func info(_ container: SimulatedEngine.Container) -> ContainerInfo {
        let status = ContainerStatus(engineState: container.state, health: container.health)
        return ContainerInfo(id: container.id, name: Project.scriptName(container.name, labels: container.labels), dockerName: container.name,
                             project: Project.named(by: container.labels), image: container.config.image, status: status,
                             state: ContainerState(engine: container.state), ports: container.state == "running" ? container.config.ports : [:])
    }

    /// The last `count` lines of `bytes` (a last line without its newline counts).
    static func lastLines(_ count: Int, of bytes: [UInt8]) -> [UInt8] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if bytes.last == UInt8(ascii: "\n") { lines.removeLast() }
        let kept = lines.suffix(max(count, 0))
        guard !kept.isEmpty else { return [] }
        return Array(kept.joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")]
    }

    /// The number of a signal given as the engine takes it: `SIGKILL`, `KILL` or `9`.
    static func signalNumber(_ signal: String) -> Int? {
        if let number = Int(signal), (1...64).contains(number) { return number }
        let name = signal.hasPrefix("SIG") ? String(signal.dropFirst(3)) : signal
        let numbers = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15]
        return numbers[name.uppercased()]
    }
}

/// Probes of one container on the simulated engine.
struct SimulatedReadinessSession: ReadinessSession {
    let orchestrator: SimulatedOrchestrator
    let containerID: String
    let probe: ReadinessProbe

    func probe() async -> ProbeAnswer { orchestrator.probeReadiness(containerID, probe: probe) }
    func close() {}
}
