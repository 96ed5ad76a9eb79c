import HephDocker
import HephTestSupport
import Synchronization
import Testing

/// The injected clock: the manual one moves only when told, and the waits built on any
/// clock (`repeating`, `poll`) keep to it.
@Suite struct ClockTests {
    @Test func aManualClockWakesSleepersInDeadlineOrderOnlyWhenItGetsThere() async throws {
        let clock = ManualClock(epochSeconds: 100)
        let woken = Recorder<Int>()
        let start = clock.now
        let sleepers = [3, 1, 2].map { seconds in
            Task {
                try await clock.sleep(until: start + .seconds(seconds))
                woken.append(seconds)
            }
        }
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { clock.sleeperCount == 3 })
        clock.advance(by: .milliseconds(1500))
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { woken.all == [1] })
        clock.advance(by: .seconds(2))
        for sleeper in sleepers { try await sleeper.value }
        #expect(Set(woken.all) == [1, 2, 3])
        #expect(clock.epochSeconds == 103.5)
        try await clock.sleep(until: start)  // a deadline passed already returns at once
    }

    @Test func aCancelledSleepOnAManualClockThrowsAtOnce() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(3600)) }
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { clock.sleeperCount == 1 })
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func repeatingKeepsAFixedRateAndPollGivesUpAtItsDeadline() async throws {
        let clock = ManualClock()
        let ticks = Recorder<Double>()
        let start = clock.epochSeconds
        let repeating = Task {
            await clock.repeating(every: .seconds(2)) {
                ticks.append(clock.epochSeconds - start)
                return ticks.all.count < 3
            }
        }
        for expected in 1...3 {
            #expect(await Fixtures.eventually(timeout: .seconds(10)) { ticks.all.count == expected })
            if expected < 3 {
                #expect(await Fixtures.eventually(timeout: .seconds(10)) { clock.sleeperCount == 1 })
                clock.advance(by: .seconds(2))
            }
        }
        await repeating.value
        #expect(ticks.all == [0, 2, 4])

        let asked = Mutex(0)
        let polling = Task {
            try await clock.poll(every: .seconds(1), until: clock.now + .seconds(2)) { () -> Bool? in
                asked.withLock { $0 += 1 }
                return nil
            }
        }
        for _ in 0..<2 {
            #expect(await Fixtures.eventually(timeout: .seconds(10)) { clock.sleeperCount == 1 })
            clock.advance(by: .seconds(1))
        }
        #expect(try await polling.value == nil)
        #expect(asked.withLock { $0 } == 3, "at 0, 1 and 2 s")
    }
}
