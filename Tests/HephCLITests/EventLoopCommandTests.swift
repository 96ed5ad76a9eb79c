import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph run` of scripts that keep running: signals, `--down`, and the examples that watch.
@Suite(.usesEngine) struct EventLoopCommandTests {
    /// A script that watches until stopped, with a shutdown handler that waits a little.
    static func watchingScript(_ name: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).lua")
        try Data("""
            heph.on_shutdown(function() heph.sleep(0.2); print("shutdown handler ran") end)  -- sleeping is the behaviour under test: a handler that takes a while is waited for
            heph.on("change", function() end)
            heph.create_container{ image = "heph/busybox:latest", name = "\(name)", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } }
            print("watching")
            """.utf8).write(to: file)
        return file
    }

    @Test func sigtermRunsTheShutdownHandlersAndExits143() async throws {
        let name = TestNames.unique("sigterm")
        let script = try Self.watchingScript(name)
        defer {
            Docker.forceRemove(["heph-\(name)"])
            try? FileManager.default.removeItem(at: script)
        }
        let run = try HephProcess.run([script.path])
        #expect(await run.waitFor("watching"))
        run.signal(SIGTERM)
        #expect(await run.status() == 143)
        #expect(run.stdout == "watching\nshutdown handler ran\n")
        #expect(run.stderr.isEmpty)
        // Without --down the container stays.
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph-\(name)") == "created")
    }

    @Test func aSecondSigintEndsItAtOnce() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("twice")).lua")
        try Data("""
            heph.on_shutdown(function() print('stopping'); heph.sleep(60) end)  -- sleeping is the behaviour under test: a handler that would take a minute, which the second SIGINT does not wait for
            heph.every(1, function() end)
            print('ready')
            """.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try HephProcess.run([file.path])
        #expect(await run.waitFor("ready"))
        run.signal(SIGINT)
        // The second SIGINT comes once the shutdown handler is under way.
        _ = await run.waitFor("stopping")
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(5)) == 130)
        #expect(run.stderr == "heph: stopping now, without waiting for the shutdown handlers\n")
    }

    @Test func autohealRestartsAContainerThatTurnsUnhealthy() async throws {
        let name = TestNames.unique("autoheal")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name,
                cmd: ["sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait"],
                healthcheck: Healthcheck(test: .exec(["cat", "/ready"]), interval: 0.5, retries: 1)))
            try await orchestrator.startContainer(name)
        }
        let example = URL(fileURLWithPath: HephBinary.repositoryRoot).appendingPathComponent("examples/autoheal.lua").path
        let run = try HephProcess.run([example, "^heph%-\(name.replacingOccurrences(of: "-", with: "%-"))$"])
        #expect(await run.waitFor("healing containers matching"))
        #expect(await Fixtures.eventually(timeout: .seconds(15)) {
            (try? await Docker.output("inspect", "-f", "{{.State.Health.Status}}", "heph-\(name)")) == "healthy"
        })
        let startedBefore = try await Docker.output("inspect", "-f", "{{.State.StartedAt}}", "heph-\(name)")
        try await Docker.output("exec", "heph-\(name)", "busybox", "rm", "/ready")
        #expect(await run.waitFor("heph-\(name) restarted"))
        #expect(run.stdout.contains("heph-\(name) is unhealthy; restarting"))
        #expect(try await Docker.output("inspect", "-f", "{{.State.StartedAt}}", "heph-\(name)") != startedBefore)
        #expect(await Fixtures.eventually(timeout: .seconds(15)) {
            (try? await Docker.output("inspect", "-f", "{{.State.Health.Status}}", "heph-\(name)")) == "healthy"
        })
        run.signal(SIGINT)
        #expect(await run.status() == 130)
    }

    @Test func watchPrintsEveryTransition() async throws {
        let name = TestNames.unique("watch")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let example = URL(fileURLWithPath: HephBinary.repositoryRoot).appendingPathComponent("examples/watch.lua").path
        let run = try HephProcess.run([example])
        #expect(await run.waitFor("watching every managed container"))
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: ["sh", "-c", "sleep 0.5; exit 4"]))
            try await orchestrator.startContainer(name)
        }
        #expect(await run.waitFor("exit code 4"))
        try await Docker.output("rm", "heph-\(name)")
        #expect(await run.waitForLine { $0.contains("heph-\(name) ") && $0.contains("-> removed") })
        run.signal(SIGINT)
        #expect(await run.status() == 130)
        let mine = run.stdout.split(separator: "\n").filter { $0.contains("heph-\(name)") }
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") }
        #expect(mine == [
            "heph-\(name) (new) -> created", "heph-\(name) created -> running", "heph-\(name) running -> stopped",
            "heph-\(name) exit code 4", "heph-\(name) stopped -> removed",
        ])
    }
}

/// `--down` acts on every managed container: this suite owns the engine.
@Suite(.ownsEngine) struct RunDownTests {
    @Test func sigintWithDownRunsTheHandlersExits130AndLeavesNothing() async throws {
        let name = TestNames.unique("sigint-down")
        let script = try EventLoopCommandTests.watchingScript(name)
        defer {
            Docker.forceRemove(["heph-\(name)"])
            try? FileManager.default.removeItem(at: script)
        }
        let run = try HephProcess.run(["--down", script.path])
        #expect(await run.waitFor("watching"))
        run.signal(SIGINT)
        #expect(await run.status() == 130)
        #expect(run.stdout == "watching\nshutdown handler ran\n")
        #expect(run.stderr == "heph: --down removed 1 container and the network\n")
        #expect(try await Docker.managedContainers().isEmpty)
        #expect(try await Docker.output("network", "ls", "-q", "--filter", "name=^heph-network$").isEmpty)
    }
}
