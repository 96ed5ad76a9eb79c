import Synchronization

extension SwarmOrchestrator {
    /// A service is ready when every task Swarm wants runs and is ready: a task on the
    /// manager's node by heph's own probe of its container (as on the engine backend), a
    /// task elsewhere by Swarm's view of it (running, or healthy when the service has a
    /// healthcheck): heph reaches containers only through the manager's engine.
    public func readinessSession(_ containerID: String, probe: ReadinessProbe) -> any ReadinessSession {
        SwarmReadinessSession(orchestrator: self, service: containerID, probe: probe)
    }
}

/// Probes of one service's tasks (``SwarmOrchestrator/readinessSession(_:probe:)``).
final class SwarmReadinessSession: ReadinessSession {
    /// How often the service's tasks are listed again while probing.
    static let taskListInterval: Duration = .seconds(1)

    private let orchestrator: SwarmOrchestrator
    private let service: String
    private let probe: ReadinessProbe

    private struct State {
        /// The running tasks when last listed: each local one with its session, each
        /// remote one with whether Swarm has it ready.
        var local: [String: EngineReadinessSession] = [:]
        var remoteReady: [Bool] = []
        var listedAt: ContinuousClock.Instant?
        var problem: String?
    }

    private let state = Mutex(State())

    init(orchestrator: SwarmOrchestrator, service: String, probe: ReadinessProbe) {
        self.orchestrator = orchestrator
        self.service = service
        self.probe = probe
    }

    func probe() async -> ProbeAnswer {
        let listedAt = state.withLock { $0.listedAt }
        if listedAt.map({ ContinuousClock.now - $0 >= Self.taskListInterval }) ?? true { await listTasks() }
        let (local, remoteReady, problem) = state.withLock { ($0.local, $0.remoteReady, $0.problem) }
        if let problem { return .notReady(problem) }
        if let unready = remoteReady.firstIndex(of: false) {
            return .notReady("a task on another node is not ready by Swarm's health (\(unready + 1) of \(remoteReady.count) there)")
        }
        for (id, session) in local.sorted(by: { $0.key < $1.key }) {
            if case .notReady(let why) = await session.probe() { return .notReady("task container \(id.prefix(12)): \(why)") }
        }
        return .ready
    }

    func close() {
        for session in state.withLock({ $0.local.values }) { session.close() }
    }

    /// The service's running tasks: sessions for the local ones (kept across lists), Swarm's
    /// verdict for the others.
    private func listTasks() async {
        do {
            let service = try await orchestrator.managedService(self.service)
            let node = try await orchestrator.managerNodeID()
            let tasks = try await orchestrator.tasks(of: [service.ID]).filter(\.isCurrent)
            let desired = Int(service.labels[SwarmLabel.replicas] ?? "") ?? 1
            let running = tasks.filter { $0.Status.State == "running" }
            let closed: [EngineReadinessSession] = state.withLock { state in
                state.listedAt = ContinuousClock.now
                state.problem = running.count < desired ? "\(running.count) of \(desired) tasks running" : nil
                var local: [String: EngineReadinessSession] = [:]
                var remote: [Bool] = []
                for task in running {
                    if task.NodeID == node, let id = task.Status.ContainerStatus?.ContainerID {
                        local[id] = state.local[id] ?? EngineReadinessSession(orchestrator: orchestrator.manager, containerID: id, probe: probe, isTask: true)
                    } else {
                        let status = SwarmOrchestrator.status(of: task, healthchecked: service.hasHealthcheck)
                        remote.append(status == .healthy || (status == .running && !service.hasHealthcheck))
                    }
                }
                let gone = state.local.filter { local[$0.key] == nil }.map(\.value)
                state.local = local
                state.remoteReady = remote
                return gone
            }
            for session in closed { session.close() }
        } catch {
            state.withLock {
                $0.listedAt = ContinuousClock.now
                $0.problem = DockerError(error).message
            }
        }
    }
}
