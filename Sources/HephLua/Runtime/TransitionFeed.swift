import HephDocker
import Synchronization

/// The engine watcher of a `heph run`, shared by the Lua states a reload passes it between
/// (``LuaRuntime/Configuration/transitionFeed``): one watcher for the process, so a reload
/// neither loses what the old state's watcher knew nor reports a transition twice.
///
/// Each transition (and notice) goes to exactly one subscriber: the state whose hooks are
/// active. While a reload runs the new script's main chunk, they are kept in order instead;
/// ``commit()`` hands them to the new state, ``abort()`` to the old one.
public final class TransitionFeed: Sendable {
    /// What the watcher reports.
    public enum Item: Sendable {
        /// A transition, and the call of this process that caused it (claimed from the
        /// shared expectations as it arrived: a transition kept during a reload stays
        /// expected however long the reload takes).
        case transition(ContainerTransition, expectedBy: String?)
        case notice(ContainerWatcher.Notice)
        /// The watcher stopped: nothing wants it (observers only).
        case stopped
    }

    /// A Lua state that takes the feed's items (by its runtime's serial).
    struct Subscriber: Sendable {
        var owner: Int
        var sink: @Sendable (Item) -> Void
    }

    private struct State: Sendable {
        var watcher: ContainerWatcher?
        var active: Subscriber?
        /// While a reload runs: the new state's subscription, and what arrived meanwhile.
        var reloading = false
        /// The new state's serial, while a reload runs.
        var incomingOwner: Int?
        var incoming: Subscriber?
        var buffered: [Item] = []
    }

    private let state = Mutex(State())
    /// Hears every report once, as it arrives (`heph run --metrics`).
    private let observe: @Sendable (Item) -> Void
    /// Claims a transition from the process's expectations.
    private let claim: @Sendable (ContainerTransition) -> String?

    /// An empty feed: the first state that needs a watcher makes it. `observe` hears every
    /// report as it arrives, whichever state gets it; `claim` says which call of this
    /// process caused a transition (``SharedExpectations``).
    public init(observe: @escaping @Sendable (Item) -> Void = { _ in }, claim: @escaping @Sendable (ContainerTransition) -> String? = { _ in nil }) {
        self.observe = observe
        self.claim = claim
    }

    /// A feed for a run and its reloads: transitions claimed from `expectations` as they
    /// arrive, by `clock`.
    public static func claiming(from expectations: SharedExpectations, clock: any HephClock, observe: @escaping @Sendable (Item) -> Void) -> TransitionFeed {
        TransitionFeed(observe: observe) { transition in
            let now = clock.now
            return expectations.withBook { $0.claim(transition, now: now) }
        }
    }

    /// The watcher, made by `make` (which returns nil when the backend has none) the first
    /// time (it reports through the `publish` functions).
    func watcher(make: () throws -> ContainerWatcher?) rethrows -> ContainerWatcher? {
        try state.withLock { state in
            if state.watcher == nil { state.watcher = try make() }
            return state.watcher
        }
    }

    /// A transition the watcher reported, claimed as it arrives.
    func publish(_ transition: ContainerTransition) {
        publish(.transition(transition, expectedBy: claim(transition)))
    }

    /// One report of the watcher: to the active state, or kept while a reload runs.
    func publish(_ item: Item) {
        observe(item)
        // Delivered under the lock (a sink only posts to its Lua thread): two reports never
        // pass each other, nor a report the buffer being handed over.
        state.withLock { state in
            if state.reloading {
                state.buffered.append(item)
            } else {
                state.active?.sink(item)
            }
        }
    }


    /// `owner`'s hooks want the watcher's reports: at once, or once a reload of it commits.
    func subscribe(owner: Int, sink: @escaping @Sendable (Item) -> Void) {
        state.withLock { state in
            let subscriber = Subscriber(owner: owner, sink: sink)
            if state.reloading, state.incomingOwner == owner {
                state.incoming = subscriber
            } else {
                state.active = subscriber
            }
        }
    }

    /// `owner` has no hook any more (or ended): it gets nothing more, and the watcher stops
    /// once no state wants it and no reload runs.
    func unsubscribe(owner: Int) {
        stop(state.withLock { state in
            if state.incoming?.owner == owner { state.incoming = nil }
            guard state.active?.owner == owner else { return nil }
            state.active = nil
            return state.reloading ? nil : Self.unwanted(&state)
        })
    }

    /// The watcher, taken out, when no state wants it.
    private static func unwanted(_ state: inout State) -> ContainerWatcher? {
        guard state.active == nil else { return nil }
        defer { state.watcher = nil }
        return state.watcher
    }

    private func stop(_ watcher: ContainerWatcher?) {
        guard let watcher else { return }
        watcher.stop()
        observe(.stopped)
    }

    /// A reload begins, its new state's serial `incoming`: reports are kept from now on
    /// until it commits or is abandoned.
    public func beginReload(incoming: Int) {
        state.withLock { state in
            state.reloading = true
            state.incomingOwner = incoming
            state.incoming = nil
        }
    }

    /// The reload succeeded: what was kept goes, in order, to the new state (if its hooks
    /// asked for it), and so does everything after.
    public func commit() {
        stop(state.withLock { state in
            state.reloading = false
            state.active = state.incoming
            state.incoming = nil
            state.incomingOwner = nil
            for item in state.buffered { state.active?.sink(item) }
            state.buffered = []
            // The new script registered no hook: nothing wants the watcher.
            return Self.unwanted(&state)
        })
    }

    /// The reload failed: what was kept goes to the old state, which goes on.
    public func abort() {
        stop(state.withLock { state in
            state.reloading = false
            state.incoming = nil
            state.incomingOwner = nil
            for item in state.buffered { state.active?.sink(item) }
            state.buffered = []
            return Self.unwanted(&state)
        })
    }

    /// Stops the watcher (the run ended).
    public func stop() {
        stop(state.withLock { state in
            defer { state = State() }
            return state.watcher
        })
    }
}
