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
