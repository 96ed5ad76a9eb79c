import Logging

extension ContainerWatcher {
    /// A watcher over `orchestrator`'s managed containers; nothing happens until
    /// ``start()``. `onTransition` is called in order, from one task at a time, and should
    /// return quickly (hand the work on).
    public convenience init(
        orchestrator: DockerOrchestrator,
        pollInterval: Duration = defaultHealthCheckInterval,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (Notice) -> Void = { _ in }
    ) {
        self.init(feed: ContainerFeed(orchestrator: orchestrator, pollInterval: pollInterval), onTransition: onTransition, onNotice: onNotice)
    }
}

extension DockerOrchestrator {
    /// A watcher over this engine's managed containers (not started).
    public func makeWatcher(
        pollInterval: Duration,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (ContainerWatcher.Notice) -> Void
    ) -> ContainerWatcher? {
        ContainerWatcher(orchestrator: self, pollInterval: pollInterval, onTransition: onTransition, onNotice: onNotice)
    }
}

/// The engine backend's feed: the managed containers, and their events.
struct ContainerFeed: WatchFeed {
    let orchestrator: DockerOrchestrator
    let pollInterval: Duration

    var logger: Logger { orchestrator.logger }
    var clock: any HephClock { orchestrator.clock }
    var asksForLooks: Bool { false }

    /// Lists every managed container, and inspects only those the list shows exited while
    /// the watcher thought otherwise, for their exit codes.
    func observe(known: (String) -> ContainerStatus?) async throws -> (observations: [TransitionTracker.Observation], calls: Int) {
        let containers = try await orchestrator.listContainers()
        var calls = 1
        var observations: [TransitionTracker.Observation] = []
        for container in containers {
            var observation = TransitionTracker.Observation(id: container.id, name: container.name, status: container.status, exit: nil)
            if container.status == .stopped, let knownStatus = known(container.id), knownStatus != .stopped,
               let details = try? await orchestrator.inspectContainer(container.id).details {
                calls += 1
                observation.exit = (code: details.exitCode, oomKilled: details.oomKilled)
            }
            observations.append(observation)
        }
        return (observations, calls)
    }

    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws {
        try await orchestrator.streamEvents(onConnected: onConnected) { onEvent(.container($0)) }
    }
}
