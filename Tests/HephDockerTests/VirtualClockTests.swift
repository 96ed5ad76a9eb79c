import HephDocker
import HephTestSupport
import Testing

/// The virtual clock of `heph test`: time jumps to the next deadline whenever everything
/// waits, so long waits take no real time, in order.
@Suite struct VirtualClockTests {
    @Test func sleepersWakeInDeadlineOrderWithoutAnyoneMovingTheClock() async throws {
        let clock = VirtualClock()
        defer { clock.stop() }
        let woken = Recorder<Int>()
        let started = ContinuousClock.now
        let sleepers = [3600, 1, 60].map { seconds in
            Task {
                try await clock.sleep(for: .seconds(seconds))
                woken.append(seconds)
            }
        }
        for sleeper in sleepers { try await sleeper.value }
        #expect(woken.all == [1, 60, 3600])
        #expect(clock.epochSeconds == 1_700_003_600)
        // Virtual: an hour passed in far less real time. (How little is a benchmark's to say:
        // a suite starting up can stall every task for seconds.)
        #expect(ContinuousClock.now - started < .seconds(36))
    }

    @Test func aHoldKeepsTimeStillUntilItIsReleased() async throws {
        let clock = VirtualClock(epochSeconds: 100)
        defer { clock.stop() }
        clock.hold()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        #expect(await Fixtures.eventually(timeout: .seconds(5)) { clock.sleeperCount == 1 })
        try await Task.sleep(for: .milliseconds(30))
        #expect(clock.epochSeconds == 100 && clock.sleeperCount == 1)
        clock.release()
        try await sleeper.value
        #expect(clock.epochSeconds == 105)
        // Work that holds the clock runs at one instant, however long it takes.
        try await clock.holding { try await Task.sleep(for: .milliseconds(20)) }
        #expect(clock.epochSeconds == 105)
    }

    @Test func stopEndsEverySleepAndLaterOnesReturnAtOnce() async throws {
        let clock = VirtualClock()
        clock.hold()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        #expect(await Fixtures.eventually(timeout: .seconds(5)) { clock.sleeperCount == 1 })
        clock.stop()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // A later sleep ends at once too, so a loop that sleeps ends rather than spins.
        await #expect(throws: CancellationError.self) { try await clock.sleep(for: .seconds(3600)) }
        #expect(clock.epochSeconds == 1_700_000_000)
    }

    @Test func theSimulatedEngineRunsInVirtualTime() async throws {
        let clock = VirtualClock()
        defer { clock.stop() }
        let orchestrator = SimulatedOrchestrator(engine: SimulatedEngine(clock: clock))
        let seen = Recorder<String>()
        // Crashed and restarted by the engine's policy: the clock must not outrun either.
        let made = orchestrator.makeWatcher(pollInterval: .seconds(5), onTransition: { transition in
            seen.append("\(transition.name) \(transition.previous?.rawValue ?? "nil")→\(transition.kind) at \(Int(transition.at) - 1_700_000_000)")
        }, onNotice: { _ in })
        let watcher = try #require(made)
        watcher.start()
        await watcher.waitUntilWatching()
        defer { watcher.stop() }
        // The engine's default interval: healthy 30 s after the start, at once in real time.
        let config = ContainerConfig(image: "heph/busybox:latest", name: "web", restart: "always", healthcheck: Healthcheck(test: .shell("true")))
        let id = try await orchestrator.createContainer(config)
        try await orchestrator.startContainer(id)
        try await clock.sleep(for: .seconds(31))
        #expect(try await orchestrator.healthCheck(id) == .healthy)
        // A crash, and the restart policy 100 ms later.
        orchestrator.engine.crash(id)
        try await clock.sleep(for: .seconds(1))
        #expect(try await orchestrator.inspectContainer(id).details?.restartCount == 1)
        #expect(seen.all.first == "heph-web nil→status(HephDocker.ContainerStatus.created) at 0")
        #expect(seen.all.contains("heph-web running→status(HephDocker.ContainerStatus.healthy) at 30"), "\(seen.all)")
        #expect(seen.all.last == "heph-web stopped→status(HephDocker.ContainerStatus.running) at 31", "\(seen.all)")
    }
}
