import Foundation
import Logging
import Synchronization

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
///
/// A full look lists every managed container. A poll between full looks asks the engine's
/// own event log what happened since the last look and lists only the containers it names,
/// so a quiet poll costs the same with 200 containers as with 10. The log keeps only the
/// engine's last 256 events, so each span starts at the newest event of the one before
/// (its anchor): the anchor coming back first proves the log lost nothing since. Without
/// it (the log moved on, the engine restarted), or when the engine's clock jumped back, or
/// the log cannot be read, the poll is a full look. On Podman every poll is a full look:
/// Podman 4's log answers a span that ends in the past short or empty (podman#29579).
struct ContainerFeed: WatchFeed {
    let orchestrator: DockerOrchestrator
    let pollInterval: Duration
    let window = EventWindow()

    var logger: Logger { orchestrator.logger }
    var clock: any HephClock { orchestrator.clock }
    var asksForLooks: Bool { false }

    func observe(full: Bool, known: (String) -> ContainerStatus?) async throws -> FeedLook {
        let podman = try await orchestrator.onPodman()
        if !full, !podman, let position = window.position {
            do {
                if let look = try await changes(from: position, known: known) { return look }
                logger.debug("the engine's event log may have lost events since the last look; looking at everything")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.debug("the engine's event log could not be read (\(error)); looking at everything")
            }
        }
        return try await fullLook(known: known, anchored: !podman)
    }

    /// Lists every managed container, and (`anchored`) anchors the next span.
    private func fullLook(known: (String) -> ContainerStatus?, anchored: Bool) async throws -> FeedLook {
        window.forget()
        let before = window.engineNow()
        let (containers, engineDate) = try await orchestrator.managedSummariesDated()
        window.heard(engineDate: engineDate)
        guard anchored else {
            let (observations, inspects) = await observations(of: containers, known: known)
            return FeedLook(observations: observations, calls: 1 + inspects)
        }
        // The list shows the engine somewhere between `before` and its answer's `Date`: the
        // next span starts a margin before the earlier, so nothing after the list is left out.
        let mark = min(before, engineDate.map { Int64($0 * 1e9) } ?? before) - EventWindow.margin
        // The newest event up to the mark anchors the next span (none on an engine that has
        // logged nothing yet: that span is then trusted only when short).
        let anchor = try? await EventWindow.newest(of: orchestrator.loggedEvents(since: 0, until: mark).events)
        // The watcher leaves a container with a recent event to the stream for one look;
        // the next look checks every container again, so none is left unchecked.
        window.advance(since: mark, anchor: anchor, recheck: Set(containers.map(\.Id)))
        let (observations, inspects) = await observations(of: containers, known: known)
        return FeedLook(observations: observations, calls: 2 + inspects)
    }

    /// A look at the containers the engine's event log names since `position`; nil when
    /// the log may have lost events, or the engine's clock went back.
    private func changes(from position: EventWindow.Position, known: (String) -> ContainerStatus?) async throws -> FeedLook? {
        let until = window.engineNow() - EventWindow.margin
        guard until > position.since else {
            // Less than a margin since the last look: nothing to ask yet.
            return FeedLook(observations: [], calls: 0, scope: [])
        }
        let span = try await orchestrator.loggedEvents(since: position.anchor?.timeNano ?? position.since, until: until)
        guard window.heard(engineDate: span.engineDate) else { return nil }
        if let anchor = position.anchor {
            guard span.events.contains(anchor) else { return nil }
        } else {
            guard span.events.count < EventWindow.busy else { return nil }
        }
        let anchor = EventWindow.newest(of: span.events) ?? position.anchor
        // The anchor itself was the last span's news. The last look's containers are looked
        // at once more: the watcher may have left one to the stream (a recent event).
        let changed = Set(span.events.filter { $0 != position.anchor }.compactMap(\.managedContainer))
        let looked = changed.union(position.recheck)
        guard !looked.isEmpty else {
            window.advance(since: until, anchor: anchor, recheck: [])
            return FeedLook(observations: [], calls: 1, scope: [])
        }
        let (containers, _) = try await orchestrator.managedSummariesDated(ids: looked)
        // Only now: a span whose list failed is asked about again.
        window.advance(since: until, anchor: anchor, recheck: changed)
        let (observations, inspects) = await observations(of: containers, known: known)
        return FeedLook(observations: observations, calls: 2 + inspects, scope: looked)
    }

    /// Each container as listed, and for one the list shows exited while the watcher
    /// thought otherwise, its exit code (an inspect each); returns the inspects made.
    private func observations(of containers: [EngineContainerSummary], known: (String) -> ContainerStatus?) async -> ([TransitionTracker.Observation], Int) {
        var inspects = 0
        var observations: [TransitionTracker.Observation] = []
        for summary in containers {
            let container = ContainerInfo(summary: summary)
            var observation = TransitionTracker.Observation(id: container.id, name: container.name, dockerName: container.dockerName, status: container.status, state: container.state, exit: nil)
            if container.status == .stopped, let knownStatus = known(container.id), knownStatus != .stopped,
               let details = try? await orchestrator.inspectContainer(container.id).details {
                inspects += 1
                observation.exit = (code: details.exitCode, oomKilled: details.oomKilled)
            }
            observations.append(observation)
        }
        return (observations, inspects)
    }

    func follow(onConnected: () async -> Void, _ onEvent: (WatchFeedEvent) -> Void) async throws {
        try await orchestrator.streamEvents(onConnected: onConnected) { onEvent(.container($0)) }
    }
}

/// Where the engine-backend feed's next look at the event log starts, on the engine's
/// clock (a remote engine's clock may differ from this host's).
final class EventWindow: Sendable {
    /// How far behind the engine's present a span ends (nanoseconds): the engine waits for
    /// an `until` still to come, and its time is known only to the second.
    static let margin: Int64 = 1_500_000_000
    /// Events in a span without an anchor from which the log (256 events) may have lost some.
    static let busy = 100

    /// Where the next span starts.
    struct Position {
        /// The end of the last span (Unix nanoseconds, the engine's clock).
        var since: Int64
        /// The newest event seen up to `since`, which the log must still hold.
        var anchor: LoggedEvent?
        /// Containers the last look covered, looked at again by the next.
        var recheck: Set<String> = []
    }

    private struct State {
        var position: Position?
        /// The engine's clock minus this host's, in nanoseconds.
        var offset: Int64 = 0
        /// The last `Date` heard, to see the engine's clock go back.
        var lastDate: Double?
    }

    private let state = Mutex(State())

    /// The event with the latest timestamp (the last of those that share it). Not simply
    /// the last in the log: the engine stamps an event before it takes the log's lock, so
    /// two logged at once can be out of order, and the engine's answer to a span stops at
    /// the first event older than its start.
    static func newest(of events: [LoggedEvent]) -> LoggedEvent? {
        events.enumerated().max { ($0.element.timeNano, $0.offset) < ($1.element.timeNano, $1.offset) }?.element
    }

    /// Where the next span starts; nil until a full look has set it.
    var position: Position? { state.withLock { $0.position } }

    /// Starts the next span at `since`, anchored by `anchor`, looking again at `recheck`.
    func advance(since: Int64, anchor: LoggedEvent?, recheck: Set<String>) {
        state.withLock { $0.position = Position(since: since, anchor: anchor, recheck: recheck) }
    }

    /// Forgets the position: the next poll is a full look.
    func forget() {
        state.withLock { $0.position = nil }
    }

    /// The engine's present (Unix nanoseconds) as this host's real clock and the last
    /// `Date` heard put it. Real time: it is compared with the engine's timestamps.
    func engineNow() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1e9) + state.withLock { $0.offset }
    }

    /// Learns the engine's clock from an answer's `Date` (its second began at
    /// `engineDate`). Returns false when the engine's clock went back by more than a
    /// second since the last answer: events may then be stamped before a span's start.
    @discardableResult
    func heard(engineDate: Double?) -> Bool {
        guard let engineDate else { return true }
        let offset = Int64((engineDate + 0.5 - Date().timeIntervalSince1970) * 1e9)
        return state.withLock { state in
            defer { state.offset = offset; state.lastDate = engineDate }
            return engineDate >= (state.lastDate ?? engineDate) - 1
        }
    }
}
