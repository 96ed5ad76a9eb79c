extension SwarmOrchestrator {
    public func listContainers() async throws -> [ContainerInfo] {
        let services = try await managedServices()
        let tasks = Dictionary(grouping: try await tasks(of: Set(services.map(\.ID))), by: \.ServiceID)
        return services.map { Self.info($0, tasks: tasks[$0.ID] ?? []) }
    }

    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo {
        let service = try await managedService(containerID)
        let tasks = try await tasks(of: [service.ID]).sorted(by: Self.newestFirst)
        var info = Self.info(service, tasks: tasks)
        let ended = tasks.filter { Self.hasEnded($0.Status.State) }
        var taskInfos: [TaskInfo] = []
        for task in tasks.filter(\.isCurrent) + tasks.filter({ !$0.isCurrent }) {
            taskInfos.append(TaskInfo(
                id: task.ID, placement: await placement(of: task),
                status: Self.status(of: task, healthchecked: service.hasHealthcheck), state: task.Status.State,
                current: task.isCurrent, message: task.Status.Err ?? task.Status.Message ?? "",
                exitCode: Self.hasEnded(task.Status.State) ? task.Status.ContainerStatus?.ExitCode : nil,
                at: task.Status.Timestamp.flatMap(EngineTimestamp.unixSeconds)
            ))
        }
        let running = tasks.filter { $0.isCurrent && $0.Status.State == "running" }
        var details = ContainerDetails(
            exitCode: ended.first?.Status.ContainerStatus?.ExitCode ?? 0,
            oomKilled: false,
            restartCount: ended.count,
            startedAt: running.compactMap { $0.Status.Timestamp.flatMap(EngineTimestamp.unixSeconds) }.min(),
            finishedAt: ended.first?.Status.Timestamp.flatMap(EngineTimestamp.unixSeconds),
            labels: service.labels,
            hostname: service.Spec.TaskTemplate?.ContainerSpec?.Hostname ?? "",
            health: nil,
            engineState: service.UpdateStatus?.State ?? ""
        )
        details.tasks = taskInfos
        info.details = details
        return info
    }

    /// The service's status from its tasks, without inspect's per-task details (node names):
    /// `heph.wait_healthy` asks this several times a second.
    public func healthCheck(_ containerID: String) async throws -> ContainerStatus {
        do {
            let service = try await managedService(containerID)
            return Self.info(service, tasks: try await tasks(of: [service.ID])).status
        } catch let error as DockerError where error.code == .notFound {
            return .error
        }
    }

    /// One service's entry: its task counts and the worst status of the tasks it wants.
    static func info(_ service: EngineService, tasks: [EngineTask]) -> ContainerInfo {
        let current = tasks.filter(\.isCurrent)
        var ports: [String: String] = [:]
        for port in service.Spec.EndpointSpec?.Ports ?? [] {
            guard let published = port.PublishedPort, let target = port.TargetPort else { continue }
            ports[String(published)] = port.Protocol == "udp" ? "\(target)/udp" : String(target)
        }
        let running = current.filter { $0.Status.State == "running" }.count
        return ContainerInfo(
            id: service.ID, name: service.scriptName, dockerName: service.name, project: Project.named(by: service.labels),
            image: service.Spec.TaskTemplate?.ContainerSpec?.Image ?? "",
            status: status(of: service, current: current), state: running > 0 ? .running : current.isEmpty ? .exited : state(of: current[0]), ports: ports,
            replicas: ReplicaCount(running: running, desired: service.desiredReplicas)
        )
    }

    /// The worst status among the tasks the service wants; see ``SwarmOrchestrator``.
    static func status(of service: EngineService, current: [EngineTask]) -> ContainerStatus {
        let statuses = current.map { status(of: $0, healthchecked: service.hasHealthcheck) }
        if service.desiredReplicas == 0 {
            if statuses.contains(where: { $0 != .stopped }) { return worst(statuses) }
            return service.labels[SwarmLabel.state] == "stopped" ? .stopped : .created
        }
        let worstTask = worst(statuses)
        return current.count < service.desiredReplicas ? worst([worstTask, .created]) : worstTask
    }

    /// A task's status from Swarm's state. A task with a healthcheck is `running` (health
    /// starting) until Swarm sees it healthy and calls it running; one that turns unhealthy
    /// is failed at once, so a task is never seen `unhealthy` (the watcher reports the
    /// `unhealthy` it passed through, from Swarm's error).
    static func status(of task: EngineTask, healthchecked: Bool) -> ContainerStatus {
        switch task.Status.State {
        case "new", "allocated", "pending", "assigned", "accepted", "preparing", "ready": .created
        case "starting": .running
        case "running": healthchecked ? .healthy : .running
        case "complete", "shutdown", "failed": .stopped
        default: .error  // rejected, orphaned, remove
        }
    }

    /// A task's state as ``ContainerState`` says a container's.
    static func state(of task: EngineTask) -> ContainerState {
        switch task.Status.State {
        case "new", "allocated", "pending", "assigned", "accepted", "preparing", "ready": .created
        case "starting", "running": .running
        case "complete", "shutdown", "failed": .exited
        case "remove": .removing
        default: .dead  // rejected, orphaned
        }
    }

    /// Why a task ended, from Swarm's record of it: it failed or completed on its own
    /// (`crash`; `oom` is not told apart), or Swarm shut it down (`stopped`: an update, a
    /// scale-down, or a node drained). Nil while it has not ended.
    static func cause(of task: EngineTask) -> TransitionCause? {
        switch task.Status.State {
        case "complete", "failed": .crash
        case "shutdown": .stopped
        default: nil
        }
    }

    static func hasEnded(_ state: String) -> Bool {
        ["complete", "shutdown", "failed", "rejected", "orphaned", "remove"].contains(state)
    }

    static func newestFirst(_ lhs: EngineTask, _ rhs: EngineTask) -> Bool {
        let time = { (task: EngineTask) in task.Status.Timestamp.flatMap(EngineTimestamp.unixSeconds) ?? 0 }
        return time(lhs) > time(rhs)
    }

    private static let severity: [ContainerStatus] = [.error, .stopped, .unhealthy, .created, .running, .healthy]

    private static func worst(_ statuses: [ContainerStatus]) -> ContainerStatus {
        statuses.min { severity.firstIndex(of: $0)! < severity.firstIndex(of: $1)! } ?? .created
    }
}
