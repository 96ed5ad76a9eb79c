import Logging

/// What a ``ContainerWatcher`` watches, on one backend: how it looks at everything at once,
/// and how it follows the engine's events between looks.
protocol WatchFeed: Sendable {
    var logger: Logger { get }
    /// How often to look when nothing prompts a look sooner.
    var pollInterval: Duration { get }
    /// The clock the watcher waits by.
    var clock: any HephClock { get }
    /// Whether the feed's events ask for looks (``WatchFeedEvent/lookSoon``), so the
    /// watcher must be ready to look between polls.
    var asksForLooks: Bool { get }
    /// One look at everything watched. `known` gives the status the watcher knows of an id,
    /// so a feed spends extra calls (an exit code) only on what changed. Returns what it
    /// saw and how many engine calls it took.
    func observe(known: (String) -> ContainerStatus?) async throws -> (observations: [TransitionTracker.Observation], calls: Int)
    /// Follows the engine's events until the engine ends the stream (returns) or it fails
    /// (throws). `onConnected` runs once the engine accepted the stream.
    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws
}

/// What the event stream tells a watcher.
enum WatchFeedEvent: Sendable {
    /// A container event the tracker applies as it is.
    case container(ContainerEvent)
    /// Something changed that only a look can tell (a Swarm task): look soon.
    case lookSoon
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
