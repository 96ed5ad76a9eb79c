import HephDocker
import Synchronization

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

/// The call behind an expectation: a ticket of one runtime (tickets are per runtime).
struct ExpectationKey: Hashable, Comparable {
    /// The runtime's ``LuaRuntime/serial``.
    var owner: Int
    var ticket: Int

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.owner, lhs.ticket) < (rhs.owner, rhs.ticket) }
}

/// The expectations of a process, by the call that made them: every Lua state a reload
/// passes the run between shares them, so neither takes the other's stops for crashes.
/// Knows no Lua and reads no clock: the runtime passes `now`.
struct ExpectationBook {
    private var byTicket: [ExpectationKey: [Expectation]] = [:]

    /// Records that the call behind `ticket` will stop or remove `reference` (nil: every
    /// container).
    mutating func expect(_ reference: String?, ticket: ExpectationKey, caller: String, now: ContinuousClock.Instant) {
        prune(now: now)
        byTicket[ticket, default: []].append(Expectation(caller: caller, reference: reference, until: nil))
    }

    /// Takes back what the call behind `ticket` expected (it found it stops nothing).
    mutating func withdraw(ticket: ExpectationKey) {
        byTicket[ticket] = nil
    }

    /// The call behind `ticket` answered: its expectations lapse after the grace period.
    mutating func close(ticket: ExpectationKey, now: ContinuousClock.Instant) {
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

    /// How many `owner` keeps.
    func count(owner: Int) -> Int {
        byTicket.filter { $0.key.owner == owner }.values.reduce(0) { $0 + $1.count }
    }

    /// `owner`'s run ended: its calls are over, so what they expected lapses after the
    /// grace period (a reload's new state may still see their transitions).
    mutating func closeAll(owner: Int, now: ContinuousClock.Instant) {
        for key in byTicket.keys where key.owner == owner { close(ticket: key, now: now) }
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

/// ``ExpectationBook`` shared by the runtimes of one configuration (a `heph run` and its
/// reloads), from any thread.
public final class SharedExpectations: Sendable {
    private let book = Mutex(ExpectationBook())

    /// An empty book.
    public init() {}

    func withBook<T>(_ body: (inout ExpectationBook) -> T) -> T {
        book.withLock { body(&$0) }
    }
}
