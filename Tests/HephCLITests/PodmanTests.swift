import Foundation
import HephTestSupport
import Testing

/// heph against Podman's Docker-compatible API service (docs/engines.md), which
/// `scripts/bootstrap --podman` starts at ``Podman/host``: the Lua contract's calls,
/// heph.up with a healthcheck and a readiness probe, hooks from the event stream and from
/// the healthchecks heph runs itself (Podman without systemd runs none), heph down leaving
/// nothing; and a leader on Podman handing over when killed, its state kept.
@Suite(.serialized) struct PodmanTests {
    static let environment = ["DOCKER_HOST": Podman.host]

    @Test func theContractHephUpHooksAndHephDownWorkOnPodman() async throws {
        let project = TestNames.project()
        defer { Podman.removeProjects([project]) }
        let script = HephBinary.repositoryRoot + "/Tests/Fixtures/podman-contract.lua"
        let run = try await HephBinary.run(["run", "-p", project, script], environment: Self.environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = Set(run.stdout.split(separator: "\n").map(String.init))
        for line in [
            "network string",
            "up healthy running",
            "list heph-db healthy",
            "list heph-web running",
            "inspect heph-db healthy running",
            "exec 0 hello from podman",
            "logs string",
            "hook exit heph-crash 3 false",
            "hook stopped heph-web true",
            "hook unhealthy heph-db healthy false",
            "hook healthy heph-db unhealthy",
        ] {
            #expect(lines.contains(line), "missing \"\(line)\" in\n\(run.stdout)\n\(run.stderr)")
        }

        let listed = try await HephBinary.run(["ps", "-p", project], environment: Self.environment)
        #expect(listed.status == 0 && listed.stdout.contains("heph_\(project)_db") && listed.stdout.contains(" healthy "), "\(listed.stdout)\n\(listed.stderr)")
        // Podman ignores a volume's labels at create: heph made it first, labelled.
        #expect(try await !Podman.run("volume", "ls", "-q", "--filter", "label=io.heph.project=\(project)").stdout.isEmpty)
        let down = try await HephBinary.run(["down", "--volumes", "-p", project], environment: Self.environment)
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try await Podman.run("volume", "ls", "-q", "--filter", "label=io.heph.project=\(project)").stdout.isEmpty)
        #expect(try await Podman.run("ps", "-aq", "--filter", "label=io.heph.project=\(project)").stdout.isEmpty)
        #expect(try await Podman.run("network", "ls", "-q", "--filter", "label=io.heph.project=\(project)").stdout.isEmpty)
    }

    @Test func aLeaderOnPodmanIsFollowedByAStandbyThatKeepsItsState() async throws {
        let project = TestNames.project()
        defer { Podman.removeProjects([project]) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("podman-lead")).lua").path
        try """
            local me = arg[1]
            local before = heph.state.get("leaders") or ""
            heph.state.set("leaders", before .. me)
            print("lead " .. me .. " after " .. (before == "" and "none" or before))
            heph.every(1, function() end)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try HephProcess(["run", "--lead", "-p", project, path, "A"], environment: Self.environment)
        defer { a.signal(SIGKILL) }
        #expect(await a.waitFor("lead A after none", timeout: .seconds(60)), "\(a.stdout)\n\(a.stderr)")
        let b = try HephProcess(["run", "--lead", "-p", project, path, "B"], environment: Self.environment)
        defer { b.signal(SIGKILL) }
        #expect(await b.waitFor("standing by", in: \.stderr, timeout: .seconds(60)), "\(b.stderr)")
        // A standby's registry entry may show a moment after it stands by (docs/ha.md).
        let listed = await Fixtures.eventually(timeout: .seconds(20)) {
            let status = try? await HephBinary.run(["status", "-p", project], environment: Self.environment)
            return status.map { $0.stdout.contains("\(a.pid)") && $0.stdout.contains("\(b.pid)") } ?? false
        }
        #expect(listed, "heph status on Podman never listed both watchers")

        let killed = ContinuousClock.now
        a.signal(SIGKILL)
        #expect(await b.waitFor("lead B after A", timeout: .seconds(30)), "\(b.stdout)\n\(b.stderr)")
        // The lease ends with its holder's connection, not after its 3 s expiry.
        #expect(ContinuousClock.now - killed < .seconds(10))
    }
}
