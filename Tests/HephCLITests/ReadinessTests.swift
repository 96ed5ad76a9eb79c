import Foundation
import HephTestSupport
import Testing

/// Readiness probed by heph (operations.md §5; scripts in Tests/Readiness): every kind on
/// the real engine, a probe that never passes, an engine whose container addresses heph
/// cannot reach (a probe container then, and never a false "ready"), `heph check`'s
/// messages, and the simulated engine's answers.
@Suite(.usesEngine) struct ReadinessTests {
    static let directory = HephBinary.repositoryRoot + "/Tests/Readiness"

    @Test func everyKindMakesHephUpWaitUntilTheServiceServesAndWaitReadyAnswers() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let result = try await HephBinary.run(["run", "-p", project, "kinds.lua"], directory: Self.directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        // Each serves one second after its start: heph.up returned after that, not at once
        // and not a healthcheck interval later.
        let up = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("UP ") }.flatMap { Double($0.dropFirst(3)) }, "\(result.stdout)")
        #expect(up >= 1.0 && up < 15, "\(result.stdout)")
        #expect(result.stdout.contains("SERVES\ttrue\ttrue\ttrue\ttrue\n"), "\(result.stdout)")
        #expect(result.stdout.contains("WAIT\ttrue\n"), "\(result.stdout)")
        #expect(result.stdout.contains("PLAIN\ttrue\n"), "\(result.stdout)")
        #expect(result.stdout.contains("NEVER\tnil\ttcp port 81: connection refused\n"), "\(result.stdout)")
        #expect(result.stdout.contains(#/STOPS\tnil\tstopped \(tcp port 80\)/#), "\(result.stdout)")
    }

    @Test func aProbeThatNeverPassesFailsHephUpAndSaysWhichProbeAndWhatItAnswered() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let result = try await HephBinary.run(["run", "-p", project, "never.lua", "2"], directory: Self.directory)
        #expect(result.status != 0)
        #expect(!result.stdout.contains("UP"))
        #expect(result.stderr.contains("web: not ready after 2 s: running; ready probe (tcp port 81): connection refused"), "\(result.stderr)")
    }

    /// A private engine in a network namespace of its own: its containers' addresses lead
    /// nowhere from here (on this machine, a connection to an address with no route may
    /// even be accepted by a proxy: a probe from here would say "ready" falsely).
    @Test func whereHephCannotReachTheAddressAProbeContainerProbesAndNeverSaysReadyFalsely() async throws {
        try await PrivateEngine.with { engine in
            let environment = ["DOCKER_HOST": engine.host, "HEPH_SYSTEM_IMAGE": Fixtures.image]
            let served = try await HephBinary.run(["run", "private.lua", "80"], environment: environment, directory: Self.directory)
            #expect(served.status == 0, "\(served.stderr)")
            #expect(served.stdout.contains("UP\n"), "\(served.stdout)\n\(served.stderr)")
            #expect(served.stdout.contains("PROBES heph-.probe."), "\(served.stdout)")
            let never = try await HephBinary.run(["run", "private.lua", "81", "3"], environment: environment, directory: Self.directory)
            #expect(never.stdout.contains("FAILED") && never.stdout.contains("ready probe (tcp port 81): connection refused"), "\(never.stdout)\n\(never.stderr)")
            // The probe container goes with the process that made it.
            let left = await Fixtures.eventually(timeout: .seconds(10)) {
                ((try? await Command.run("/usr/bin/env", ["docker", "ps", "-aq", "--filter", "label=io.heph.role=probe"], environment: ["DOCKER_HOST": engine.host]))?.stdout ?? "x").isEmpty
            }
            #expect(left, "a probe container outlived heph")
        }
    }

    @Test(arguments: [
        ("ready = { tcp = 0 }", "ready.tcp: 0 is not a port; use the container's port, 1 to 65535"),
        ("ready = { tcp = 80, log = \"x\" }", "ready: tcp and log are both given; a probe has one kind"),
        ("ready = { }", "ready: give one kind of probe: tcp = PORT"),
        ("ready = { http = \"/health\" }", "ready.port: missing; the container port to send GET /health to"),
        ("ready = { http = \"health\", port = 80 }", "ready.http: \"health\" is not a path; start it with \"/\""),
        ("ready = { http = \"/\", port = 80, status = 42 }", "ready.status: 42 is not an HTTP status"),
        ("ready = { tcp = 80, port = 80 }", "ready.port: only for an http probe; a tcp probe names its port as tcp = PORT"),
        ("ready = { log = \"[ready\" }", "ready.log: \"[ready\" is not a Lua pattern: malformed pattern (missing ']')"),
        ("ready = { tcp = 80, interval = 0 }", "ready.interval: 0 is out of range; use seconds from 0.01 to 3600"),
        ("ready = { exec = \"\" }", "ready.exec: is empty; give a shell command or an array"),
        ("ready = { tpc = 80 }", "ready.tpc: unknown field; did you mean tcp?"),
    ])
    func checkNamesTheFieldAndTheFix(field: String, message: String) async throws {
        let path = NSTemporaryDirectory() + "heph-ready-check-\(UUID().uuidString.prefix(8)).lua"
        try "heph.up{ services = { web = { image = \"heph/busybox:latest\", \(field) } } }\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["check", path], environment: ["DOCKER_HOST": "unix:///nonexistent/heph-check.sock"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func theSimulatedEngineAnswersProbesAsSimSetReadySays() async throws {
        let result = try await HephBinary.run(["test", "ready_test.lua"], directory: Self.directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasSuffix("4 passed, 0 failed\n"), "\(result.stdout)")
    }
}
