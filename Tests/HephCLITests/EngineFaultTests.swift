import Foundation
import HephTestSupport
import Testing

/// Faults of the engine itself, on a private dockerd that the test kills and starts again
/// (the engine the other tests share is never touched).
@Suite(.usesEngine) struct EngineFaultTests {
    @Test func aWatchOutlivesTheEngineBeingKilledAndReactsToWhatChangedWhenItReturns() async throws {
        let prefix = TestNames.unique("engine")
        let (a, b) = ("heph-\(prefix)-a", "heph-\(prefix)-b")
        try await PrivateEngine.with { engine in
            let run = try HephProcess.run([HephBinary.repositoryRoot + "/Tests/Fixtures/engine-restart.lua", prefix], environment: ["DOCKER_HOST": engine.host])
            #expect(await run.waitFor("watching", timeout: .seconds(60)), "\(run.stderr)")
            #expect(await run.waitFor("poll \(a)=running \(b)=running"))

            engine.kill()
            // heph keeps running and reports every container as `error` while the engine is away.
            #expect(await run.waitFor("poll \(a)=error \(b)=error"))
            // Said once; while the engine is away the watcher's polls are reconnection attempts.
            #expect(await run.waitFor("lost the engine's event stream", in: \.stderr))
            #expect(!run.stderr.contains("cannot poll the engine"), "\(run.stderr)")
            // sleeping is the behaviour under test: the engine stays away a while (a second of
            // failed polls and reconnection attempts), and heph outlives it calling no hook.
            try await Task.sleep(for: .seconds(1))
            #expect(run.isRunning)
            let beforeReturn = run.stdout
            let hooksDuringOutage = Self.lines(beforeReturn, after: "poll \(a)=error").filter { $0.hasPrefix("hook") || $0.hasPrefix("exit") }
            #expect(hooksDuringOutage.isEmpty)

            // Restarting, the engine stops the containers it finds running: the hooks must
            // hear of that once it answers again, and `restart` brings both back.
            try await engine.start()
            #expect(await run.waitFor("exit \(a) 0", timeout: .seconds(30)), "\(run.stdout)\n\(run.stderr)")
            #expect(await run.waitFor("exit \(b) 0"))
            let running = await Fixtures.eventually(timeout: .seconds(30)) {
                (try? await engine.docker("ps", "--filter", "status=running", "--format", "{{.Names}}").stdout.split(separator: "\n").sorted()) == [Substring(a), Substring(b)]
            }
            #expect(running)
            #expect(await run.waitFor("poll \(a)=running \(b)=running", after: beforeReturn.count))
            let afterReturn = Self.lines(run.stdout, after: "poll \(a)=error")
            for name in [a, b] {
                #expect(afterReturn.contains("hook \(name) running stopped unexpected"), "\(afterReturn)")
                #expect(afterReturn.contains("hook \(name) stopped running unexpected"), "\(afterReturn)")
            }
            #expect(run.stderr.contains("lost the engine's event stream"))
            #expect(run.stderr.contains("the engine's event stream is back"))

            run.signal(SIGTERM)
            #expect(await run.status() == 143)
            let down = try await HephBinary.run(["down"], environment: ["DOCKER_HOST": engine.host])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try await engine.containerNames().isEmpty)
            #expect(try await engine.docker("network", "ls", "-q", "--filter", "label=io.heph.managed=true").stdout.isEmpty)
        }
        // The private engine left the shared one's bridge alone.
        #expect(FileManager.default.fileExists(atPath: "/sys/class/net/docker0"))
    }

    /// The lines of `text` after the first line that starts with `marker`.
    static func lines(_ text: String, after marker: String) -> [String] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix(marker) }) else { return [] }
        return Array(lines[(start + 1)...])
    }
}

extension EngineFaultTests {
    @Test func changesFromOutsideDuringUpAndDuringAWatchReachTheHooksAndUpSaysWhatHappened() async throws {
        let prefix = TestNames.unique("outside")
        let name = { (phase: String, fate: String) in "heph-\(prefix)-\(phase)-\(fate)" }
        try await PrivateEngine.with { engine in
            let run = try HephProcess.run([HephBinary.repositoryRoot + "/Tests/Fixtures/outside-changes.lua", prefix], environment: ["DOCKER_HOST": engine.host])
            #expect(await run.waitFor("up", timeout: .seconds(60)), "\(run.stderr)")
            // Strike while heph.up waits for the slow services (healthy only after 6 s).
            let allRunning = await Fixtures.eventually(timeout: .seconds(30)) {
                let running = (try? await engine.docker("ps", "--filter", "status=running", "--format", "{{.Names}}").stdout) ?? ""
                return running.split(separator: "\n").count == 6
            }
            #expect(allRunning)
            #expect(!run.stdout.contains("up returned"))
            let struck = ContinuousClock.now
            try await engine.docker("kill", name("up", "killed"))
            try await engine.docker("pause", name("up", "paused"))
            try await engine.docker("rm", "-f", name("up", "removed"))

            #expect(await run.waitFor("up returned false", timeout: .seconds(30)), "\(run.stdout)\n\(run.stderr)")
            #expect(ContinuousClock.now - struck < .seconds(15))  // at once, not at the 60 s timeout
            let errors = run.stdout.split(separator: "\n").filter { $0.hasPrefix("error ") }.map(String.init)
            #expect(errors.first == "error heph.up: 3 of 6 services are not ready:")
            #expect(errors.contains { $0.contains("\(prefix)-up-killed: \(name("up", "killed")) exited with code 137 before it was ready") }, "\(errors)")
            #expect(errors.contains { $0.contains("\(prefix)-up-paused: \(name("up", "paused")) was paused from outside before it was ready") }, "\(errors)")
            #expect(errors.contains { $0.contains("\(prefix)-up-removed: \(name("up", "removed")) was removed from outside before it was ready") }, "\(errors)")
            #expect(!errors.contains { $0.contains("-watch-") && !$0.hasPrefix("error heph.up left: ") })

            // Then the same to the services that came up, while the script watches.
            #expect(await run.waitFor("watching"))
            try await engine.docker("kill", name("watch", "killed"))
            try await engine.docker("pause", name("watch", "paused"))
            try await engine.docker("rm", "-f", name("watch", "removed"))
            // Unpaused once heph has seen the pause.
            _ = await run.waitFor("hook \(name("watch", "paused")) running error unexpected", timeout: .seconds(15))
            try await engine.docker("unpause", name("watch", "paused"))

            // Every change reached the hooks, once, and none was taken for heph's own doing.
            let expected = ["up", "watch"].flatMap { phase in [
                "exit \(name(phase, "killed")) 137",
                "hook \(name(phase, "killed")) running stopped unexpected",
                "hook \(name(phase, "paused")) running error unexpected",
                "exit \(name(phase, "removed")) 137",  // `docker rm -f` kills first
                "hook \(name(phase, "removed")) running stopped unexpected",
                "hook \(name(phase, "removed")) stopped removed unexpected",
            ] } + ["hook \(name("watch", "paused")) error running unexpected"]
            let heard = await Fixtures.eventually(timeout: .seconds(15)) {
                let lines = Set(run.stdout.split(separator: "\n").map(String.init))
                return expected.allSatisfy(lines.contains)
            }
            #expect(heard, "\(run.stdout)")
            let hookLines = run.stdout.split(separator: "\n").filter { $0.hasPrefix("hook ") || $0.hasPrefix("exit ") }
            for line in expected { #expect(hookLines.filter { $0 == line }.count == 1, "\(line)") }
            #expect(!hookLines.contains { $0.hasSuffix(" expected") })

            run.signal(SIGTERM)
            #expect(await run.status() == 143)
            // heph down removes the paused and the stopped containers too.
            let down = try await HephBinary.run(["down"], environment: ["DOCKER_HOST": engine.host])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try await engine.containerNames().isEmpty)
        }
    }
}
