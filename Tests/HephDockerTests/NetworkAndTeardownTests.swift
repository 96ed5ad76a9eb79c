import HephDocker
import HephTestSupport
import Testing

/// The network and teardown act on every managed resource, so these tests own the engine.
@Suite(.ownsEngine) struct NetworkAndTeardownTests {
    /// IDs of networks named exactly `heph-network`.
    static func networkIDs() async throws -> [String] {
        try await Docker.output("network", "ls", "-q", "--no-trunc", "--filter", "name=^heph-network$")
            .split(separator: "\n").map(String.init)
    }

    @Test func createNetworkIsIdempotentEvenWhenProcessesRace() async throws {
        try await Fixtures.withOrchestrator { try await $0.teardownAll() }
        #expect(try await Self.networkIDs().isEmpty)
        // Two clients stand for two heph processes: each has its own in-flight guard, so only
        // the engine-side convergence keeps the name unique.
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await Fixtures.withOrchestrator { orchestrator in
                        try await withThrowingTaskGroup(of: String.self) { inner in
                            for _ in 0..<5 { inner.addTask { try await orchestrator.createNetwork() } }
                            return try await inner.reduce(into: [String]()) { $0.append($1) }.first ?? ""
                        }
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        // One network survives, and it is one the racers returned. (A racer whose create
        // landed first may have returned its own id before an older one appeared and won:
        // containers join by name, so only that returned id is stale.)
        let existing = try await Self.networkIDs()
        #expect(existing.count == 1)
        #expect(existing.allSatisfy(ids.contains))
        #expect(try await Docker.output("network", "inspect", "-f", "{{.Driver}} {{index .Labels \"io.heph.managed\"}}", "heph-network") == "bridge true")
        try await Fixtures.withOrchestrator { orchestrator in
            #expect(try await orchestrator.createNetwork() == existing.first)
            try await orchestrator.removeNetwork()
            try await orchestrator.removeNetwork()  // already gone: not an error
        }
        #expect(try await Self.networkIDs().isEmpty)
    }

    @Test func aForeignNetworkOfTheSameNameIsNeitherUsedNorRemoved() async throws {
        try await Fixtures.withOrchestrator { try await $0.teardownAll() }
        try await Docker.output("network", "create", "heph-network")
        defer { Docker.removeNetworks(["heph-network"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let error = await dockerError { try await orchestrator.createNetwork() }
            #expect(error?.code == .conflict)
            #expect(error?.message == "a network named heph-network exists but is not managed by heph (it has no io.heph.managed=true label); remove it (docker network rm heph-network) so heph can make its own")
            try await orchestrator.removeNetwork()
            try await orchestrator.teardownAll()
        }
        #expect(try await Self.networkIDs().count == 1)
    }

    @Test func aNetworkWithContainersAttachedIsNotRemoved() async throws {
        let name = TestNames.unique("attached")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            let error = await dockerError { try await orchestrator.removeNetwork() }
            #expect(error?.code == .conflict)
            #expect(error?.message == "network heph-network still has containers attached (heph-\(name)); remove them first")
            try await orchestrator.teardownAll()
        }
    }

    @Test func aFreshOrchestratorTearsDownWhatAnotherMadeAndLeavesForeignContainers() async throws {
        let names = [TestNames.unique("td-run"), TestNames.unique("td-new"), TestNames.unique("td-stop")]
        let foreign = "heph-\(TestNames.unique("foreign"))"
        let volume = "heph-test-\(TestNames.unique("keep"))"
        defer {
            Docker.forceRemove(names.map { "heph-\($0)" } + [foreign])
            Docker.removeVolumes([volume])
        }
        try await Docker.output("run", "-d", "--name", foreign, Fixtures.image, "sleep", "300")
        try await Fixtures.withOrchestrator { first in
            _ = try await first.createContainer(ContainerConfig(image: Fixtures.image, name: names[0], volumes: [volume: "/data"], cmd: Fixtures.idle))
            _ = try await first.createContainer(ContainerConfig(image: Fixtures.image, name: names[1], cmd: Fixtures.idle))
            _ = try await first.createContainer(ContainerConfig(image: Fixtures.image, name: names[2], cmd: Fixtures.idle))
            try await first.startContainer(names[0])
            try await first.startContainer(names[2])
            try await first.stopContainer(names[2])
        }
        let report = try await Fixtures.withOrchestrator { fresh in try await fresh.teardownAll() }
        #expect(report.containers == names.map { "heph-\($0)" }.sorted())
        #expect(report.networks == ["heph-network"])
        #expect(report.volumes.isEmpty)
        #expect(try await Docker.managedContainers().isEmpty)
        #expect(try await Self.networkIDs().isEmpty)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
        // Data is never lost by default: the named volume stays until asked for.
        #expect(try await Docker.run("volume", "inspect", volume).status == 0)
        let withVolumes = try await Fixtures.withOrchestrator { try await $0.teardownAll(removingVolumes: true) }
        #expect(withVolumes.volumes.contains(volume))
        #expect(try await Docker.run("volume", "inspect", volume).status != 0)
    }

    @Test func teardownAttemptsEverythingAndReportsEveryFailure() async throws {
        let name = TestNames.unique("td-fail")
        let foreign = "heph-\(TestNames.unique("squatter"))"
        let volume = "heph-test-\(TestNames.unique("busy"))"
        defer {
            Docker.forceRemove(["heph-\(name)", foreign])
            Docker.removeNetworks(["heph-network"])
            Docker.removeVolumes([volume])
        }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, volumes: [volume: "/data"], cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
        }
        // A foreign container holds both the network and the volume, so neither can go.
        try await Docker.output("run", "-d", "--name", foreign, "--network", "heph-network", "-v", "\(volume):/data", Fixtures.image, "sleep", "300")
        let error = await dockerError {
            _ = try await Fixtures.withOrchestrator { try await $0.teardownAll(removingVolumes: true) }
        }
        #expect(error?.code == .engine)
        #expect(error?.message.hasPrefix("teardown could not remove everything: ") == true)
        #expect(error?.message.contains("network heph-network: network heph-network still has containers attached (\(foreign)); remove them first") == true)
        #expect(error?.message.contains("volume \(volume): ") == true)
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
    }
}
