@testable import HephDocker
import Testing

/// Events and polls into transitions: once each, in order, and a stale poll changes nothing.
@Suite struct TransitionTrackerTests {
    static func event(_ action: ContainerEvent.Action, _ id: String = "c1", at second: Int64 = 1) -> ContainerEvent {
        ContainerEvent(action: action, id: id, name: "heph-\(id)", timeNano: second * 1_000_000_000)
    }

    static func observation(_ id: String, _ status: ContainerStatus, exit: (Int, Bool)? = nil) -> TransitionTracker.Observation {
        TransitionTracker.Observation(id: id, name: "heph-\(id)", status: status, exit: exit.map { (code: $0.0, oomKilled: $0.1) })
    }

    /// `status previous→new`, `exit code`, `removed` for compact expectations.
    static func describe(_ transitions: [ContainerTransition]) -> [String] {
        transitions.map { transition in
            let previous = transition.previous?.rawValue ?? "nil"
            switch transition.kind {
            case .status(let status): return "\(transition.id) \(previous)→\(status.rawValue)"
            case .exited(let code, let oom): return "\(transition.id) exit \(code)\(oom ? " oom" : "")"
            case .removed: return "\(transition.id) removed after \(previous)"
            }
        }
    }

    @Test func aLifeFromCreateToDestroy() {
        var tracker = TransitionTracker()
        var all: [ContainerTransition] = []
        for action: ContainerEvent.Action in [.create, .start, .health(healthy: true), .health(healthy: true), .health(healthy: false),
                                              .pause, .unpause, .oom, .die(exitCode: 137), .other("kill"), .destroy] {
            all += tracker.apply(Self.event(action))
        }
        #expect(Self.describe(all) == [
            "c1 nil→created", "c1 created→running", "c1 running→healthy", "c1 healthy→unhealthy",
            "c1 unhealthy→error", "c1 error→unhealthy", "c1 unhealthy→stopped", "c1 exit 137 oom", "c1 removed after stopped",
        ])
        #expect(all.allSatisfy { $0.source == .events && $0.at == 1 })
        #expect(tracker.known.isEmpty)
    }

    @Test func aRestartAfterAnExitForgetsTheOldHealth() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .healthy)], poll: tracker.startPoll(), at: 0, emit: false)
        let transitions = [ContainerEvent.Action.die(exitCode: 1), .start, .unpause].flatMap { tracker.apply(Self.event($0)) }
        #expect(Self.describe(transitions) == ["c1 healthy→stopped", "c1 exit 1", "c1 stopped→running"])
    }

    @Test func aSecondDieIsNotASecondExit() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        let transitions = tracker.apply(Self.event(.die(exitCode: 0))) + tracker.apply(Self.event(.die(exitCode: 0)))
        #expect(Self.describe(transitions) == ["c1 running→stopped", "c1 exit 0"])
    }

    @Test func eventsOfUnknownContainersThatSayNothingTeachNothing() {
        var tracker = TransitionTracker()
        #expect(tracker.apply(Self.event(.other("kill"))).isEmpty)
        #expect(tracker.apply(Self.event(.destroy)).isEmpty)
        #expect(tracker.known.isEmpty)
        #expect(Self.describe(tracker.apply(Self.event(.start))) == ["c1 nil→running"])
    }

    @Test func aPollFillsWhatTheStreamMissedExactlyOnce() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .healthy), Self.observation("c2", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        // The stream is down: c1 exits, c2 is removed, c3 appears. A poll sees it all.
        let polled = tracker.reconcile([Self.observation("c1", .stopped, exit: (3, false)), Self.observation("c3", .created)],
                                       poll: tracker.startPoll(), at: 10)
        #expect(Self.describe(polled) == ["c1 healthy→stopped", "c1 exit 3", "c3 nil→created", "c2 removed after running"])
        #expect(polled.allSatisfy { $0.source == .poll && $0.at == 10 })
        // The next poll, and events repeating what the poll already told, add nothing.
        #expect(tracker.reconcile([Self.observation("c1", .stopped), Self.observation("c3", .created)], poll: tracker.startPoll(), at: 11).isEmpty)
        #expect(tracker.apply(Self.event(.die(exitCode: 3), "c1")).isEmpty)
        #expect(tracker.apply(Self.event(.create, "c3")).isEmpty)
    }

    @Test func aPollOlderThanAnEventLeavesThatContainerAlone() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running), Self.observation("c2", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        let poll = tracker.startPoll()
        // While the poll is in flight, c1 turns healthy and a new c9 is created and started.
        let live = tracker.apply(Self.event(.health(healthy: true), "c1")) + tracker.apply(Self.event(.create, "c9"))
        #expect(Self.describe(live) == ["c1 running→healthy", "c9 nil→created"])
        // The poll's answer predates both: c1 still "running", c9 absent. Neither changes;
        // c2, untouched by events, is reconciled.
        let polled = tracker.reconcile([Self.observation("c1", .running), Self.observation("c2", .unhealthy)], poll: poll, at: 5)
        #expect(Self.describe(polled) == ["c2 running→unhealthy"])
        #expect(tracker.known["c1"]?.status == .healthy)
        #expect(tracker.known["c9"]?.status == .created)
    }

    @Test func theFirstLookOnlyLearns() {
        var tracker = TransitionTracker()
        #expect(tracker.reconcile([Self.observation("c1", .healthy)], poll: tracker.startPoll(), at: 0, emit: false).isEmpty)
        #expect(Self.describe(tracker.apply(Self.event(.health(healthy: false)))) == ["c1 healthy→unhealthy"])
    }

    @Test func anOlderPollAnsweringLastIsDropped() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        let older = tracker.startPoll()   // lists before the change…
        let newer = tracker.startPoll()   // …this one after it, and answers first
        #expect(Self.describe(tracker.reconcile([Self.observation("c1", .unhealthy)], poll: newer, at: 2)) == ["c1 running→unhealthy"])
        #expect(tracker.reconcile([Self.observation("c1", .running)], poll: older, at: 3).isEmpty)
        #expect(tracker.known["c1"]?.status == .unhealthy)
    }

    @Test func aPollThatBeganBeforeARemovalDoesNotBringTheContainerBack() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .stopped)], poll: tracker.startPoll(), at: 0, emit: false)
        let poll = tracker.startPoll()   // lists while c1 still exists…
        #expect(Self.describe(tracker.apply(Self.event(.destroy))) == ["c1 removed after stopped"])
        // …and answers after the destroy: c1 is not new, it is gone.
        #expect(tracker.reconcile([Self.observation("c1", .stopped)], poll: poll, at: 2).isEmpty)
        #expect(tracker.known.isEmpty)
        // A poll that began after the removal forgets it; ids are never reused.
        #expect(tracker.reconcile([], poll: tracker.startPoll(), at: 3).isEmpty)
    }
}
