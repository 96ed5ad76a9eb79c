import Logging

/// The simulated engine's feed: a look lists the project's containers (and, for one the
/// watcher thought running that has exited, its exit code); the stream is the engine's
/// events, which end when the engine goes down.
struct SimulatedFeed: WatchFeed {
    let orchestrator: SimulatedOrchestrator
    let pollInterval: Duration

    var logger: Logger { orchestrator.logger }
    var clock: any HephClock { orchestrator.clock }
    var asksForLooks: Bool { false }

    func observe(full: Bool, known: (String) -> ContainerStatus?) async throws -> FeedLook {
        var observations: [TransitionTracker.Observation] = []
        for info in try await orchestrator.listContainers() {
            var observation = TransitionTracker.Observation(id: info.id, name: info.name, dockerName: info.dockerName, status: info.status, state: info.state, exit: nil)
            if info.status == .stopped, let status = known(info.id), status != .stopped,
               let details = try? await orchestrator.inspectContainer(info.id).details {
                observation.exit = (code: details.exitCode, oomKilled: details.oomKilled)
            }
            observations.append(observation)
        }
        return FeedLook(observations: observations, calls: 1)
    }

    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws {
        let (events, subscription) = try orchestrator.engine.events(of: orchestrator.project)
        defer { subscription.end() }
        await onConnected()
        // Waiting for the next event lets the watcher's hold go (time moves events on);
        // each event, and the stream's end, comes with a hold of its own until read.
        var iterator = events.makeAsyncIterator()
        while let event = try await clock.awaitingTime({ try await iterator.next() }) {
            onEvent(.container(event))
            subscription.acknowledge()
        }
    }
}
