import Foundation
import HephTestSupport
import Testing

/// Reloading a running watcher (`heph reload`, SIGHUP): Tests/Reload/versioned.lua copied
/// into a directory of the test's own, rewritten with another version and reloaded.
@Suite(.usesEngine) struct ReloadTests {
    /// A watcher of `project` running versioned.lua as `version`, from a copy in a
    /// directory of its own (with the marker plugin beside it); returns it and the copy.
    static func watcher(_ project: String, environment: [String: String] = [:]) async throws -> (HephProcess, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("reload")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fixtures = HephBinary.repositoryRoot + "/Tests/Reload/"
        try FileManager.default.copyItem(atPath: fixtures + "marker.lua", toPath: directory + "/marker.lua")
        let script = directory + "/versioned.lua"
        try write(version: "v1", to: script)
        let watcher = try HephProcess(["run", "-p", project, script], environment: environment)
        #expect(await watcher.waitFor("ready v1", timeout: .seconds(30)), "\(watcher.stderr)")
        let listed = await Fixtures.eventually(timeout: .seconds(60)) {  // an overloaded engine registers slowly
            (try? await HephBinary.run(["status", "-p", project]))?.stdout.contains(" \(watcher.pid) ") == true
        }
        #expect(listed, "heph status does not list the watcher: \(watcher.stderr)")
        return (watcher, script)
    }

    /// versioned.lua as `version`, with `extra` Lua at its end.
    static func write(version: String, to script: String, extra: String = "") throws {
        let fixture = try String(contentsOfFile: HephBinary.repositoryRoot + "/Tests/Reload/versioned.lua", encoding: .utf8)
        try (fixture.replacingOccurrences(of: "\"VERSION\"", with: "\"\(version)\"") + extra).write(toFile: script, atomically: true, encoding: .utf8)
    }

    static func cleanUp(_ script: String) {
        try? FileManager.default.removeItem(atPath: (script as NSString).deletingLastPathComponent)
    }

    static func containerID(_ project: String) async throws -> String {
        try await Docker.output("inspect", "-f", "{{.Id}}", "heph_\(project)_guarded").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aReloadTakesTheNewScriptAndATransitionDuringItReachesOnlyTheNewHooksOnce() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let (watcher, script) = try await Self.watcher(project, environment: ["HEPH_TEST_RELOAD_PAUSE": "3"])
        defer { Self.cleanUp(script) }
        let before = try await Self.containerID(project)
        try Self.write(version: "v2", to: script)
        let reload = try HephProcess(["reload", "-p", project])
        // The new main chunk waits 3 s; the old state still runs, its hooks get nothing.
        #expect(await watcher.waitFor("main v2"), "\(watcher.stderr)")
        try await Docker.output("kill", "heph_\(project)_guarded")
        #expect(await reload.status(timeout: .seconds(30)) == 0, "\(reload.stderr)")
        #expect(reload.stdout == "heph reload: the watcher of project \(project) (pid \(watcher.pid)) took \(script) (a new Lua state; containers and heph.state kept)\n")
        #expect(await watcher.waitFor("v2 exit heph-guarded expected=false by=nil"), "\(watcher.stdout)\n\(watcher.stderr)")
        #expect(await watcher.waitFor("heph restart: heph-guarded recovered", in: \.stderr), "\(watcher.stderr)")
        let out = watcher.stdout
        #expect(!out.contains("v1 exit"), "the old state's hook saw the kill: \(out)")
        #expect(out.components(separatedBy: "v2 exit").count == 2, "delivered once: \(out)")
        // The order §3 gives: the new main chunk, then the old plugins' stop, then the kept
        // transition to the new hooks. The old state's on_shutdown handlers never run.
        let order = ["setup v1", "ready v1", "setup v2", "main v2", "ready v2", "stop v1", "v2 exit"].map { out.range(of: $0)?.lowerBound }
        #expect(!order.contains(nil) && order.map { $0! } == order.map { $0! }.sorted(), "\(out)")
        #expect(!out.contains("shutdown v1"), "\(out)")
        #expect(watcher.stderr.contains("heph: reload: took \(script)"), "\(watcher.stderr)")
        // heph.up found the container unchanged, and the restart plugin's budget went on.
        #expect(try await Self.containerID(project) == before)
        #expect(watcher.stderr.contains("heph restart: heph-guarded is stopped (killed, exit code 137); restart 1 in"), "\(watcher.stderr)")
        let state = try await HephBinary.run(["status", "-p", project, "--json"])
        #expect(state.stdout.contains("\"version\""), "\(state.stdout)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
        #expect(watcher.stdout.contains("shutdown v2\nstop v2\n"), "\(watcher.stdout)")
    }

    @Test func aStopTheOldStateAskedForIsExpectedInTheNewOne() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let (watcher, script) = try await Self.watcher(project, environment: ["HEPH_TEST_RELOAD_PAUSE": "8"])
        defer { Self.cleanUp(script) }
        try Self.write(version: "v2", to: script)
        let reload = try HephProcess(["reload", "-p", project])
        #expect(await watcher.waitFor("main v2"), "\(watcher.stderr)")
        // A statement in the old state stops the container (a second: TERM is trapped); its
        // transitions arrive while the new main chunk still runs.
        let session = try await HephBinary.run(["attach", "-p", project], input: "heph.stop_container('guarded')\nprint('stopped')\n")
        #expect(session.stdout == "stopped\n", "\(session.stderr)")
        #expect(await reload.status(timeout: .seconds(30)) == 0, "\(reload.stderr)")
        #expect(await watcher.waitFor("v2 exit heph-guarded expected=true by=stop_container"), "\(watcher.stdout)\n\(watcher.stderr)")
        try await Task.sleep(for: .seconds(1))  // waiting is the behaviour under test: no restart follows
        #expect(!watcher.stderr.contains("restart 1 in"), "the new state took the old one's stop for a crash: \(watcher.stderr)")
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph_\(project)_guarded").trimmingCharacters(in: .whitespacesAndNewlines) == "exited")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
    }

    /// What is refused, and that the old script goes on each time (its hook sees a kill).
    @Test func aRefusedReloadSaysWhyAndTheOldScriptGoesOn() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let (watcher, script) = try await Self.watcher(project)
        defer { Self.cleanUp(script) }
        let refusals: [(String, String)] = [
            ("x = = 1\n", "versioned.lua:"),
            ("error('the new main chunk fails')\n", "the new main chunk fails\nstack traceback:"),
            ("heph.exit(3)\n", "the new script called heph.exit(3) in its main chunk"),
        ]
        for (extra, reason) in refusals {
            try Self.write(version: "bad", to: script, extra: extra)
            let reload = try await HephBinary.run(["reload", "-p", project])
            #expect(reload.status == 1, "\(extra): \(reload.stdout)\(reload.stderr)")
            #expect(reload.stderr.hasPrefix("heph reload: the watcher of project \(project) (pid \(watcher.pid)) refused the new script, and its running one goes on: "), "\(reload.stderr)")
            #expect(reload.stderr.contains(reason), "\(extra): \(reload.stderr)")
            #expect(watcher.stderr.contains("heph: reload refused, the running script goes on: "), "\(watcher.stderr)")
        }
        // A script that keeps nothing running would end the watcher.
        try "print('nothing registered')\n".write(toFile: script, atomically: true, encoding: .utf8)
        let idle = try await HephBinary.run(["reload", "-p", project])
        #expect(idle.status == 1 && idle.stderr.contains("the new script keeps nothing running (no hook, timer or poller): taking it would end the watcher"), "\(idle.stderr)")
        // Nothing of the refused states ran beside the old one.
        #expect(!watcher.stdout.contains("shutdown bad") && !watcher.stdout.contains("stop bad"), "\(watcher.stdout)")
        try await Docker.output("kill", "heph_\(project)_guarded")
        #expect(await watcher.waitFor("v1 exit heph-guarded expected=false"), "\(watcher.stdout)\n\(watcher.stderr)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
        #expect(watcher.stdout.contains("shutdown v1\nstop v1\n"), "\(watcher.stdout)")
    }

    @Test func sighupReloadsInsteadOfEndingAndAScriptFromStandardInputCannotBeReloaded() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let (watcher, script) = try await Self.watcher(project)
        defer { Self.cleanUp(script) }
        try Self.write(version: "v2", to: script)
        watcher.signal(SIGHUP)
        #expect(await watcher.waitFor("heph: reload: took \(script)", in: \.stderr), "\(watcher.stderr)")
        #expect(await watcher.waitFor("ready v2"))
        #expect(watcher.isRunning)
        watcher.signal(SIGTERM)
        #expect(await watcher.status() == 143, "\(watcher.stderr)")

        let piped = try HephProcess(["run", "-p", project, "-"], input: "heph.every(3600, function() end)\nprint('piped', #heph.list_containers())\n", keepingInputOpen: false)
        #expect(await piped.waitFor("piped"), "\(piped.stderr)")
        piped.signal(SIGHUP)
        #expect(await piped.waitFor("heph: reload refused, the running script goes on: the script was read from standard input: there is nothing to read again", in: \.stderr), "\(piped.stderr)")
        #expect(piped.isRunning)
        piped.signal(SIGINT)
        #expect(await piped.status() == 130, "\(piped.stderr)")
    }

    /// SIGTERM while the old plugins' stops run: the hand-over finishes, then the new state
    /// shuts down with its handlers (the old one's never run).
    @Test func aSignalDuringTheHandOverEndsTheNewStateWithItsHandlers() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let (watcher, script) = try await Self.watcher(project, environment: ["HEPH_TEST_STOP_PAUSE": "2"])
        defer { Self.cleanUp(script) }
        try Self.write(version: "v2", to: script)
        let reload = try HephProcess(["reload", "-p", project])
        #expect(await watcher.waitFor("stop v1"), "\(watcher.stderr)")
        watcher.signal(SIGTERM)
        #expect(await reload.status(timeout: .seconds(30)) == 0, "\(reload.stderr)")
        #expect(await watcher.status(timeout: .seconds(30)) == 143, "\(watcher.stderr)")
        #expect(watcher.stdout.contains("shutdown v2\nstop v2\n"), "\(watcher.stdout)")
        #expect(!watcher.stdout.contains("shutdown v1"), "\(watcher.stdout)")
    }

    @Test func noWatcherOfTheProjectExits69() async throws {
        let project = TestNames.project()
        let result = try await HephBinary.run(["reload", "-p", project])
        #expect(result.status == 69)
        #expect(result.stderr == "heph reload: no watcher of project \(project) runs (heph status lists the watchers of every project)\n")
    }
}
