/// Turns events and polls into transitions: each change once, in order per container.
///
/// The event stream is fast but lossy (the engine drops events for a slow reader, and a
/// dropped connection loses whatever happens until it is back), so polls reconcile it: a
/// poll reports the difference between what it saw and what the tracker knows. A poll's
/// answer may be older than an event applied while it was in flight, so each container
/// remembers the sequence number of the last event applied to it, and a poll leaves alone
/// every container with an event newer than the poll's start. Polls can overlap too (the
/// one after a reconnection, the periodic one): they are numbered as they start, and an
/// answer older than one already applied is dropped.
///
/// Not a transition: a change that happens and reverts while the stream is down is seen
/// by the next poll as its net effect only.
struct TransitionTracker {
    struct Known {
        var name: String
        var dockerName: String
        var status: ContainerStatus
        /// The engine's own state.
        var state: ContainerState
        /// The healthcheck's last verdict, to restore after an unpause.
        var health: ContainerStatus?
        /// An `oom` event came, and the `die` it causes has not yet.
        var oomPending = false
        /// The signals `kill` events sent since the last start: a `die` after them was no
        /// crash. Forgotten when the last is older than ``killMemory`` at the `die` (a
        /// `docker kill -s HUP` days ago says nothing of today's crash).
        var killSignals: [Int] = []
        var lastKillNano: Int64 = 0
        /// A `stop` event came before the `die` (the engine may log it first).
        var stopSeen = false
        /// It exited at least once: a start after that is a restart.
        var exited = false
        /// The transitions of a `die` whose cause the events after it may still change
        /// (``applyHolding(_:)``), and the cause they get if none does.
        var held: [ContainerTransition] = []
        var heldCause: TransitionCause = .crash
        /// It was not stopped when heph found the engine unreachable, and no event about it
        /// came since: a poll that finds it stopped blames the engine's shutdown.
        var stoppedWithEngine = false
        /// Sequence number of the last event applied to this container.
        var sequence: UInt64 = 0
        /// For a Swarm task, where it runs.
        var task: TaskPlacement? = nil

        init(name: String, dockerName: String, status: ContainerStatus, state: ContainerState? = nil) {
            self.name = name
            self.dockerName = dockerName
            self.status = status
            self.state = state ?? ContainerTransition.likelyState(.status(status))
        }
    }

    /// What a poll saw of one container.
    struct Observation {
        var id: String
        var name: String
        /// The engine's name (`heph_P_web` in project `P`).
        var dockerName: String
        var status: ContainerStatus
        /// The engine's own state (a list's `State`).
        var state: ContainerState
        /// For a container the poll found exited: its exit code and OOM flag (from inspect).
        var exit: (code: Int, oomKilled: Bool)?
        /// A status it passed through on its way to `status`, to report before it when the
        /// tracker knew it otherwise (a Swarm task that failed its healthcheck was
        /// `unhealthy` before it `stopped`, though no poll can see that moment).
        var via: ContainerStatus? = nil
        /// For a Swarm task, where it runs.
        var task: TaskPlacement? = nil
        /// Why it stopped, when what the poll read says (a Swarm task's record does).
        var cause: TransitionCause? = nil

        init(id: String, name: String, dockerName: String? = nil, status: ContainerStatus, state: ContainerState? = nil, exit: (code: Int, oomKilled: Bool)?) {
            self.id = id
            self.name = name
            self.dockerName = dockerName ?? name
            self.status = status
            self.state = state ?? ContainerTransition.likelyState(.status(status))
            self.exit = exit
        }
    }

    /// A poll in flight: its number, and the event sequence number when it began.
    struct Poll {
        var number: UInt64
        var sequence: UInt64
    }

    private(set) var known: [String: Known] = [:]
    /// Sequence number of the last event applied to any container.
    private(set) var sequence: UInt64 = 0
    private var pollsStarted: UInt64 = 0
    private var newestPollApplied: UInt64 = 0
    /// Where the last applied poll began in the event sequence (nil before the first).
    private var lastPollStart: UInt64?
    /// Containers a `destroy` event removed, with its sequence number: a poll that began
    /// before the removal still lists them, and must not bring them back as new. (The engine
    /// never reuses an id.) Forgotten once a poll that began after the removal answers.
    private var removedAt: [String: UInt64] = [:]

    /// Takes what an earlier watcher last saw as known (a new leader continuing the old
    /// one's watch): the first look then reports how each of these changed since.
    mutating func seed(_ baseline: [String: WatchedStatus]) {
        for (id, seen) in baseline where known[id] == nil {
            known[id] = Known(name: seen.name, dockerName: seen.dockerName, status: seen.status)
        }
    }

    /// What is known of each container, as a journal keeps it.
    var snapshot: [String: WatchedStatus] {
        known.mapValues { WatchedStatus(name: $0.name, dockerName: $0.dockerName, status: $0.status) }
    }

    /// Call as a poll's list begins; pass the answer to ``reconcile(_:poll:at:emit:)``.
    mutating func startPoll() -> Poll {
        pollsStarted += 1
        return Poll(number: pollsStarted, sequence: sequence)
    }

    /// How long a `die` after a graceful signal waits for the `stop` event that says a stop
    /// request caused it (the engine logs it once the container is cleaned up: milliseconds
    /// when idle, seen past 300 ms on a loaded engine, and past 2 s only on one so loaded
    /// that a restart took 9 s). Longer would hold back what an engine restarting says.
    static let stopEventWait: Duration = .seconds(2)
    /// How long a `die` with no signal before it waits for a `kill` event: the engine logs a
    /// `kill` once the signal is sent, so a process that exits at once may `die` first.
    static let killEventWait: Duration = .milliseconds(500)
    /// How long a `kill` event counts for the `die` after it: a `docker stop`'s SIGKILL comes
    /// at most its timeout after its SIGTERM, and the `die` at once after that.
    static let killMemory: Int64 = 10_000_000_000

    /// Applies one event; returns the transitions it makes, and how long to hold what it
    /// left held.
    ///
    /// A `die` after a signal other than SIGKILL may be a stop request's (`docker stop`
    /// sends SIGTERM first; the engine's `stop` event follows the `die`) or a plain kill
    /// (`docker kill -s TERM`); a `die` with no signal before it is a crash unless a `kill`
    /// logged late follows it. Their transitions are held until the container's next event
    /// decides (a `kill` holds them on, for the `stop`), and the watcher releases them with
    /// the cause they had if none comes within `holdFor` (``releaseHeld(_:sequence:)``).
    mutating func applyHolding(_ event: ContainerEvent) -> (transitions: [ContainerTransition], holdFor: Duration?) {
        sequence += 1
        // A container first met through an event other than `create` (it predates the
        // tracker, or its create was missed) is new all the same: its first transition has
        // no previous status.
        var isNew = known[event.id] == nil
        var transitions: [ContainerTransition] = []
        if event.action == .destroy {
            removedAt[event.id] = sequence
            guard let entry = known.removeValue(forKey: event.id) else { return ([], nil) }
            transitions += Self.release(entry.held, as: entry.heldCause)
            transitions.append(transition(.removed, event, previous: entry.status, cause: .removed, state: .gone))
            return (transitions, nil)
        }
        var entry = known[event.id] ?? Known(name: event.name, dockerName: event.dockerName, status: .created)
        entry.name = event.name
        entry.dockerName = event.dockerName
        entry.sequence = sequence
        entry.stoppedWithEngine = false
        if !entry.held.isEmpty {
            // The events after a held `die` decide: a `kill` (logged late) says it was no
            // crash, and a `stop` may still follow; a `stop` says a stop request caused it.
            if case .kill = event.action {
                entry.heldCause = .killed
                known[event.id] = entry
                return ([], Self.stopEventWait)
            }
            transitions += Self.release(entry.held, as: event.action == .stop ? .stopped : entry.heldCause)
            entry.held = []
        }
        var made: [ContainerTransition] = []
        func move(to status: ContainerStatus, _ cause: TransitionCause) {
            guard isNew || entry.status != status else { return }
            made.append(transition(.status(status), event, previous: isNew ? nil : entry.status, cause: cause, state: entry.state))
            entry.status = status
            isNew = false
        }
        var hold: Duration? = nil
        switch event.action {
        case .create:
            entry.state = .created
            move(to: .created, .created)
        case .start:
            entry.health = nil
            entry.killSignals = []
            entry.oomPending = false
            entry.stopSeen = false
            entry.state = .running
            move(to: .running, entry.exited ? .restarted : .started)
        case .health(let healthy):
            entry.health = healthy ? .healthy : .unhealthy
            move(to: healthy ? .healthy : .unhealthy, .health)
        case .die(let code):
            let before: ContainerStatus? = isNew ? nil : entry.status
            entry.state = .exited
            entry.exited = true
            if event.timeNano - entry.lastKillNano > Self.killMemory { entry.killSignals = [] }
            if before != .stopped {
                let cause: TransitionCause = entry.stopSeen ? .stopped : entry.oomPending ? .oom : entry.killSignals.isEmpty ? .crash : .killed
                move(to: .stopped, cause)
                made.append(transition(.exited(code: code, oomKilled: entry.oomPending), event, previous: before, cause: cause, state: .exited))
                entry.heldCause = cause
                if cause == .crash { hold = Self.killEventWait }
                entry.stopSeen = false
                if cause == .killed, entry.killSignals.contains(where: { $0 != 9 }) { hold = Self.stopEventWait }
            }
            entry.oomPending = false
            entry.killSignals = []
        case .oom:
            entry.oomPending = true
        case .kill(let signal):
            entry.killSignals.append(signal)
            entry.lastKillNano = event.timeNano
        case .stop:
            // Before the `die` it caused (after it, a held `die` took it above).
            if entry.status != .stopped { entry.stopSeen = true }
        case .pause:
            entry.state = .paused
            move(to: .error, .paused)
        case .unpause:
            entry.state = .running
            move(to: entry.health ?? .running, .unpaused)
        case .destroy, .restart, .other:
            break
        }
        if hold != nil {
            entry.held = made
        } else {
            transitions += made
        }
        // An event that says nothing of a container's status teaches nothing of a new one.
        if isNew { return (transitions, nil) }
        known[event.id] = entry
        return (transitions, hold)
    }

    /// The engine could not be reached (its stream or a poll failed so): a container not
    /// stopped now that a later poll finds stopped, with no event between, was stopped by the
    /// engine on its way down (a dockerd restarted without live-restore stops every container).
    mutating func engineUnreachable() {
        for (id, entry) in known where entry.status != .stopped {
            known[id]?.stoppedWithEngine = true
        }
    }

    /// Applies one event; returns the transitions it makes now (see ``applyHolding(_:)``).
    mutating func apply(_ event: ContainerEvent) -> [ContainerTransition] {
        applyHolding(event).transitions
    }

    /// The transitions held for container `id` since the event numbered `sequence`, with
    /// the cause they had: no event after the `die` changed it in time. Nothing when a
    /// later event or a poll released them already.
    mutating func releaseHeld(_ id: String, sequence: UInt64) -> [ContainerTransition] {
        guard var entry = known[id], entry.sequence == sequence, !entry.held.isEmpty else { return [] }
        defer {
            entry.held = []
            known[id] = entry
        }
        return Self.release(entry.held, as: entry.heldCause)
    }

    /// Held transitions with their cause decided.
    private static func release(_ held: [ContainerTransition], as cause: TransitionCause) -> [ContainerTransition] {
        held.map { transition in
            var transition = transition
            transition.cause = cause
            return transition
        }
    }

    /// Reconciles with what `poll` saw (every managed container). With `emit` false it only
    /// learns (the first look, before anyone listens). A poll cannot say why a container
    /// changed (``TransitionCause/unknown``), except that it is gone, or that the engine
    /// stopped it (``engineUnreachable()``).
    mutating func reconcile(_ observations: [Observation], scope: Set<String>? = nil, poll: Poll, at time: Double, emit: Bool = true) -> [ContainerTransition] {
        guard poll.number > newestPollApplied else { return [] }  // a newer poll answered first
        newestPollApplied = poll.number
        // A container with an event since the previous poll began is left to the stream this
        // time: the engine logs a `die` before its list shows the container stopped, so a
        // list made just after the event can still say running. The next poll corrects it
        // if the stream really missed something.
        let startedAt = min(poll.sequence, lastPollStart ?? poll.sequence)
        lastPollStart = poll.sequence
        var transitions: [ContainerTransition] = []
        var seen = Set<String>()
        for observation in observations where removedAt[observation.id] == nil {
            seen.insert(observation.id)
            let previous = known[observation.id]
            if let previous, previous.sequence > startedAt { continue }  // an event is newer
            // A `die` whose cause the next events decide is theirs, or its hold's, to release.
            if let previous, !previous.held.isEmpty { continue }
            var entry = previous ?? Known(name: observation.name, dockerName: observation.dockerName, status: observation.status, state: observation.state)
            entry.name = observation.name
            entry.dockerName = observation.dockerName
            entry.task = observation.task ?? entry.task
            entry.state = observation.state
            let stoppedCause: TransitionCause = entry.stoppedWithEngine ? .engine : .unknown
            entry.stoppedWithEngine = false
            func report(_ kind: ContainerTransition.Kind, previous: ContainerStatus?) {
                let cause: TransitionCause = switch kind {
                case .status(.stopped), .exited: observation.cause ?? stoppedCause
                default: .unknown
                }
                transitions.append(ContainerTransition(kind: kind, id: observation.id, name: observation.name, dockerName: observation.dockerName,
                                                       previous: previous, at: time, source: .poll, task: entry.task, cause: cause, state: observation.state))
            }
            if previous == nil || previous?.status != observation.status {
                var before = previous?.status
                if let via = observation.via, via != observation.status, let known = before, known != via {
                    report(.status(via), previous: known)
                    before = via
                }
                report(.status(observation.status), previous: before)
                if observation.status == .stopped, let previous, previous.status != .stopped, let exit = observation.exit {
                    report(.exited(code: exit.code, oomKilled: exit.oomKilled), previous: before)
                    entry.exited = true
                }
                entry.status = observation.status
                if observation.status == .healthy || observation.status == .unhealthy { entry.health = observation.status }
            }
            known[observation.id] = entry
        }
        // A look at part of the containers (`scope`) says nothing of the others.
        for (id, entry) in known where !seen.contains(id) && entry.sequence <= startedAt && scope?.contains(id) ?? true {
            transitions += Self.release(entry.held, as: entry.heldCause)
            transitions.append(ContainerTransition(kind: .removed, id: id, name: entry.name, dockerName: entry.dockerName, previous: entry.status, at: time, source: .poll,
                                                   task: entry.task, cause: .removed, state: .gone))
            known[id] = nil
        }
        removedAt = removedAt.filter { $0.value > startedAt }
        return emit ? transitions : []
    }

    private func transition(_ kind: ContainerTransition.Kind, _ event: ContainerEvent, previous: ContainerStatus?, cause: TransitionCause, state: ContainerState) -> ContainerTransition {
        ContainerTransition(kind: kind, id: event.id, name: event.name, dockerName: event.dockerName, previous: previous, at: event.time, source: .events,
                            task: known[event.id]?.task, cause: cause, state: state)
    }
}
