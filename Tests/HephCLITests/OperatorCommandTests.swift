import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph check`, `heph logs`, `heph version` and the completion scripts, on the built binary.
@Suite(.usesEngine) struct OperatorCommandTests {
    /// An engine address nothing answers on: a command that works with it never called the engine.
    static let noEngine = ["DOCKER_HOST": "unix:///nonexistent/heph-check.sock"]

    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("check")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkRunsAValidScriptWithoutTheEngineAndSaysWhatItWouldCreate() async throws {
        let (db, web) = (TestNames.unique("chk-db"), TestNames.unique("chk-web"))
        let path = try Self.script("""
            local db, web = ...
            local stack = heph.up{ services = {
              [db] = { image = "heph/busybox:latest", cmd = { "true" }, healthcheck = { test = "true", interval = 1 } },
              [web] = { image = "heph/busybox:latest", ports = { [8080] = 80 }, volumes = { ["heph-pages"] = "/www" }, depends_on = { db } },
            } }
            print(stack[web].status, heph.health_check(db))
            heph.on("unhealthy", function() end)   -- registered, never fired: the check ends here
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["check", path, db, web], environment: Self.noEngine)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "running\thealthy")
        #expect(lines.contains("it would create 1 network: heph-network"))
        #expect(lines.contains("and 2 containers:"))
        let rows = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains(["heph-\(db)", "heph/busybox:latest", "yes"]))
        #expect(rows.contains(["heph-\(web)", "heph/busybox:latest", "8080→80", "heph-pages→/www"]))
        #expect(try await Docker.output("ps", "-a", "--filter", "name=\(db)", "--filter", "name=\(web)", "--format", "{{.Names}}").isEmpty)
    }

    @Test func checkNamesTheFieldAtFaultAndCreatesNothing() async throws {
        let name = TestNames.unique("chk-bad")
        let path = try Self.script("""
            heph.create_container{ image = "heph/busybox:latest", name = "\(name)-ok" }
            heph.create_container{ image = "heph/busybox:latest", name = "\(name)", ports = { ["80"] = "http" } }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["check", path], environment: Self.noEngine)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(path):2: bad argument #1 to 'create_container' (config.ports:"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try await Docker.output("ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}").isEmpty)
        let syntax = try await HephBinary.run(["check", "-"], environment: Self.noEngine, input: "heph.up{")
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("unexpected symbol near <eof>") || syntax.stderr.contains("expected near <eof>"), "\(syntax.stderr)")
    }

    @Test func logsKeepsTheStreamsApartAndFollowsUntilTheContainerStops() async throws {
        let name = TestNames.unique("cli-logs")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: [
                "sh", "-c", "echo first; echo problem >&2; sleep 2; echo later; echo done",
            ]))
            try await orchestrator.startContainer(name)
        }
        let follow = try await HephBinary.run(["logs", "--follow", name])
        #expect(follow.status == 0)
        #expect(follow.stdout == "first\nlater\ndone\n")
        #expect(follow.stderr == "problem\n")
        let tail = try await HephBinary.run(["logs", "heph-\(name)", "--tail", "1"])
        #expect(tail.stdout + tail.stderr == "done\n")
        let missing = try await HephBinary.run(["logs", "\(name)-missing"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "heph: no such container: heph-\(name)-missing\n")
    }

    @Test func versionSaysWhatRunsAndCompletionScriptsKnowTheCommands() async throws {
        let version = try await HephBinary.run(["version"])
        #expect(version.status == 0)
        let lines = version.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "heph \(hephVersion)")
        #expect(lines.dropFirst().first?.hasPrefix("Lua 5.4.") == true)
        #expect(lines.last?.hasPrefix("Docker engine ") == true && lines.last?.contains("API 1.") == true)
        let offline = try await HephBinary.run(["version"], environment: Self.noEngine)
        #expect(offline.status == 0)
        #expect(offline.stdout.contains("Docker engine: cannot reach the Docker engine at unix:///nonexistent/heph-check.sock"))
        for shell in ["bash", "zsh", "fish"] {
            let script = try await HephBinary.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            for command in ["repl", "check", "logs", "plugins"] { #expect(script.stdout.contains(command), "\(shell) lacks \(command)") }
        }
    }

    @Test func runSandboxedRefusesWhatAScriptYouDidNotWriteShouldNotDo() async throws {
        let path = try Self.script("os.execute('touch /tmp/heph-sandbox-escaped')")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sandboxed = try await HephBinary.run(["run", "--sandbox", path], environment: Self.noEngine)
        #expect(sandboxed.status == 1)
        #expect(sandboxed.stderr.hasPrefix("\(path):1: attempt to call a nil value (field 'execute')"), "\(sandboxed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/heph-sandbox-escaped"))
        let stray = try await HephBinary.run(["run", "--allow-mount", "/srv", path])
        #expect(stray.status == 64)
        #expect(stray.stderr.contains("--allow-mount only means something with --sandbox"))
        let relative = try await HephBinary.run(["run", "--sandbox", "--allow-mount", "data", path])
        #expect(relative.status == 64)
        #expect(relative.stderr.contains("--allow-mount data: give an absolute path"))
    }

    @Test func anUnencryptedTCPEngineIsWarnedAbout() async throws {
        let port = Fixtures.freePort()
        let result = try await HephBinary.run(["ps", "--host", "tcp://127.0.0.1:\(port)"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("tcp://127.0.0.1:\(port) is not encrypted: anyone who can reach it can control that engine; use TLS"))
        #expect(result.stderr.contains("heph: cannot reach the Docker engine at tcp://127.0.0.1:\(port): connection refused"))
    }
}
