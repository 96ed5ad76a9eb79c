import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Every container method against the real engine, checked from outside with the docker CLI.
@Suite(.usesEngine) struct ContainerLifecycleTests {
    @Test func createStartStopRemove() async throws {
        let name = TestNames.unique("life")
        let full = "heph-\(name)"
        defer { Docker.forceRemove([full]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let id = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            #expect(try await Docker.output("inspect", "-f", "{{.Id}} {{.State.Status}}", full) == "\(id) created")
            #expect(try await orchestrator.healthCheck(name) == .created)

            try await orchestrator.startContainer(name)
            try await orchestrator.startContainer(full)  // already running: not an error
            #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", full) == "running")
            #expect(try await orchestrator.healthCheck(id) == .running)

            try await orchestrator.stopContainer(String(id.prefix(12)))
            #expect(try await Docker.output("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", full) == "exited 0")
            #expect(try await orchestrator.healthCheck(full) == .stopped)
            try await orchestrator.stopContainer(name)  // already stopped: not an error

            try await orchestrator.removeContainer(name)
            #expect(try await Docker.run("inspect", full).status != 0)
            #expect(try await orchestrator.healthCheck(name) == .error)
        }
    }

    @Test func prefixIsAddedOnce() async throws {
        let full = "heph-\(TestNames.unique("prefix"))"
        defer { Docker.forceRemove([full]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: full, cmd: Fixtures.idle))
            #expect(try await Docker.output("inspect", "-f", "{{.Name}}", full) == "/\(full)")
            #expect(try await orchestrator.inspectContainer(full).name == full)
        }
    }

    @Test func removeStopsARunningContainerGracefully() async throws {
        let name = TestNames.unique("rm")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            let started = ContinuousClock.now
            try await orchestrator.removeContainer(name)
            // The idle command exits on SIGTERM, so a graceful stop is quick; a kill after
            // the 10 s timeout would show here.
            #expect(ContinuousClock.now - started < .seconds(8))
            #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
        }
    }

    @Test func stopKillsAfterTheTimeout() async throws {
        let name = TestNames.unique("stubborn")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            // Ignores SIGTERM: only the kill after the timeout ends it.
            let stubborn = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: stubborn))
            try await orchestrator.startContainer(name)
            try await orchestrator.stopContainer(name, timeout: .seconds(1))
            #expect(try await Docker.output("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "heph-\(name)") == "exited 137")
        }
    }

    @Test func listShowsManagedContainersSortedAndNothingElse() async throws {
        let names = [TestNames.unique("list-b"), TestNames.unique("list-a")]
        let foreign = "heph-\(TestNames.unique("foreign"))"
        defer { Docker.forceRemove(names.map { "heph-\($0)" } + [foreign]) }
        try await Docker.output("create", "--name", foreign, Fixtures.image, "sleep", "60")
        try await Fixtures.withOrchestrator { orchestrator in
            for name in names {
                _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            }
            let listed = try await orchestrator.listContainers()
            #expect(listed.map(\.name) == listed.map(\.name).sorted())
            let mine = listed.filter { names.map { "heph-\($0)" }.contains($0.name) }
            #expect(mine.map(\.name) == names.map { "heph-\($0)" }.sorted())
            #expect(mine.allSatisfy { $0.status == .created && $0.image == Fixtures.image && $0.details == nil })
            #expect(!listed.contains { $0.name == foreign })
        }
    }

    @Test func inspectReportsTheInspectOnlyFields() async throws {
        let name = TestNames.unique("inspect")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let id = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, hostname: "inspected", cmd: ["sh", "-c", "exit 3"], labels: ["team": "ops"]))
            let created = try await orchestrator.inspectContainer(name)
            #expect(created.id == id)
            #expect(created.details?.startedAt == nil)
            try await orchestrator.startContainer(name)
            #expect(await Fixtures.eventually(timeout: .seconds(10)) { (try? await orchestrator.healthCheck(name)) == .stopped })
            let info = try await orchestrator.inspectContainer(id)
            let details = try #require(info.details)
            #expect(info.name == "heph-\(name)")
            #expect(details.exitCode == 3)
            #expect(details.oomKilled == false)
            #expect(details.restartCount == 0)
            #expect(details.hostname == "inspected")
            #expect(details.labels.filter { $0.key != configHashLabel } == ["team": "ops", "io.heph.managed": "true", "io.heph.project": "default"])
            #expect(details.labels[configHashLabel]?.count == 16)
            #expect(details.health == nil)
            let startedAt = try #require(details.startedAt)
            let finishedAt = try #require(details.finishedAt)
            // Both parsed to the right second (the engine's two clocks may put a fast exit a
            // fraction of a millisecond before the start, so their order is not asserted).
            #expect(abs(startedAt - Date().timeIntervalSince1970) < 60)
            #expect(abs(finishedAt - startedAt) < 5)
        }
    }

    @Test func unknownContainersAreNotFound() async throws {
        let name = TestNames.unique("nope")
        try await Fixtures.withOrchestrator { orchestrator in
            for operation in [
                { try await orchestrator.startContainer(name) },
                { try await orchestrator.stopContainer(name) },
                { try await orchestrator.removeContainer(name) },
                { _ = try await orchestrator.inspectContainer(name) },
            ] as [() async throws -> Void] {
                let error = await dockerError(operation)
                #expect(error?.code == .notFound)
                #expect(error?.message == "no such container: heph-\(name)")
            }
            let status = try await orchestrator.healthCheck(name)
            #expect(status == .error)
            #expect(await dockerError { try await orchestrator.startContainer("0123456789abcdef") }?.message == "no such container: 0123456789abcdef")
            #expect(await dockerError { try await orchestrator.startContainer("../etc") }?.message == #"no such container: "../etc""#)
        }
    }

    @Test func foreignContainersAreLeftAlone() async throws {
        let foreign = "heph-\(TestNames.unique("foreign"))"
        defer { Docker.forceRemove([foreign]) }
        let id = try await Docker.output("run", "-d", "--name", foreign, Fixtures.image, "sleep", "60")
        try await Fixtures.withOrchestrator { orchestrator in
            let expected = "\(foreign) is not managed by heph (it has no io.heph.managed=true label), so heph leaves it alone"
            for reference in [foreign, String(foreign.dropFirst(5)), String(id.prefix(12))] {
                for operation in [
                    { try await orchestrator.stopContainer(reference) },
                    { try await orchestrator.removeContainer(reference) },
                    { _ = try await orchestrator.inspectContainer(reference) },
                ] as [() async throws -> Void] {
                    let error = await dockerError(operation)
                    #expect(error?.code == .notFound)
                    #expect(error?.message == expected)
                }
                let status = try await orchestrator.healthCheck(reference)
                #expect(status == .error)
            }
        }
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
    }

    @Test func aTakenNameIsAConflict() async throws {
        let name = TestNames.unique("twice")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let config = ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle)
            _ = try await orchestrator.createContainer(config)
            let error = await dockerError { _ = try await orchestrator.createContainer(config) }
            #expect(error?.code == .conflict)
            #expect(error?.message == "a container named heph-\(name) already exists; remove it first or choose another name")
        }
    }

    @Test func aMissingImageThatCannotBePulledIsAnImagePullError() async throws {
        let name = TestNames.unique("noimage")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let error = await dockerError {
                _ = try await orchestrator.createContainer(ContainerConfig(image: "heph/not-here:\(name)", name: name))
            }
            #expect(error?.code == .imagePull)
            #expect(error?.message.hasPrefix(#"image "heph/not-here:\#(name)" is not available locally and could not be pulled: "#) == true)
            #expect(error?.message.contains("{") == false)
        }
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
    }

    @Test func aPullThatFailsInsideTheStreamIsAnImagePullError() async throws {
        // The engine answers this pull with 200, then an {"error": …} line mid-stream.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/broken-registry.py").path
        let port = Fixtures.freePort()
        let registry = try BackgroundProcess("/usr/bin/env", ["python3", script, String(port)])
        defer { registry.stop() }
        let name = TestNames.unique("badpull")
        let image = "localhost:\(port)/broken:\(name)"
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            var error: DockerError?
            // Wait for the registry to listen: until then the pull fails before streaming.
            _ = await Fixtures.eventually(timeout: .seconds(10)) {
                error = await dockerError { _ = try await orchestrator.createContainer(ContainerConfig(image: image, name: name)) }
                return error?.message.contains("verification failed") == true
            }
            #expect(error?.code == .imagePull)
            #expect(error?.message.hasPrefix(#"image "\#(image)" is not available locally and could not be pulled: filesystem layer verification failed for digest sha256:"#) == true)
        }
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
        #expect(try await Docker.run("image", "inspect", image).status != 0)
    }

    @Test func aMissingBindSourceIsAConfigError() async throws {
        let name = TestNames.unique("nobind")
        let missing = "/nonexistent/\(name)"
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            let error = await dockerError {
                _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, volumes: [missing: "/data"]))
            }
            #expect(error?.code == .invalidConfig)
            #expect(error?.message == #"config.volumes: host path "\#(missing)" does not exist on the engine's host; create it first (bind mounts are never created for you)"#)
        }
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
