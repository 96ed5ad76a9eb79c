import Logging

extension SwarmOrchestrator {
    /// How often the watcher lists tasks on a swarm: the manager's event stream tells of
    /// services and of containers on its own node, but not of tasks on other nodes, so a
    /// list every second is how those are seen.
    public static let taskPollInterval: Duration = .seconds(1)

    /// A watcher over every task of every managed service: each transition reports the
    /// task (``ContainerTransition/task``) under its service's name. Polls tasks every
    /// ``taskPollInterval`` (or `pollInterval`, if shorter), and at once when the engine
    /// tells of a change to a service or a task's container.
    public func makeWatcher(
        pollInterval: Duration,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (ContainerWatcher.Notice) -> Void
    ) -> ContainerWatcher? {
        ContainerWatcher(feed: SwarmFeed(swarm: self, pollInterval: min(pollInterval, Self.taskPollInterval)),
                         onTransition: onTransition, onNotice: onNotice)
    }
}

/// The Swarm backend's feed: every task of every managed service.
struct SwarmFeed: WatchFeed {
    let swarm: SwarmOrchestrator
    let pollInterval: Duration

    var logger: Logger { swarm.logger }
    var clock: any HephClock { swarm.clock }
    var asksForLooks: Bool { true }

    /// Lists services and tasks (two calls, plus one per node met for the first time),
    /// every look a full one.
    func observe(full: Bool, known: (String) -> ContainerStatus?) async throws -> FeedLook {
        let services = try await swarm.managedServices()
        let byID = Dictionary(uniqueKeysWithValues: services.map { ($0.ID, $0) })
        var observations: [TransitionTracker.Observation] = []
        // Oldest change first, so a task that ended is reported before the one replacing it.
        for task in try await swarm.tasks(of: Set(byID.keys)).sorted(by: SwarmOrchestrator.newestFirst).reversed() {
            guard let service = byID[task.ServiceID] else { continue }
            var status = SwarmOrchestrator.status(of: task, healthchecked: service.hasHealthcheck)
            // Unhealthy (from its container's event) and still running: Swarm is stopping it,
            // and it will not be healthy again.
            if status == .healthy, known(task.ID) == .unhealthy { status = .unhealthy }
            var observation = TransitionTracker.Observation(id: task.ID, name: service.scriptName, dockerName: service.name, status: status,
                                                            state: SwarmOrchestrator.state(of: task), exit: nil)
            observation.cause = SwarmOrchestrator.cause(of: task)
            if status == .stopped { observation.exit = (code: task.Status.ContainerStatus?.ExitCode ?? 0, oomKilled: false) }
            if task.failedHealthcheck { observation.via = .unhealthy }
            observation.task = await swarm.placement(of: task)
            observations.append(observation)
        }
        return FeedLook(observations: observations, calls: 2)
    }

    /// Any event of a service or of a task's container asks for a look; the look tells
    /// what changed. A task's container on this node turning unhealthy is reported as it
    /// comes: Swarm stops such a task at once, and its record keeps no trace of why.
    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws {
        try await swarm.manager.streamEngineEvents(filter: #"{"type":["container","service"]}"#, onConnected: onConnected) { message in
            let attributes = message.Actor?.Attributes ?? [:]
            switch message.Type {
            case "service" where attributes["name"]?.hasPrefix(swarm.manager.project.enginePrefix) ?? false:
                onEvent(.lookSoon)
            case "container":
                // A task's container carries its service's name and project, not the managed
                // label (see ``SwarmLabel/service``).
                guard let service = attributes[SwarmLabel.service], swarm.manager.scope.includes(attributes) else { return }
                if message.Action == "health_status: unhealthy", let task = attributes["com.docker.swarm.task.id"] {
                    let time = message.timeNano ?? (message.time ?? 0) * 1_000_000_000
                    onEvent(.container(ContainerEvent(action: .health(healthy: false), id: task, name: Project.scriptName(service, labels: attributes),
                                                      dockerName: service, timeNano: time)))
                }
                onEvent(.lookSoon)
            default:
                break
            }
        }
    }
}
