import Foundation
import HephDocker
import HephTestSupport
import Testing

/// heph's own traffic to the engine on the real engine: bulk calls wait for a slot, control
/// calls do not, and the three kinds of wait (heph's queue, a slow engine, no engine) are
/// three errors.
@Suite(.usesEngine) struct EngineTrafficTests {
    /// An orchestrator over this process's engine whose bulk calls take `slots`.
    static func withOrchestrator<T: Sendable>(
        slots: EngineSlots, answerTimeout: Duration = .seconds(60), host: String? = nil, _ body: (DockerOrchestrator) async throws -> T
    ) async throws -> T {
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["DOCKER_HOST"] = host }
        let client = try EngineClient(endpoint: EngineEndpoint(environment: environment), slots: slots, answerTimeout: answerTimeout)
        let orchestrator = DockerOrchestrator(client: client)
        return try await orchestrator.closing { try await body(orchestrator) }
    }

    @Test func aCallWaitingForASlotFailsAsHephsQueueWhileControlTrafficGoesPast() async throws {
        let name = TestNames.unique("slot")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let slots = EngineSlots(capacity: 1, waitLimit: .seconds(1))
        try await Self.withOrchestrator(slots: slots) { orchestrator in
            // Ignores SIGTERM: its stop holds the only slot for the whole 4-second timeout.
            let stubborn = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: stubborn))
            try await orchestrator.startContainer(name)
            let stop = Task { try await orchestrator.stopContainer(name, timeout: .seconds(4)) }
            #expect(await Fixtures.eventually(timeout: .seconds(5)) { slots.load.inFlight == 1 })
            // The stop's first call (a quick inspect) may be the one in flight: only its stop
            // request still holds the slot half a second later.
            try await Task.sleep(for: .milliseconds(500))
            #expect(slots.load.inFlight == 1)

            // Control traffic takes no slot: it is answered while the stop holds the slot.
            let looked = ContinuousClock.now
            let listed = try await EngineLane.asControl { try await orchestrator.listContainers() }
            #expect(listed.contains { $0.name == "heph-\(name)" })
            #expect(ContinuousClock.now - looked < .seconds(1))

            // Bulk traffic waits, and after the limit says the wait was heph's own.
            let error = await #expect(throws: DockerError.self) { try await orchestrator.inspectContainer(name) }
            #expect(error?.code == .queueTimeout)
            #expect(error?.message.hasPrefix("this call waited 1 s for a free engine slot (heph sends at most 1 at a time; 1 in flight") == true, "\(String(describing: error))")
            #expect(error?.remedy == .raiseEngineConcurrency(current: 1))
            try await stop.value
            // The queue moves on: the next call gets the slot.
            #expect(try await orchestrator.inspectContainer(name).status == .stopped)
        }
    }

    @Test func anEngineThatTakesTheCallButDoesNotAnswerIsSlowNotUnreachable() async throws {
        // A socket that accepts every connection and never answers: an engine that is stuck.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("stuck")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = "\(directory)/docker.sock"
        let stuck = try BackgroundProcess("/usr/bin/socat", ["UNIX-LISTEN:\(socket),fork", "SYSTEM:sleep 30"], ownGroup: true)
        defer { stuck.stop() }
        #expect(await Fixtures.eventually(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: socket) })
        try await Self.withOrchestrator(slots: EngineSlots(capacity: 7), answerTimeout: .seconds(1), host: "unix://\(socket)") { orchestrator in
            let error = await #expect(throws: DockerError.self) { try await orchestrator.listContainers() }
            #expect(error?.code == .engineTimeout)
            #expect(error?.message == "the Docker engine at unix://\(socket) took the call but did not answer within 1 s: it is overloaded or stuck (see `docker info` and the engine's log)")
            #expect(error?.remedy == .lowerEngineConcurrency(current: 7))
        }
        // And no engine at all is the third error.
        try await Self.withOrchestrator(slots: EngineSlots(), host: "unix://\(directory)/none.sock") { orchestrator in
            let error = await #expect(throws: DockerError.self) { try await orchestrator.listContainers() }
            #expect(error?.code == .engineUnreachable)
            #expect(error?.message == "cannot reach the Docker engine at unix://\(directory)/none.sock: no such file or directory")
        }
    }
}
