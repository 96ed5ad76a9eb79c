import Foundation
import Synchronization

/// Watches every managed container and reports each transition once, in order per
/// container: from the engine's event stream as it happens, reconciled by a poll every
/// `pollInterval` and after every reconnection, so nothing is lost when the stream drops
/// or falls behind.
public final class ContainerWatcher: Sendable {
    /// Something the watcher's user may want to tell a person.
    public enum Notice: Sendable {
        /// The event stream failed; the watcher reconnects with backoff, and polls meanwhile
        /// (while the engine cannot be reached, each poll is a reconnection attempt instead).
        case streamLost(DockerError)
        /// The event stream is back.
        case streamRestored
        /// The event stream is connected (the first time, and after each reconnection):
        /// the watcher follows the engine.
        case streamConnected
        /// What the first look found, which it reports no transition of (`--metrics` shows
        /// each container's status from the start).
        case found([WatchedStatus])
        /// A poll failed.
        case pollFailed(DockerError)
    }

    /// Longest wait between two attempts to reconnect the stream.
    public static let maximumReconnectDelay: Duration = .seconds(5)

    private let feed: any WatchFeed
    private let onTransition: @Sendable (ContainerTransition) -> Void
    private let onNotice: @Sendable (Notice) -> Void
    private let tracker = Mutex(TransitionTracker())
    /// Looks run one at a time (``reconcile(emit:full:)``).
    private let looks = SerialGate()
    /// An event asked for a look before the next poll is due.
    private let lookRequested = Mutex(false)
    /// The stream: lost since its last connection, because the engine could not be reached,
    /// and asked by the poll to try again now.
    private let stream = Mutex<(lost: Bool, unreachable: Bool, retryNow: Bool)>((false, false, false))
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Hears what the watcher knows after every change (a leader's ``StatusJournal``).
    private let journal = Mutex<(@Sendable ([String: WatchedStatus]) -> Void)?>(nil)
    /// Whether the first attempt to start watching is over (connected, or failed), and who
    /// waits for that.
    private let readiness = Mutex<(settled: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// A watcher over `feed`; nothing happens until ``start()``. `onTransition` is called
    /// in order, from one task at a time, and should return quickly (hand the work on).
    init(
        feed: any WatchFeed,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (Notice) -> Void
    ) {
        self.feed = feed
        self.onTransition = onTransition
        self.onNotice = onNotice
    }

    private var pollInterval: Duration { feed.pollInterval }
    private var clock: any HephClock { feed.clock }

    /// Starts watching: learns the current state (reporting nothing about it, except how
    /// the containers of `baseline`, what an earlier watcher last saw, changed since), then
    /// follows the stream and polls. `journal` hears what the watcher knows after every
    /// change. Calling it again does nothing.
    public func start(baseline: [String: WatchedStatus] = [:], journal: (@Sendable ([String: WatchedStatus]) -> Void)? = nil) {
        self.journal.withLock { $0 = journal }
        task.withLock { task in
            guard task == nil else { return }
            // Its stream and polls are control traffic: they never wait behind bulk work. In
            // virtual time the watcher holds the clock while it works, like any task on it.
            task = clock.task { await EngineLane.asControl { await self.watch(baseline: baseline) } }
        }
    }

    /// Stops watching. A transition already on its way may still be reported.
    public func stop() {
        task.withLock { $0?.cancel() }
        settle()
    }

    /// Returns once the watcher follows the stream (so any change made from now on will be
    /// reported), or once its first attempt failed (the polls will catch up).
    public func waitUntilWatching() async {
        await withCheckedContinuation { continuation in
            let settled = readiness.withLock { readiness in
                if !readiness.settled { readiness.waiters.append(continuation) }
                return readiness.settled
            }
            if settled { continuation.resume() }
        }
    }

    private func settle() {
        let waiters = readiness.withLock { readiness in
            defer { readiness = (true, []) }
            return readiness.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// One reconciliation now, and reports what changed; returns how many engine calls it
    /// made. `full`: a look at everything watched (on an engine, a list of every managed
    /// container); otherwise the feed may look only at what can have changed since its last
    /// look (on an engine, the containers the engine's event log names). Either way a
    /// container the look shows exited while the watcher thought otherwise is inspected for
    /// its exit code.
    @discardableResult
    public func reconcile(emit: Bool = true, full: Bool = true) async throws -> Int {
        // One look at a time: a look at part of the containers that overtook a full one
        // would otherwise have the full one's answer dropped as the older.
        try await looks.run { try await look(emit: emit, full: full) }
    }


    /// `only`: report the transitions of these containers alone (the first look after a
    /// baseline).
    private func look(emit: Bool, full: Bool, only: Set<String>? = nil) async throws -> Int {
        // Real time: how long the engine calls took, for the debug log.
        let began = ContinuousClock.now
        let poll = tracker.withLock { $0.startPoll() }
        let look = try await feed.observe(full: full) { id in emit ? self.tracker.withLock { $0.known[id]?.status } : nil }
        let now = clock.epochSeconds
        let watched = tracker.withLock { tracker in
            let transitions = tracker.reconcile(look.observations, scope: look.scope, poll: poll, at: now, emit: emit)
            for transition in transitions where only?.contains(transition.id) ?? true {
                onTransition(transition)
            }
            keepJournal(tracker)
            return tracker.known.count
        }
        let elapsed = (ContinuousClock.now - began) / .milliseconds(1)
        let looked = look.scope == nil ? "all" : "\(look.observations.count) changed"
        feed.logger.debug("reconciled \(watched) containers (\(looked)) with \(look.calls) engine calls in \(String(format: "%.2f", elapsed)) ms")
        return look.calls
    }

    /// Hands what the tracker knows to the journal, if there is one.
    private func keepJournal(_ tracker: TransitionTracker) {
        guard let journal = journal.withLock({ $0 }) else { return }
        journal(tracker.snapshot)
    }

    private func watch(baseline: [String: WatchedStatus]) async {
        // Learn the state first, so only what changes from here on is reported (and how
        // the baseline's containers changed since it was written).
        tracker.withLock { $0.seed(baseline) }
        let seeded = Set(baseline.keys)
        while !Task.isCancelled {
            do {
                try await looks.run { try await look(emit: !seeded.isEmpty, full: true, only: seeded) }
                onNotice(.found(tracker.withLock { Array($0.snapshot.values) }))
                break
            } catch {
                onNotice(.pollFailed(DockerError(error)))
                settle()
                try? await clock.sleep(for: pollInterval)
            }
        }
        // Each with a hold of its own (in virtual time), the stream's let go while it waits
        // for an event (``WatchFeed/follow``), the poll's while it sleeps.
        let holds = (clock.newTaskHold(), clock.newTaskHold())
        await clock.awaitingTime {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await TaskHold.run(holds.0) { await self.followStream() } }
                group.addTask { await TaskHold.run(holds.1) { await self.pollForever() } }
            }
        }
    }

    private func followStream() async {
        var delay: Duration = .milliseconds(100)
        var lost = false
        while !Task.isCancelled {
            do {
                try await feed.follow(onConnected: {
                    delay = .milliseconds(100)
                    self.stream.withLock { $0 = (false, false, false) }
                    self.onNotice(.streamConnected)
                    if lost {
                        lost = false
                        self.onNotice(.streamRestored)
                    }
                    // Whatever happened before the stream (re)connected is caught here.
                    _ = try? await self.reconcile()
                    self.settle()
                }) { event in
                    switch event {
                    case .container(let event):
                        let held = tracker.withLock { tracker in
                            let (transitions, holdFor) = tracker.applyHolding(event)
                            for transition in transitions { onTransition(transition) }
                            if !transitions.isEmpty { keepJournal(tracker) }
                            return holdFor.map { (tracker.sequence, $0) }
                        }
                        if let (sequence, wait) = held { releaseLater(event.id, sequence: sequence, after: wait) }
                    case .lookSoon:
                        lookRequested.withLock { $0 = true }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                let failure = DockerError(error)
                if !lost { onNotice(.streamLost(failure)) }
                // Unreachable: the engine itself is down (or restarting).
                if failure.code == .engineUnreachable { tracker.withLock { $0.engineUnreachable() } }
                stream.withLock { $0.lost = true; $0.unreachable = failure.code == .engineUnreachable }
                lost = true
                settle()
            }
            guard !Task.isCancelled else { return }
            // The backoff, cut short when the poll asks (``pollForever()``).
            let until = clock.now + delay
            while clock.now < until, !stream.withLock({ $0.retryNow }), !Task.isCancelled {
                try? await clock.sleep(until: min(until, clock.now + .milliseconds(100)))
            }
            stream.withLock { $0.retryNow = false }
            delay = min(delay * 2, Self.maximumReconnectDelay)
        }
    }

    /// Reports what a `die` left held, with the cause it has, unless the container's next
    /// event decided otherwise within `wait` (``TransitionTracker/applyHolding(_:)``).
    private func releaseLater(_ id: String, sequence: UInt64, after wait: Duration) {
        clock.task {
            try? await self.clock.sleep(for: wait)
            self.tracker.withLock { tracker in
                let transitions = tracker.releaseHeld(id, sequence: sequence)
                for transition in transitions { self.onTransition(transition) }
                if !transitions.isEmpty { self.keepJournal(tracker) }
            }
        }
    }

    /// Looks every `pollInterval`, and sooner (within 50 ms) when an event asks for a look.
    /// A feed whose events never ask sleeps straight to the next poll: in virtual time
    /// every wake-up is a step.
    private func pollForever() async {
        let slice: Duration = feed.asksForLooks ? .milliseconds(50) : pollInterval
        while !Task.isCancelled {
            let due = clock.now + pollInterval
            while clock.now < due, !lookRequested.withLock({ $0 }) {
                do { try await clock.sleep(until: min(due, clock.now + slice)) } catch { return }
            }
            lookRequested.withLock { $0 = false }
            // The engine away: the stream's next attempt is the look. Reconnected, it looks
            // at everything before anything is reported, so what heph does about what that
            // look finds (a restart) comes back as events, with their causes, and not as a
            // later poll's guesses.
            let retried = stream.withLock { stream in
                if stream.lost && stream.unreachable { stream.retryNow = true }
                return stream.retryNow
            }
            if retried { continue }
            do {
                try await reconcile(full: false)
            } catch is CancellationError {
                return
            } catch {
                let failure = DockerError(error)
                if failure.code == .engineUnreachable { tracker.withLock { $0.engineUnreachable() } }
                onNotice(.pollFailed(failure))
            }
        }
    }

}
