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
        /// The healthcheck's last verdict, to restore after an unpause.
        var health: ContainerStatus?
        /// An `oom` event came, and the `die` it causes has not yet.
        var oomPending = false
        /// Sequence number of the last event applied to this container.
        var sequence: UInt64 = 0
        /// For a Swarm task, where it runs.
        var task: TaskPlacement? = nil
    }

    /// What a poll saw of one container.
    struct Observation {
        var id: String
        var name: String
        /// The engine's name (`heph_P_web` in project `P`).
        var dockerName: String
        var status: ContainerStatus
        /// For a container the poll found exited: its exit code and OOM flag (from inspect).
        var exit: (code: Int, oomKilled: Bool)?
        /// A status it passed through on its way to `status`, to report before it when the
        /// tracker knew it otherwise (a Swarm task that failed its healthcheck was
        /// `unhealthy` before it `stopped`, though no poll can see that moment).
        var via: ContainerStatus? = nil
        /// For a Swarm task, where it runs.
        var task: TaskPlacement? = nil

        init(id: String, name: String, dockerName: String? = nil, status: ContainerStatus, exit: (code: Int, oomKilled: Bool)?) {
            self.id = id
            self.name = name
            self.dockerName = dockerName ?? name
            self.status = status
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

    /// Applies one event; returns the transitions it makes.
    mutating func apply(_ event: ContainerEvent) -> [ContainerTransition] {
        sequence += 1
        // A container first met through an event other than `create` (it predates the
        // tracker, or its create was missed) is new all the same: its first transition has
        // no previous status.
        var isNew = known[event.id] == nil
        if event.action == .destroy {
            removedAt[event.id] = sequence
            guard let entry = known.removeValue(forKey: event.id) else { return [] }
            return [transition(.removed, event, previous: entry.status)]
        }
        var entry = known[event.id] ?? Known(name: event.name, dockerName: event.dockerName, status: .created)
        entry.name = event.name
        entry.dockerName = event.dockerName
        entry.sequence = sequence
        var transitions: [ContainerTransition] = []
        func move(to status: ContainerStatus) {
            guard isNew || entry.status != status else { return }
            transitions.append(transition(.status(status), event, previous: isNew ? nil : entry.status))
            entry.status = status
            isNew = false
        }
        switch event.action {
        case .create:
            move(to: .created)
        case .start:
            entry.health = nil
            move(to: .running)
        case .health(let healthy):
            entry.health = healthy ? .healthy : .unhealthy
            move(to: healthy ? .healthy : .unhealthy)
        case .die(let code):
            let before: ContainerStatus? = isNew ? nil : entry.status
            if before != .stopped {
                move(to: .stopped)
                transitions.append(transition(.exited(code: code, oomKilled: entry.oomPending), event, previous: before))
            }
            entry.oomPending = false
        case .oom:
            entry.oomPending = true
        case .pause:
            move(to: .error)
        case .unpause:
            move(to: entry.health ?? .running)
        case .destroy, .other:
            break
        }
        // An event that says nothing of a container's status teaches nothing of a new one.
        if isNew { return transitions }
        known[event.id] = entry
        return transitions
    }

    /// Reconciles with what `poll` saw (every managed container). With `emit` false it only
    /// learns (the first look, before anyone listens).
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
            var entry = previous ?? Known(name: observation.name, dockerName: observation.dockerName, status: observation.status)
            entry.name = observation.name
            entry.dockerName = observation.dockerName
            entry.task = observation.task ?? entry.task
            func report(_ kind: ContainerTransition.Kind, previous: ContainerStatus?) {
                transitions.append(ContainerTransition(kind: kind, id: observation.id, name: observation.name, dockerName: observation.dockerName,
                                                       previous: previous, at: time, source: .poll, task: entry.task))
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
                }
                entry.status = observation.status
                if observation.status == .healthy || observation.status == .unhealthy { entry.health = observation.status }
            }
            known[observation.id] = entry
        }
        // A look at part of the containers (`scope`) says nothing of the others.
        for (id, entry) in known where !seen.contains(id) && entry.sequence <= startedAt && scope?.contains(id) ?? true {
            transitions.append(ContainerTransition(kind: .removed, id: id, name: entry.name, dockerName: entry.dockerName, previous: entry.status, at: time, source: .poll, task: entry.task))
            known[id] = nil
        }
        removedAt = removedAt.filter { $0.value > startedAt }
        return emit ? transitions : []
    }

    private func transition(_ kind: ContainerTransition.Kind, _ event: ContainerEvent, previous: ContainerStatus?) -> ContainerTransition {
        ContainerTransition(kind: kind, id: event.id, name: event.name, dockerName: event.dockerName, previous: previous, at: event.time, source: .events, task: known[event.id]?.task)
    }
}
