import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph attach`: a prompt inside a running watcher (examples/attachable.lua, each test in a
/// project of its own), over the watcher's control socket.
@Suite(.usesEngine) struct AttachTests {
    static let script = HephBinary.repositoryRoot + "/examples/attachable.lua"

    /// Starts the example watcher in `project` (as `user`, when given); returns once
    /// `heph status` lists it.
    static func watcher(_ project: String, lead: Bool = false, launcher: [String] = [], heph: String = HephBinary.path) async throws -> HephProcess {
        let process = try HephProcess(["run"] + (lead ? ["--lead"] : []) + ["-p", project, script], launcher: launcher, heph: heph)
        #expect(await process.waitFor("attachable: watching project \(project)", timeout: .seconds(30)), "\(process.stderr)")
        let listed = await Fixtures.eventually(timeout: .seconds(60)) {  // an overloaded engine registers slowly
            (try? await HephBinary.run(["status", "-p", project]))?.stdout.contains(" \(process.pid) ") == true
        }
        #expect(listed, "heph status does not list the watcher: \(process.stderr)")
        return process
    }

    /// Ends the watcher with Ctrl-C, as an operator would, and checks it ended so.
    static func stop(_ watcher: HephProcess) async {
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
    }

    /// Every scenario of the REPL's but two that are not an attach session's: a hook's line
    /// at the prompt (hooks print in the watcher), and Ctrl-D running the shutdown handlers
    /// (it detaches).
    @Test(arguments: ["expressions", "multiline", "error_then_working", "interrupt_sleep", "history", "completion", "project_prompt"])
    func theREPLsOwnScenariosPassInAnAttachSession(_ scenario: String) async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try await Self.watcher(project)
        let result = try await ReplTests.scenario(scenario, scenario == "project_prompt" ? [project] : [], attachingTo: project)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("\(scenario): ok\n"))
        // Ctrl-D detached; the watcher goes on.
        #expect(watcher.isRunning)
        await Self.stop(watcher)
    }

    @Test func statementsRunInTheWatcherTheirOutputStaysInTheSessionAndATypedHookStays() async throws {
        let project = TestNames.project()
        let name = TestNames.unique("att")
        defer { Docker.removeProjects([project]) }
        let watcher = try await Self.watcher(project)
        let session = try await HephBinary.run(["attach", "-p", project], input: """
            heph.config.project
            print("printed in the session")
            typed = heph.on("created", function(ev) print("typed hook saw " .. ev.name) end) ~= nil
            typed
            coroutine.wrap(function() print("from a coroutine of the statement") end)()
            error("boom")
            """)
        #expect(session.status == 0, "\(session.stderr)")
        #expect(session.stdout == "\(project)\nprinted in the session\ntrue\nfrom a coroutine of the statement\n", "\(session.stdout)")
        #expect(session.stderr.hasPrefix("stdin:1: boom\n"), "\(session.stderr)")
        #expect(!watcher.stdout.contains("printed in the session"))
        // The hook typed in the session stays in the watcher, and prints there.
        let create = try await HephBinary.run(["run", "-p", project, "-", name], input: """
            heph.create_container{ image = "heph/busybox:latest", name = ..., cmd = { "true" } }
            """)
        #expect(create.status == 0, "\(create.stderr)")
        #expect(await watcher.waitFor("typed hook saw heph-\(name)"), "\(watcher.stdout)")
        // What the watcher's script keeps is there to read.
        let summary = try await HephBinary.run(["attach", "-p", project], input: "summary().per_status.created\n")
        #expect(summary.stdout == "1\n", "\(summary.stdout)\(summary.stderr)")
        await Self.stop(watcher)
    }

    @Test func aRunawayStatementIsStoppedByCtrlCOrTheTimeLimitAndADroppedSessionLeavesTheWatcherAsItWas() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try await Self.watcher(project)
        // The hook time limit stops a loop nobody interrupts.
        let limited = try await HephBinary.run(["attach", "-p", project], input: "heph.config.hook_timeout = 1\nwhile true do end\n'after the loop'\n")
        #expect(limited.stdout == "after the loop\n", "\(limited.stdout)\(limited.stderr)")
        #expect(limited.stderr.contains("ran Lua code for more than 1 s without waiting (heph.config.hook_timeout)"), "\(limited.stderr)")
        // Ctrl-C stops a wait, and the session goes on.
        let waiting = try HephProcess(["attach", "-p", project], input: "print('waiting') heph.sleep(60)\n'after the wait'\n", keepingInputOpen: true)
        #expect(await waiting.waitFor("waiting"))
        waiting.signal(SIGINT)
        #expect(await waiting.waitFor("after the wait"), "\(waiting.stdout)\(waiting.stderr)")
        #expect(waiting.stderr.contains("interrupted"))
        waiting.closeInput()
        #expect(await waiting.status() == 0)
        // A session killed mid-statement: its statement ends, the watcher answers the next one.
        let dropped = try HephProcess(["attach", "-p", project], input: "print('spinning') while true do end\n", keepingInputOpen: true)
        #expect(await dropped.waitFor("spinning"))
        dropped.signal(SIGKILL)
        _ = await dropped.status()
        let next = try await HephBinary.run(["attach", "-p", project], input: "counts ~= nil\n")
        #expect(next.stdout == "true\n", "\(next.stdout)\(next.stderr)")
        #expect(watcher.isRunning)
        #expect(!watcher.stderr.contains("heph: a "), "\(watcher.stderr)")  // no failed callback reported
        await Self.stop(watcher)
    }

    @Test func twoSessionsAtOnceEachWithItsOwnStatement() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try await Self.watcher(project)
        let first = try HephProcess(["attach", "-p", project], input: "print('first waits') heph.sleep(15) print('first done')\n")
        #expect(await first.waitFor("first waits"))
        let second = try await HephBinary.run(["attach", "-p", project], input: "40 + 2\n")
        #expect(second.stdout == "42\n", "\(second.stdout)\(second.stderr)")
        // The second answered while the first still waited.
        #expect(!first.stdout.contains("first done"))
        #expect(await first.status(timeout: .seconds(40)) == 0)
        #expect(first.stdout.hasSuffix("first done\n"))
        await Self.stop(watcher)
    }

    @Test func aKilledWatchersSocketIsRemovedByTheNextWatcherOfItsUser() async throws {
        let (project, other) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([project, other]) }
        let killed = try await Self.watcher(project)
        let instance = try #require(try await HephBinary.run(["status", "-p", project]).stdout
            .split(separator: "\n").dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init))
        let socket = "/tmp/heph-\(geteuid())/\(instance).sock"
        #expect(FileManager.default.fileExists(atPath: socket))
        killed.signal(SIGKILL)
        _ = await killed.status()
        // SIGKILL: nothing ran in it to remove its socket; the next watcher of its user does
        // (or another test's, started meanwhile).
        let next = try await Self.watcher(other)
        #expect(!FileManager.default.fileExists(atPath: socket))
        await Self.stop(next)
    }

    @Test func aLeaderOnAnotherHostIsNamedWithItsHostAndPid() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        // Another host, as the registry sees one: a UTS namespace with a host name of its own.
        let elsewhere = "heph-t-elsewhere"
        let leader = try await Self.watcher(project, lead: true, launcher: ["/usr/bin/unshare", "--uts", "/bin/sh", "-c", "hostname \(elsewhere) && exec \"$0\" \"$@\""])
        let result = try await HephBinary.run(["attach", "-p", project], input: "1\n")
        #expect(result.status == 69)
        #expect(result.stderr == "heph attach: the watcher of project \(project) (pid \(leader.pid) on \(elsewhere)) runs on another host: attach reaches only watchers on this one; run heph attach on \(elsewhere)\n", "\(result.stderr)")
        await Self.stop(leader)
    }

    @Test func aFrozenWatcherStallsNeitherTheNextWatcherNorAnAttachForLong() async throws {
        let (project, other) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([project, other]) }
        let frozen = try await Self.watcher(project)
        frozen.signal(SIGSTOP)
        // Its full backlog must not hold up the next watcher's sweep of stale sockets.
        let crowd = try (0..<20).map { _ in try HephProcess(["attach", "-p", project], input: "1\n") }
        let next = try await Self.watcher(other)
        #expect(next.isRunning)
        // An attach to it gives up on its greeting, and says why.
        for session in crowd { #expect(await session.status(timeout: .seconds(40)) != nil) }
        #expect(crowd[0].stderr.contains("cannot reach the watcher of project \(project)"), "\(crowd[0].stderr)")
        frozen.signal(SIGCONT)
        await Self.stop(frozen)
        await Self.stop(next)
    }

    @Test func noWatcherExits69NamingTheProject() async throws {
        let project = TestNames.project()
        let result = try await HephBinary.run(["attach", "-p", project], input: "1\n")
        #expect(result.status == 69)
        #expect(result.stderr == "heph attach: no watcher of project \(project) runs (heph status lists the watchers of every project)\n")
    }

    @Test func onlyTheWatchersUserOrRootMayAttach() async throws {
        let owner = try SystemUser.ensure("heph-t-watch", groups: ["docker"])
        let other = try SystemUser.ensure("heph-t-other", groups: ["docker"])
        let heph = try SystemUser.shareHeph()
        defer { SystemUser.unshare(heph) }
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try await Self.watcher(project, launcher: owner.launcher, heph: heph)
        // Another user in the docker group finds the watcher, but cannot open its socket.
        let refused = try await other.run(heph: heph, ["attach", "-p", project], input: "1\n")
        #expect(refused.status == 77, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("runs as user \(owner.name): only that user or root can attach"), "\(refused.stderr)")
        // Its own user, and root, can.
        let own = try await owner.run(heph: heph, ["attach", "-p", project], input: "heph.config.project\n")
        #expect(own.stdout == "\(project)\n", "\(own.stdout)\(own.stderr)")
        let root = try await HephBinary.run(["attach", "-p", project], input: "heph.config.project\n")
        #expect(root.stdout == "\(project)\n", "\(root.stdout)\(root.stderr)")
        // The socket's directory is the owner's alone.
        var status = stat()
        #expect(stat("/tmp/heph-\(owner.uid)", &status) == 0)
        #expect(status.st_mode & 0o777 == 0o700 && status.st_uid == owner.uid)
        await Self.stop(watcher)
    }
}
