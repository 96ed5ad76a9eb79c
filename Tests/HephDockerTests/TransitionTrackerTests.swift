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

    // MARK: Causes and states

    /// `status cause state` of each transition (`exit cause` for an exit).
    static func causes(_ transitions: [ContainerTransition]) -> [String] {
        transitions.map { transition in
            switch transition.kind {
            case .status(let status): "\(status.rawValue) \(transition.cause.rawValue) \(transition.state.rawValue)"
            case .exited: "exit \(transition.cause.rawValue) \(transition.state.rawValue)"
            case .removed: "removed \(transition.cause.rawValue) \(transition.state.rawValue)"
            }
        }
    }

    @Test func theEventsBeforeAndAfterADieTellWhyItEnded() {
        var tracker = TransitionTracker()
        var all: [ContainerTransition] = []
        // Each hold runs out at once (what the watcher's timer does).
        for action: ContainerEvent.Action in [.create, .start, .die(exitCode: 3), .start, .kill(signal: 9), .die(exitCode: 137),
                                              .start, .oom, .die(exitCode: 137), .start, .pause, .unpause, .health(healthy: true)] {
            let (transitions, holdFor) = tracker.applyHolding(Self.event(action))
            all += transitions
            if holdFor != nil { all += tracker.releaseHeld("c1", sequence: tracker.sequence) }
        }
        #expect(Self.causes(all) == [
            "created created created", "running started running",
            "stopped crash exited", "exit crash exited", "running restarted running",
            "stopped killed exited", "exit killed exited", "running restarted running",
            "stopped oom exited", "exit oom exited", "running restarted running",
            "error paused paused", "running unpaused running", "healthy health running",
        ])
    }

    @Test func aDieAfterAGracefulSignalWaitsForTheStopThatFollows() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        // docker stop: kill (SIGTERM), die, stop. Nothing is told until the stop says why.
        #expect(tracker.applyHolding(Self.event(.kill(signal: 15))).transitions.isEmpty)
        let died = tracker.applyHolding(Self.event(.die(exitCode: 0)))
        #expect(died.transitions.isEmpty && died.holdFor == TransitionTracker.stopEventWait)
        #expect(Self.causes(tracker.apply(Self.event(.stop))) == ["stopped stopped exited", "exit stopped exited"])
        // docker kill -s TERM: no stop follows; released as killed, once.
        _ = tracker.apply(Self.event(.start))
        _ = tracker.apply(Self.event(.kill(signal: 15)))
        #expect(tracker.applyHolding(Self.event(.die(exitCode: 143))).holdFor != nil)
        let sequence = tracker.sequence
        #expect(Self.causes(tracker.releaseHeld("c1", sequence: sequence)) == ["stopped killed exited", "exit killed exited"])
        #expect(tracker.releaseHeld("c1", sequence: sequence).isEmpty)
        // A die before the kill that caused it (the engine logs the kill once sent): held as
        // a crash, then a kill, then the stop decides.
        _ = tracker.apply(Self.event(.start))
        #expect(tracker.applyHolding(Self.event(.die(exitCode: 0))).holdFor == TransitionTracker.killEventWait)
        #expect(tracker.applyHolding(Self.event(.kill(signal: 15))) == ([], TransitionTracker.stopEventWait))
        #expect(Self.causes(tracker.apply(Self.event(.stop))) == ["stopped stopped exited", "exit stopped exited"])
        // A docker restart: its start comes after the stop, and is a restart.
        _ = tracker.apply(Self.event(.start))
        _ = tracker.apply(Self.event(.kill(signal: 15)))
        _ = tracker.apply(Self.event(.die(exitCode: 0)))
        #expect(Self.causes(tracker.apply(Self.event(.stop)) + tracker.apply(Self.event(.start)) + tracker.apply(Self.event(.restart)))
            == ["stopped stopped exited", "exit stopped exited", "running restarted running"])
    }

    @Test func anotherEventOrItsHoldReleasesAHeldDie() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        _ = tracker.apply(Self.event(.kill(signal: 15)))
        _ = tracker.apply(Self.event(.die(exitCode: 143)))
        #expect(Self.causes(tracker.apply(Self.event(.destroy))) == ["stopped killed exited", "exit killed exited", "removed removed gone"])
        _ = tracker.reconcile([Self.observation("c2", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        _ = tracker.apply(Self.event(.kill(signal: 2), "c2"))
        _ = tracker.apply(Self.event(.die(exitCode: 130), "c2"))
        // Polls leave a held die to the events after it, and to its hold: they release nothing.
        _ = tracker.reconcile([Self.observation("c2", .stopped)], poll: tracker.startPoll(), at: 2)
        #expect(tracker.reconcile([Self.observation("c2", .stopped)], poll: tracker.startPoll(), at: 3).isEmpty)
        #expect(Self.causes(tracker.releaseHeld("c2", sequence: tracker.sequence)) == ["stopped killed exited", "exit killed exited"])
    }

    @Test func whatOnlyAPollSawHasNoKnownCauseUnlessTheEngineWasDown() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .healthy), Self.observation("c2", .healthy), Self.observation("c3", .running)],
                              poll: tracker.startPoll(), at: 0, emit: false)
        var paused = Self.observation("c3", .error)
        paused.state = .paused
        let missed = tracker.reconcile([Self.observation("c1", .stopped, exit: (1, false)), Self.observation("c2", .healthy), paused],
                                       poll: tracker.startPoll(), at: 1)
        #expect(Self.causes(missed) == ["stopped unknown exited", "exit unknown exited", "error unknown paused"])
        #expect(Self.causes(tracker.reconcile([Self.observation("c3", .error)], poll: tracker.startPoll(), at: 2))
            == ["removed removed gone", "removed removed gone"])
        // The engine unreachable meanwhile: it stopped what was running; an event since says otherwise.
        var after = TransitionTracker()
        _ = after.reconcile([Self.observation("c1", .healthy), Self.observation("c2", .healthy)], poll: after.startPoll(), at: 0, emit: false)
        after.engineUnreachable()
        _ = after.apply(Self.event(.die(exitCode: 3), "c2"))
        _ = after.reconcile([], scope: [], poll: after.startPoll(), at: 1)
        #expect(Self.causes(after.reconcile([Self.observation("c1", .stopped, exit: (0, false)), Self.observation("c2", .stopped)], poll: after.startPoll(), at: 2))
            == ["stopped engine exited", "exit engine exited"])
    }

    @Test func aStopLoggedBeforeItsDieAndAnOldSignalAreReadForWhatTheyAre() {
        var tracker = TransitionTracker()
        _ = tracker.reconcile([Self.observation("c1", .running)], poll: tracker.startPoll(), at: 0, emit: false)
        // kill, stop, die: the stop came first, and decides at once.
        _ = tracker.apply(Self.event(.kill(signal: 15), at: 10))
        _ = tracker.apply(Self.event(.stop, at: 10))
        #expect(Self.causes(tracker.apply(Self.event(.die(exitCode: 0), at: 10))) == ["stopped stopped exited", "exit stopped exited"])
        // A SIGHUP an hour before a crash: a crash.
        _ = tracker.apply(Self.event(.start, at: 20))
        _ = tracker.apply(Self.event(.kill(signal: 1), at: 30))
        let crashed = tracker.applyHolding(Self.event(.die(exitCode: 2), at: 3630))
        #expect(crashed.holdFor == TransitionTracker.killEventWait)
        #expect(Self.causes(tracker.releaseHeld("c1", sequence: tracker.sequence)) == ["stopped crash exited", "exit crash exited"])
    }
}
