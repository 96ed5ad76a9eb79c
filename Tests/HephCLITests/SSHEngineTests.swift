import Foundation
import HephTestSupport
import Testing

/// `DOCKER_HOST=ssh://…`: heph reaches the engine through `ssh … docker system dial-stdio`,
/// here against an sshd of the test's own on loopback (the "remote" engine is the shared one).
@Suite(.usesEngine) struct SSHEngineTests {
    @Test func aScriptRunsOverSSHWithRequestsTheEventStreamAndExec() async throws {
        let server = try await LoopbackSSHServer()
        defer { server.stop() }
        let name = TestNames.unique("ssh")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).lua")
        defer { try? FileManager.default.removeItem(at: script) }
        try """
            heph.on("exit", "\(name)", function(ev)
              print("exit " .. ev.exit_code)
              heph.exit(0)
            end)
            heph.create_container{ image = "heph/busybox:latest", name = "\(name)", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } }
            heph.start_container("\(name)")
            local code, out = heph.exec("\(name)", { "echo", "over ssh" })
            io.write(code, " ", out)
            heph.kill_container("\(name)")
            """.write(to: script, atomically: true, encoding: .utf8)
        let loginsBefore = server.acceptedLogins
        let result = try await HephBinary.run(["run", script.path], environment: try server.environment())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0 over ssh\nexit 137\n")
        // heph went through sshd (a login per connection it opened) …
        #expect(server.acceptedLogins > loginsBefore)
        // … to the engine behind it.
        #expect(try await Docker.output("inspect", "-f", "{{.State.ExitCode}}", "heph-\(name)") == "137")
    }

    @Test func aKeyTheServerRefusesSaysWhatSSHSaid() async throws {
        let server = try await LoopbackSSHServer()
        defer { server.stop() }
        let result = try await HephBinary.run(["ps"], environment: try server.environment(config: "stranger_config"))
        #expect(result.status == 69)
        #expect(result.stderr.hasPrefix("heph: cannot reach the Docker engine at ssh://root@127.0.0.1:\(server.port): ssh said: "), "\(result.stderr)")
        #expect(result.stderr.contains("Permission denied"), "\(result.stderr)")
    }
}
