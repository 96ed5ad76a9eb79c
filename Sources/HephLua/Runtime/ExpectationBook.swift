import HephDocker

/// A stop, restart, removal or teardown this process asked for: the transitions it causes
/// are `expected`. Each container's stop (its `exit`, its `stopped`) and removal count as
/// expected once, so a crash right after a restart is not mistaken for the restart's stop.
/// Open while the call runs, and for a grace period after (events can trail the answer).
struct Expectation {
    /// The call that asked: `stop_container`, `up`, … (the `by` of the event).
    var caller: String
    /// The container as the script named it; nil for every container (a teardown).
    var reference: String?
    /// When the expectation lapses; nil while the call runs.
    var until: ContinuousClock.Instant?
    /// The transitions already matched, so that none is matched twice.
    var claimed: Set<Claim> = []

    struct Claim: Hashable {
        var id: String
        var kind: String
    }

    static let grace: Duration = .seconds(5)

    /// Whether `transition` is one this expectation foresaw and has not matched yet; marks
    /// it matched.
    mutating func claim(_ transition: ContainerTransition) -> Bool {
        if let reference {
            // By the script's name, the engine's (`heph ps` shows it), or the id.
            let named = ContainerName.full(reference) == transition.name || reference == transition.dockerName
            guard named || (ContainerName.isIDPrefix(reference) && transition.id.hasPrefix(reference)) else { return false }
        }
        let kind = switch transition.kind {
        case .exited: "exit"
        case .removed: "removed"
        case .status: "status"
        }
        return claimed.insert(Claim(id: transition.id, kind: kind)).inserted
    }
}

/// The expectations of one runtime, by the ticket of the call that made them. Knows no Lua
/// and reads no clock: the runtime passes `now`.
struct ExpectationBook {
    private var byTicket: [Int: [Expectation]] = [:]

    /// Records that the call behind `ticket` will stop or remove `reference` (nil: every
    /// container).
    mutating func expect(_ reference: String?, ticket: Int, caller: String, now: ContinuousClock.Instant) {
        prune(now: now)
        byTicket[ticket, default: []].append(Expectation(caller: caller, reference: reference, until: nil))
    }

    /// Takes back what the call behind `ticket` expected (it found it stops nothing).
    mutating func withdraw(ticket: Int) {
        byTicket[ticket] = nil
    }

    /// The call behind `ticket` answered: its expectations lapse after the grace period.
    mutating func close(ticket: Int, now: ContinuousClock.Instant) {
        guard var list = byTicket[ticket] else { return }
        for index in list.indices { list[index].until = now + Expectation.grace }
        byTicket[ticket] = list
    }

    /// The call that caused `transition` (a stop, an exit or a removal), claiming it so no
    /// other transition of the same kind matches it again; nil when none did.
    mutating func claim(_ transition: ContainerTransition, now: ContinuousClock.Instant) -> String? {
        switch transition.kind {
        case .status(.stopped), .exited, .removed: break
        default: return nil
        }
        prune(now: now)
        for ticket in byTicket.keys.sorted() {
            guard var list = byTicket[ticket] else { continue }
            for index in list.indices where list[index].claim(transition) {
                byTicket[ticket] = list
                return list[index].caller
            }
        }
        return nil
    }

    /// How many are kept.
    var count: Int { byTicket.values.reduce(0) { $0 + $1.count } }

    mutating func removeAll() {
        byTicket.removeAll()
    }

    /// Drops the expectations whose grace has passed. Done on every new one as well as on
    /// every transition, so that a script stopping containers with no hook registered (no
    /// transition ever arrives) keeps only those of the last few seconds.
    private mutating func prune(now: ContinuousClock.Instant) {
        byTicket = byTicket.compactMapValues { list in
            let open = list.filter { $0.until.map { $0 > now } ?? true }
            return open.isEmpty ? nil : open
        }
    }
}
