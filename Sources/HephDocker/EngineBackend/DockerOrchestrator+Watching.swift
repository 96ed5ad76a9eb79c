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
/// so an idle poll costs the same with 200 containers as with 10. The log keeps the
/// engine's last 256 events: a span that holds ``EventWindow/busy`` or more may have lost
/// some, and gets a full look instead, as does a span the engine cannot be asked about.
struct ContainerFeed: WatchFeed {
    let orchestrator: DockerOrchestrator
    let pollInterval: Duration
    let window = EventWindow()

    var logger: Logger { orchestrator.logger }
    var clock: any HephClock { orchestrator.clock }
    var asksForLooks: Bool { false }

    func observe(full: Bool, known: (String) -> ContainerStatus?) async throws -> FeedLook {
        if !full, let since = window.since {
            do {
                if let look = try await changes(since: since, known: known) { return look }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.debug("the engine's event log could not be read (\(error)); looking at everything")
            }
        }
        // Marked before the list: what happens while it is made is asked about next time.
        let mark = window.engineNow() - EventWindow.margin
        let (containers, engineDate) = try await orchestrator.managedSummariesDated()
        window.heard(engineDate: engineDate)
        window.since = mark
        let (observations, inspects) = await observations(of: containers, known: known)
        return FeedLook(observations: observations, calls: 1 + inspects)
    }

    /// A look at what the engine's event log names since `since`; nil when the span may
    /// have lost events.
    private func changes(since: Double, known: (String) -> ContainerStatus?) async throws -> FeedLook? {
        let until = window.engineNow() - EventWindow.margin
        guard until > since else { return FeedLook(observations: [], calls: 0, scope: []) }
        let logged = try await orchestrator.loggedEvents(since: since, until: until)
        window.heard(engineDate: logged.engineDate)
        guard logged.total < EventWindow.busy else { return nil }
        window.since = until
        guard !logged.managedContainers.isEmpty else { return FeedLook(observations: [], calls: 1, scope: []) }
        let (containers, _) = try await orchestrator.managedSummariesDated(ids: logged.managedContainers)
        let (observations, inspects) = await observations(of: containers, known: known)
        return FeedLook(observations: observations, calls: 2 + inspects, scope: logged.managedContainers)
    }

    /// Each container as listed, and for one the list shows exited while the watcher
    /// thought otherwise, its exit code (an inspect each); returns the inspects made.
    private func observations(of containers: [EngineContainerSummary], known: (String) -> ContainerStatus?) async -> ([TransitionTracker.Observation], Int) {
        var inspects = 0
        var observations: [TransitionTracker.Observation] = []
        for summary in containers {
            let container = ContainerInfo(summary: summary)
            var observation = TransitionTracker.Observation(id: container.id, name: container.name, status: container.status, exit: nil)
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
    /// How far behind the engine's present a span ends: the engine waits for an `until`
    /// still to come, and its time is known only to the second.
    static let margin = 1.5
    /// Events in one span from which the log (256 events) may have lost some.
    static let busy = 100

    private let state = Mutex<(since: Double?, offset: Double)>((nil, 0))

    /// Where the next span starts; nil before the first full look.
    var since: Double? {
        get { state.withLock { $0.since } }
        set { state.withLock { $0.since = newValue } }
    }

    /// The engine's present, as this host's real clock and the last `Date` heard put it.
    /// Real time: it is compared with the engine's timestamps.
    func engineNow() -> Double {
        Date().timeIntervalSince1970 + state.withLock { $0.offset }
    }

    /// Learns the engine's clock from an answer's `Date` (its second began at `engineDate`).
    func heard(engineDate: Double?) {
        guard let engineDate else { return }
        let offset = engineDate + 0.5 - Date().timeIntervalSince1970
        state.withLock { $0.offset = offset }
    }
}
