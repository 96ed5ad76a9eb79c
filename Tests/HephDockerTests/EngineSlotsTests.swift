import HephDocker
import Synchronization
import Testing

/// heph's own bound on bulk engine calls, without an engine: order, the bound, a changed
/// capacity, cancellation, and the wait limit's error.
@Suite struct EngineSlotsTests {
    /// Calls that hold their slot until told to go, recording the order they got it in.
    final class Holders: Sendable {
        let order = Mutex<[Int]>([])
        let peak = Mutex((now: 0, most: 0))
        let gate = Mutex<[CheckedContinuation<Void, Never>]>([])

        func enter(_ index: Int) async {
            order.withLock { $0.append(index) }
            peak.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            await withCheckedContinuation { continuation in gate.withLock { $0.append(continuation) } }
            peak.withLock { $0.now -= 1 }
        }

        /// Lets every call holding a slot now finish.
        func releaseAll() {
            for continuation in gate.withLock({ gate in defer { gate = [] }; return gate }) { continuation.resume() }
        }

        var held: Int { gate.withLock { $0.count } }
    }

    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<2000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return condition()
    }

    @Test func atMostCapacityRunAndTheRestGetTheirTurnInOrder() async throws {
        let slots = EngineSlots(capacity: 3)
        let holders = Holders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask { try await slots.withSlot { await holders.enter(index) } }
                // Arrival order is the order asked for: each call is queued before the next starts.
                #expect(await Self.eventually { holders.held + slots.load.waiting == min(index + 1, 10) })
            }
            while holders.order.withLock({ $0.count }) < 10 || holders.held > 0 {
                #expect(await Self.eventually { holders.held == 3 || holders.held + holders.order.withLock({ $0.count }) >= 10 })
                holders.releaseAll()
                try await Task.sleep(for: .milliseconds(5))
            }
            try await group.waitForAll()
        }
        #expect(holders.peak.withLock { $0.most } == 3)
        #expect(holders.order.withLock { $0 } == Array(0..<10))
        #expect(slots.load == (0, 0))
    }

    @Test func raisingTheCapacityLetsWaitersInAtOnce() async throws {
        let slots = EngineSlots(capacity: 1)
        let holders = Holders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 { group.addTask { try await slots.withSlot { await holders.enter(index) } } }
            #expect(await Self.eventually { holders.held == 1 && slots.load.waiting == 3 })
            slots.capacity = 4
            #expect(await Self.eventually { holders.held == 4 })
            #expect(slots.load.waiting == 0)
            holders.releaseAll()
            try await group.waitForAll()
        }
    }

    @Test func aCancelledWaiterLeavesTheQueueAndTheOthersGoOn() async throws {
        let slots = EngineSlots(capacity: 1)
        let holders = Holders()
        let first = Task { try await slots.withSlot { await holders.enter(0) } }
        #expect(await Self.eventually { holders.held == 1 })
        let cancelled = Task { try await slots.withSlot { await holders.enter(1) } }
        let third = Task { try await slots.withSlot { await holders.enter(2) } }
        #expect(await Self.eventually { slots.load.waiting == 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(slots.load.waiting == 1)
        holders.releaseAll()
        try await first.value
        #expect(await Self.eventually { holders.held == 1 })
        holders.releaseAll()
        try await third.value
        #expect(holders.order.withLock { $0 } == [0, 2])
    }

    @Test func aWaitPastTheLimitIsHephsQueueNotTheEngine() async throws {
        let slots = EngineSlots(capacity: 1, waitLimit: .milliseconds(200))
        let holders = Holders()
        let holder = Task { try await slots.withSlot { await holders.enter(0) } }
        #expect(await Self.eventually { holders.held == 1 })
        let error = await #expect(throws: DockerError.self) { try await slots.withSlot {} }
        #expect(error?.code == .queueTimeout)
        #expect(error?.remedy == .raiseEngineConcurrency(current: 1))
        // The holder's age depends on how long `eventually` took under load: any whole second.
        let message = error?.message ?? ""
        #expect(message.hasPrefix("this call waited 0.2 s for a free engine slot (heph sends at most 1 at a time; 1 in flight, 0 more waiting); the oldest call in flight was sent "))
        #expect(message.contains(/was sent \d+ s ago: more work was queued than that bound gets through in time$/))
        holders.releaseAll()
        try await holder.value
        // The slot the timed-out waiter never took is free for the next call.
        try await slots.withSlot {}
        #expect(slots.load == (0, 0))
    }

    @Test func capacityIsClampedToWhatHephAccepts() {
        #expect(EngineSlots(capacity: 0).capacity == 1)
        #expect(EngineSlots(capacity: 10_000).capacity == EngineSlots.maximumCapacity)
        #expect(EngineSlots.accepts(1) && EngineSlots.accepts(EngineSlots.maximumCapacity))
        #expect(!EngineSlots.accepts(0) && !EngineSlots.accepts(EngineSlots.maximumCapacity + 1))
    }
}
