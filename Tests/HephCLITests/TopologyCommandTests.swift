import Foundation
import HephDocker
import HephTestSupport
import Testing

/// The topology examples and `heph plugins`, run as a user runs them (alone on the engine:
/// the examples use fixed names, and recovery is timed).
@Suite(.ownsEngine) struct TopologyCommandTests {
    @Test func stackComesUpThenRecoversAKilledTierAndItsDependents() async throws {
        let names = ["heph-stack-db", "heph-stack-api", "heph-stack-web"]
        defer { Docker.forceRemove(names) }
        let port = Fixtures.freePort()
        let run = try HephProcess.run(["--progress", HephBinary.repositoryRoot + "/examples/stack.lua", String(port)])
        #expect(await run.waitFor("the stack is up", timeout: .seconds(60)))
        #expect(run.stderr.contains("heph.up: stack-web ready"))
        #expect(await Fixtures.httpBody(port: port) == "web\n")
        let before = try await Docker.output("inspect", "-f", "{{.Id}} {{.State.StartedAt}}", "heph-stack-web")

        try await Docker.output("kill", "heph-stack-db")
        // restart brings db back; cascade then restarts api and web, in that order.
        let recovered = await Fixtures.eventually(timeout: .seconds(40)) {
            guard run.stderr.contains("heph cascade: heph-stack-db restarted; restarting heph-stack-api, heph-stack-web") else { return false }
            let started = try? await Docker.output("inspect", "-f", "{{.State.StartedAt}}", "heph-stack-web")
            return started != before.split(separator: " ").last.map(String.init)
        }
        #expect(recovered, "\(run.stderr)")
        #expect(await Fixtures.eventually(timeout: .seconds(30)) {
            (try? await Docker.output("inspect", "-f", "{{.State.Health.Status}}", "heph-stack-web")) == "healthy"
        })
        #expect(try await Docker.output("inspect", "-f", "{{.Id}}", "heph-stack-web") == String(before.split(separator: " ")[0]))
        run.signal(SIGINT)
        #expect(await run.status() == 130)

        // Run again: nothing changes.
        let again = try await HephBinary.run(["run", HephBinary.repositoryRoot + "/examples/stack.lua", String(port)], environment: ["HEPH_STACK_ONCE": "1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("stack-web  healthy   \(before.prefix(12))"))
    }

    @Test func chaosRehearsalRecoversEverything() async throws {
        defer { Docker.forceRemove(["heph-chaos-web", "heph-chaos-worker"]) }
        let result = try await HephBinary.run(["run", HephBinary.repositoryRoot + "/examples/chaos.lua", "8", "1.5"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = try #require(result.stdout.split(separator: "\n").last)
        #expect(summary.hasSuffix("all healthy: true"))
        #expect(!summary.hasPrefix("strikes: 0,"))
        #expect(result.stderr.contains("heph chaos: "))
        #expect(try await Docker.run("inspect", "heph-chaos-web").status != 0)  // it removes its own containers
    }

    @Test func pluginsListsEachPlaceAndWhatIsShadowed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("plugins")).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/path", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/config/heph/plugins", withIntermediateDirectories: true)
        try "return { setup = function() end }".write(toFile: directory + "/path/restart.lua", atomically: true, encoding: .utf8)
        try "return { setup = function() end }".write(toFile: directory + "/config/heph/plugins/alerts.lua", atomically: true, encoding: .utf8)
        try "return { setup = function() end }".write(toFile: directory + "/local.lua", atomically: true, encoding: .utf8)
        try "heph.use('local')".write(toFile: directory + "/main.lua", atomically: true, encoding: .utf8)
        let result = try await HephBinary.run(["plugins", directory + "/main.lua"],
                                              environment: ["HEPH_PATH": directory + "/path/?.lua", "XDG_CONFIG_HOME": directory + "/config"])
        #expect(result.status == 0)
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows == [
            "NAME FROM PATH",
            "local next to the script \(directory)/local.lua",
            "restart HEPH_PATH \(directory)/path/restart.lua",
            "alerts user plugins \(directory)/config/heph/plugins/alerts.lua",
            "cascade built in (inside heph)",
            "chaos built in (inside heph)",
            "notify built in (inside heph)",
            "restart built in (inside heph) shadowed",
        ])
    }

    /// A script that brings up `count` services named PREFIX-NN and prints "up".
    static func upScript(count: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("upkill")).lua").path
        try """
            local prefix, count = arg[1], tonumber(arg[2])
            heph.on_shutdown(function() print("shutdown handler ran") end)
            local services = {}
            for i = 1, count do
              services[("%s-%02d"):format(prefix, i)] = { image = "heph/busybox:latest",
                cmd = { "sh", "-c", "trap 'exit 0' TERM; echo ok > /ready; sleep 3600 & wait" },
                healthcheck = { test = { "cat", "/ready" }, interval = 1, retries = 2 } }
            end
            heph.up{ services = services, timeout = 60 }
            print("up")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func containers(_ prefix: String) async throws -> [String] {
        try await Docker.output("ps", "-a", "--filter", "name=heph-\(prefix)-", "--format", "{{.Names}}").split(separator: "\n").map(String.init)
    }

    @Test(.serialized, arguments: [SIGKILL, SIGINT])  // each case ends with heph down
    func interruptedMidUpARerunConvergesAndDownLeavesNothing(signal: Int32) async throws {
        let prefix = TestNames.unique("mid")
        let count = 20
        let script = try Self.upScript(count: count)
        defer {
            Docker.forceRemove((1...count).map { String(format: "heph-%@-%02d", prefix, $0) })
            try? FileManager.default.removeItem(atPath: script)
        }
        let run = try HephProcess.run([script, prefix, String(count)])
        #expect(await Fixtures.eventually(timeout: .seconds(30)) { ((try? await Self.containers(prefix)) ?? []).count >= 1 })
        run.signal(signal)
        let status = await run.status(timeout: .seconds(10))
        if signal == SIGINT {
            #expect(status == 130)
            #expect(run.stdout == "shutdown handler ran\n")  // promptly, with the handlers, before "up"
        } else {
            #expect(status != nil && status != 0)
        }
        let rerun = try await HephBinary.run(["run", script, prefix, String(count)])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.hasPrefix("up\n"))
        let healthy = try await Docker.output("ps", "--filter", "name=heph-\(prefix)-", "--filter", "health=healthy", "--format", "{{.Names}}")
        #expect(healthy.split(separator: "\n").count == count)
        let down = try await HephBinary.run(["down"])
        #expect(down.status == 0)
        #expect(try await Self.containers(prefix).isEmpty)
        #expect(try await Docker.managedContainers().isEmpty)
        #expect(try await Docker.managedNetworks().isEmpty)
    }
}
