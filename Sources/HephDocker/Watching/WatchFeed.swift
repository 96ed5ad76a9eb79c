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
    /// One look. `full`: at everything watched; otherwise the feed may look only at what
    /// can have changed since its last look, and says which containers that covers
    /// (``FeedLook/scope``). `known` gives the status the watcher knows of an id, so a feed
    /// spends extra calls (an exit code) only on what changed.
    func observe(full: Bool, known: (String) -> ContainerStatus?) async throws -> FeedLook
    /// Follows the engine's events until the engine ends the stream (returns) or it fails
    /// (throws). `onConnected` runs once the engine accepted the stream.
    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws
}

/// What one look of a feed saw.
struct FeedLook {
    /// The containers looked at, as they are.
    var observations: [TransitionTracker.Observation]
    /// Engine calls the look took.
    var calls: Int
    /// The ids the look covered, when it covered only some (a container of the scope that
    /// is not among the observations is gone); nil for a look at everything.
    var scope: Set<String>? = nil
}

/// What the event stream tells a watcher.
enum WatchFeedEvent: Sendable {
    /// A container event the tracker applies as it is.
    case container(ContainerEvent)
    /// Something changed that only a look can tell (a Swarm task): look soon.
    case lookSoon
}
