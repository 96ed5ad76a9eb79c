import Foundation
import HephTestSupport
import Testing

/// The container image `scripts/image` builds (scripts/test builds it before the suite),
/// run as autoheal is run (docs/operations.md, "In a container"): with the engine's socket
/// and a script directory mounted, `--restart always`, `run --lead`.
@Suite(.usesEngine) struct ImageTests {
    static let image = "heph/heph:latest"

    @Test func theImageRunsHephWithNothingButWhatItLinksAndSaysWhatItIs() async throws {
        let version = try await Docker.output("run", "--rm", Self.image, "--version")
        let host = try await HephBinary.run(["--version"])
        #expect(version == host.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let labels = try await Docker.output("image", "inspect", "--format", #"{{index .Config.Labels "org.opencontainers.image.title"}} {{index .Config.Labels "org.opencontainers.image.version"}}"#, Self.image)
        #expect(labels == "heph \(version)")
        // Nothing of Swift's in it: the binary carries the runtime; the libraries it links
        // dynamically are there and nothing else's.
        let made = TestNames.unique("heph-image-files")
        defer { Docker.forceRemove([made]) }
        try await Docker.output("create", "--name", made, Self.image)
        let listing = try await Command.run("/bin/sh", ["-c", "docker export \(made) | tar -t"])
        let files = listing.stdout.split(separator: "\n").map(String.init)
        #expect(files.contains("usr/local/bin/heph"), "\(files)")
        // scripts/install's completions and man pages, made from the command definitions.
        for path in ["usr/local/share/bash-completion/completions/heph", "usr/local/share/zsh/site-functions/_heph",
                     "usr/local/share/fish/vendor_completions.d/heph.fish", "usr/local/share/man/man1/heph.1", "usr/local/share/man/man1/heph.run.1"] {
            #expect(files.contains(path), "\(path) is missing")
        }
        #expect(files.contains { $0.hasSuffix("liblua5.4.so.0") } && files.contains { $0.hasSuffix("libedit.so.2") }, "\(files)")
        #expect(!files.contains { $0.contains("swift") || $0.contains("Foundation") }, "\(files)")
    }

    @Test func runAsAutohealItHealsLeadsAgainAfterAKillAndCanBeAttachedTo() async throws {
        let project = TestNames.project()
        let name = TestNames.unique("heph-image")
        defer {
            Docker.forceRemove([name])
            Docker.removeProjects([project])
        }
        let scripts = HephBinary.repositoryRoot + "/examples"
        try await Docker.output("run", "-d", "--name", name, "--restart", "always",
                                "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "\(scripts):/scripts:ro",
                                "-e", "HEPH_PROJECT=\(project)", Self.image, "run", "--lead", "/scripts/autoheal.lua")
        let service = "heph_\(project)_svc"
        let script = try Self.script("""
            heph.up{ services = { svc = {
              image = "heph/busybox:latest",
              cmd = { "sh", "-c", "trap 'exit 0' TERM; echo ok > /tmp/ok; sleep 3600 & wait" },
              healthcheck = { test = "cat /tmp/ok", interval = 1, retries = 1 },
            } } }
            """)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let up = try await HephBinary.run(["run", "-p", project, script])
        #expect(up.status == 0, "\(up.stderr)")
        try await Self.expectLogs(name, contain: "healing containers", count: 1)

        // Unhealthy: the watcher in the container stops and starts it (a new /tmp/ok).
        try await Self.healed(service, watcher: name, times: 1)

        // heph status sees it from the host; attach reaches it with docker exec.
        let status = try await HephBinary.run(["status", "-p", project])
        let shortID = String(try await Docker.output("inspect", "--format", "{{.Id}}", name).prefix(12))
        let row = status.stdout.split(separator: "\n").first { $0.contains(shortID) }.map { $0.split(separator: " ").map(String.init) } ?? []
        #expect(row.count >= 6 && row[3] == "1" && row[5] == "yes", "pid 1, leading: \(status.stdout)\n\(status.stderr)")
        let fromHost = try await HephBinary.run(["attach", "-p", project])
        #expect(fromHost.status == 69 && fromHost.stderr.contains("docker exec -it \(name) heph attach -p \(project)"), "\(fromHost.stderr)")
        let attached = try await Command.run("/usr/bin/env", ["docker", "exec", "-i", name, "heph", "attach", "-p", project], input: "print(6 * 7)\n")
        #expect(attached.status == 0 && attached.stdout.contains("42"), "\(attached.stdout)\n\(attached.stderr)")

        // kill -9 of heph's process: the engine restarts the container, and it leads again.
        let pid = try #require(Int32(try await Docker.output("inspect", "--format", "{{.State.Pid}}", name)))
        #expect(kill(pid, SIGKILL) == 0)
        let restarted = await Fixtures.eventually(timeout: .seconds(60)) {
            (try? await Docker.output("inspect", "--format", "{{.RestartCount}} {{.State.Running}}", name)) == "1 true"
        }
        #expect(restarted, "the engine did not restart the container")
        try await Self.expectLogs(name, contain: "healing containers", count: 2)
        try await Self.healed(service, watcher: name, times: 2)
    }

    /// Makes `service` unhealthy, and waits for the watcher's `times`-th heal of it.
    static func healed(_ service: String, watcher: String, times: Int) async throws {
        try await Docker.output("exec", service, "rm", "/tmp/ok")
        try await expectLogs(watcher, contain: "heph-svc restarted", count: times, timeout: .seconds(60))
        let healthy = await Fixtures.eventually(timeout: .seconds(30)) {
            (try? await Docker.output("inspect", "--format", "{{.State.Health.Status}}", service)) == "healthy"
        }
        #expect(healthy)
    }

    static func logs(_ container: String) async -> String {
        let result = try? await Docker.run("logs", container)
        return (result?.stdout ?? "") + (result?.stderr ?? "")
    }

    /// Waits until `container`'s output has `text` `count` times.
    static func expectLogs(_ container: String, contain text: String, count: Int, timeout: Duration = .seconds(30)) async throws {
        let found = await Fixtures.eventually(timeout: timeout) { await logs(container).components(separatedBy: text).count - 1 >= count }
        let output = await logs(container)
        #expect(found, "\(count) × \"\(text)\" in\n\(output)")
    }

    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("image")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
