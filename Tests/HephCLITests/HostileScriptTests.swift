import Foundation
import HephTestSupport
import Testing

/// Scripts that misbehave on purpose, run as a user runs them: each ends in a clear error
/// or keeps the loop going, and never takes the host down.
@Suite struct HostileScriptTests {
    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("hostile")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        ("error({ code = 7 })", ":1: (error object is a table value)"),
        ("error()", ":1: (error object is a nil value)"),
        ("error(setmetatable({}, { __tostring = function() return 'custom' end }))", ":1: custom"),
        ("local function f() return 1 + f() end\nf()", ":1: stack overflow"),
        ("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e6) end", ":1: not enough memory"),
    ])
    func aHostileMainChunkEndsWithAClearError(code: String, message: String) async throws {
        let path = try Self.script(code)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["run", "--memory-limit", "256", path])
        #expect(result.status == 1, "\(result.stderr.prefix(500))")
        #expect(result.stderr.hasPrefix(path + message), "\(result.stderr.prefix(500))")
    }

    @Test func hostileCallbacksAreReportedAndTheLoopGoesOn() async throws {
        let path = try Self.script("""
            heph.after(0, function() error({}) end)
            heph.after(0.05, function() error() end)
            heph.after(0.1, function() local function f() return 1 + f() end f() end)
            heph.after(0.15, function() local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 1e6) end end)
            heph.after(0.6, function() print("the loop survived"); heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["run", "--memory-limit", "256", path])
        #expect(result.status == 0, "\(result.stderr.prefix(800))")
        #expect(result.stdout == "the loop survived\n")
        for message in ["(error object is a table value)", "(error object is a nil value)", "stack overflow", "not enough memory"] {
            #expect(result.stderr.contains(message), "\(message) is not reported")
        }
    }

    @Test func sigintInterruptsAnEndlessLoopAtTheTopLevel() async throws {
        let path = try Self.script("""
            heph.on_shutdown(function() print("handler ran") end)
            print("spinning")
            while true do end
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try HephProcess.run([path])
        #expect(await run.waitFor("spinning"))
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(5)) == 130)
        #expect(run.stdout == "spinning\nhandler ran\n")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func oneSignalEndsAPcallLoopWithinTwoSeconds(signal: Int32, code: Int32) async throws {
        let path = try Self.script("""
            heph.on_shutdown(function() print("handler ran") end)
            print("spinning")
            while true do pcall(function() while true do end end) end
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try HephProcess.run([path])
        #expect(await run.waitFor("spinning"))
        let sent = ContinuousClock.now
        run.signal(signal)
        #expect(await run.status(timeout: .seconds(5)) == code, "\(run.stderr)")
        #expect(ContinuousClock.now - sent < .seconds(2))
        #expect(run.stdout == "spinning\nhandler ran\n")
    }

    @Test func aStopInsideXpcallRunsNoMessageHandlerAndPendingCloseHandlersRun() async throws {
        let path = try Self.script("""
            heph.config.hook_timeout = 0.2
            heph.after(0, function()
              local outer <close> = setmetatable({}, { __close = function(_, e) print("outer closed", e == nil) end })
              xpcall(function()
                local inner <close> = setmetatable({}, { __close = function() print("inner closed") end })
                while true do end
              end, function() print("handler ran"); while true do end end)
              print("never")
            end)
            heph.after(0.5, function() print("the loop goes on"); heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try HephProcess.run([path])
        #expect(await result.status(timeout: .seconds(20)) == 0, "\(result.stderr)")
        #expect(result.stdout == "inner closed\nouter closed\ttrue\nthe loop goes on\n")
        #expect(result.stderr.contains("ran Lua code for more than 0.2 s without waiting (heph.config.hook_timeout)\nstack traceback:"))
    }

    @Test func aCloseHandlerThatLoopsIsStoppedAfterASecondAndTheNextOneStillRuns() async throws {
        let path = try Self.script("""
            heph.after(0, function()
              local second <close> = setmetatable({}, { __close = function() print("second closed") end })
              local first <close> = setmetatable({}, { __close = function() while true do end end })
              error("boom")
            end)
            heph.after(0.1, function() print("the loop goes on"); heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = ContinuousClock.now
        let result = try HephProcess.run([path])
        #expect(await result.status(timeout: .seconds(20)) == 0, "\(result.stderr)")
        #expect(result.stdout == "second closed\nthe loop goes on\n")
        #expect(result.stderr.contains(":4: boom"))
        #expect(result.stderr.contains("heph: a __close handler failed: "))
        #expect(result.stderr.contains("a __close handler ran for more than 1 s; stopped"))
        #expect(ContinuousClock.now - started < .seconds(20))  // 1 s of computation: scripts/soak hostile times it
    }

    @Test func aFinalizerThatLoopsEndsHephWithExit124NamingTheCause() async throws {
        let path = try Self.script("""
            heph.config.hook_timeout = 0.3
            heph.after(0, function() setmetatable({}, { __gc = function() while true do end end }); collectgarbage() end)
            heph.after(5, function() print("never"); heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = ContinuousClock.now
        let result = try HephProcess.run([path])
        // The watch thread counts the Lua thread's CPU time, not the wall's: on a loaded
        // machine its seconds of computation take longer to come (docs/reliability.md).
        #expect(await result.status(timeout: .seconds(60)) == 124)
        #expect(result.stderr == "heph: a timer's function ran past its time limit and did not stop; Lua cannot interrupt it there (inside a finalizer, __gc, or a long C call such as string.find or string.rep), so heph ends now (exit 124)\n")
        // hook_timeout + 1 s of the Lua thread's computation (measured by scripts/soak
        // hostile): on a machine busy with other tests, wall time runs ahead of it.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func underSandboxBytecodeIsRefusedEverywhere() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("bytecode")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Compiled by heph itself (lua5.4 semantics: a chunk may be bytecode outside a sandbox).
        let compile = try await HephBinary.run(["run", "-", directory], input: """
            local directory = ...
            local chunk = string.dump(load("print('from bytecode')"))
            for _, name in ipairs({ "main.luac", "mod.lua" }) do
              local file = assert(io.open(directory .. "/" .. name, "wb")); file:write(chunk); file:close()
            end
            """)
        #expect(compile.status == 0, "\(compile.stderr)")
        try "require('mod')\n".write(toFile: directory + "/main.lua", atomically: true, encoding: .utf8)

        let plain = try await HephBinary.run(["run", directory + "/main.luac"])
        #expect(plain.stdout == "from bytecode\n")
        let sandboxed = try await HephBinary.run(["run", "--sandbox", directory + "/main.luac"])
        #expect(sandboxed.status == 1)
        #expect(sandboxed.stderr.contains("attempt to load a binary chunk (mode is 't')"), "\(sandboxed.stderr)")
        let required = try await HephBinary.run(["run", "--sandbox", directory + "/main.lua"])
        #expect(required.status == 1)
        #expect(required.stderr.contains("error loading module 'mod' from file '\(directory)/mod.lua'"), "\(required.stderr)")
        #expect(required.stderr.contains("attempt to load a binary chunk (mode is 't')"))
        let checked = try await HephBinary.run(["check", "--sandbox", directory + "/main.luac"])
        #expect(checked.status == 1)
    }

    @Test func checkChecksWhatTheChosenBackendChecks() async throws {
        let replicated = try Self.script("""
            heph.up({ services = { web = { image = "heph/busybox:latest", replicas = 3 } } })
            """)
        let chosen = try Self.script("""
            heph.config.backend = "swarm"
            heph.up({ services = { web = { image = "heph/busybox:latest", replicas = 3 } } })
            """)
        let hostAddress = try Self.script("""
            heph.up({ services = { web = { image = "heph/busybox:latest", ports = { ["127.0.0.1:8080"] = 80 } } } })
            """)
        let late = try Self.script("""
            heph.up({ services = { web = { image = "heph/busybox:latest" } } })
            heph.config.backend = "swarm"
            heph.ping()
            """)
        defer { for path in [replicated, chosen, hostAddress, late] { try? FileManager.default.removeItem(atPath: path) } }
        // As heph run: the first engine call fixes the backend.
        let switched = try await HephBinary.run(["check", late])
        #expect(switched.status == 1)
        #expect(switched.stderr.contains("heph.config.backend: the engine backend is in use already"), "\(switched.stderr)")

        let engine = try await HephBinary.run(["check", replicated])
        #expect(engine.status == 1)
        #expect(engine.stderr.contains("replicas: 3 tasks need the swarm backend"), "\(engine.stderr)")
        #expect(try await HephBinary.run(["check", "--swarm", replicated]).status == 0)
        #expect(try await HephBinary.run(["check", chosen]).status == 0)
        #expect(try await HephBinary.run(["check", hostAddress]).status == 0)
        let swarm = try await HephBinary.run(["check", "--swarm", hostAddress])
        #expect(swarm.status == 1)
        #expect(swarm.stderr.contains("127.0.0.1"), "\(swarm.stderr)")
    }

    @Test(.usesEngine) func aPathologicalHookPatternEndsHephRatherThanHangIt() async throws {
        let name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-" + TestNames.unique("pattern")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let path = try Self.script("""
            heph.config.hook_timeout = 0.3
            heph.on("created", { pattern = string.rep("a*", 30) .. "b" }, function() print("never") end)
            heph.create_container({ image = "heph/busybox:latest", name = "\(name)", cmd = { "sleep", "30" } })
            heph.after(10, function() heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try HephProcess.run([path])
        // The watch thread counts the Lua thread's CPU time, not the wall's: on a loaded
        // machine its seconds of computation take longer to come (docs/reliability.md).
        #expect(await result.status(timeout: .seconds(60)) == 124)
        #expect(result.stderr.contains("heph: matching the hook pattern \"a*a*"), "\(result.stderr)")
        #expect(result.stderr.contains("ran past its time limit and did not stop"))
    }

    /// `heph.up` typed at the prompt (a coroutine waiting for its ticket), and inside a
    /// `load` reader (a wait in place, where Lua cannot yield).
    @Test(.usesEngine, arguments: ["%s", "load(function() %s end)"])
    func ctrlCOnHephUpAtThePromptCancelsTheWorkItself(form: String) async throws {
        let (first, second) = (TestNames.unique("cancel-a"), TestNames.unique("cancel-b"))
        defer { Docker.forceRemove(["heph-\(first)", "heph-\(second)"]) }
        // The second service waits for the first to be healthy (after 3 s); Ctrl-C once the
        // first runs, while heph.up waits for it.
        let up = """
            heph.up({ services = { ["\(first)"] = { image = "heph/busybox:latest", cmd = { "sh", "-c", "sleep 3; touch /tmp/ok; exec sleep 300" }, healthcheck = { test = "test -f /tmp/ok", interval = 0.5 } }, ["\(second)"] = { image = "heph/busybox:latest", cmd = { "sleep", "300" }, depends_on = { "\(first)" } } } })
            """
        // sleeping is the behaviour under test: the prompt stays open (heph.sleep(8)) well
        // past when the second would have come, had heph.up gone on behind its back.
        let repl = try HephProcess(["repl"], input: "print('ready')\n\(form.replacingOccurrences(of: "%s", with: up))\nprint('after')\nheph.sleep(8)\n")
        #expect(await repl.waitFor("ready"))
        _ = await Fixtures.eventually(timeout: .seconds(20)) {
            (try? await Docker.output("inspect", "-f", "{{.State.Running}}", "heph-\(first)")) == "true"
        }
        repl.signal(SIGINT)
        #expect(await repl.waitFor("after", timeout: .seconds(5)))
        #expect(repl.stderr.contains("interrupted"), "\(repl.stderr)")
        // Had heph.up gone on behind the prompt's back, the second would exist once the
        // session is over.
        #expect(await repl.status(timeout: .seconds(15)) == 0)
        let names = try await Docker.output("ps", "-a", "--format", "{{.Names}}")
        #expect(names.contains("heph-\(first)"))
        #expect(!names.contains("heph-\(second)"))
    }

    /// What a container writes, as bytes: through `heph.exec` (its output streams as it is;
    /// `heph.logs` carries bytes too, but the engine's json-file log driver has already
    /// replaced what is not UTF-8 when it stores them).
    @Test(.usesEngine) func printWritesTheBytesAContainerWroteAsTheyAre() async throws {
        let name = TestNames.unique("binary-out")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let path = try Self.script("""
            local name = ...
            heph.create_container({ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 30 & wait" } })
            heph.start_container(name)
            local code, out = heph.exec(name, { "sh", "-c", [[printf '\\377\\376caf\\351']] })
            print(out)
            heph.remove_container(name)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try HephProcess.run([path, name])
        #expect(await run.status(timeout: .seconds(30)) == 0, "\(run.stderr)")
        #expect(run.stdoutBytes == [0xFF, 0xFE, 0x63, 0x61, 0x66, 0xE9, 0x0A])
    }

    @Test func aWaitWhereLuaCannotYieldOutlastsTheTimeLimitAndSIGINTEndsIt() async throws {
        // Waiting is not computing: a sort comparator that waits 0.5 s under a 0.2 s limit
        // still works (holding the loop back meanwhile).
        let sorted = try Self.script("""
            heph.config.hook_timeout = 0.2
            heph.after(0, function()
              local t = { 2, 1 }
              table.sort(t, function(a, b) heph.sleep(0.5) return a < b end)  -- sleeping is the behaviour under test: a wait where Lua cannot yield
              print("sorted after waiting", t[1], t[2])
            end)
            heph.after(0.1, function() print("held back until then") end)
            """)
        // An interrupt ends it, and cancels the call.
        let waiting = try Self.script("""
            heph.on_shutdown(function() print("handler ran") end)
            load(function() print("waiting"); heph.sleep(60) end)  -- sleeping is the behaviour under test: a wait inside a load reader, which SIGINT ends
            print("never")
            """)
        defer { for path in [sorted, waiting] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try HephProcess.run([sorted])
        #expect(await result.status(timeout: .seconds(20)) == 0, "\(result.stderr)")
        #expect(result.stdout == "sorted after waiting\t1\t2\nheld back until then\n")
        let run = try HephProcess.run([waiting])
        #expect(await run.waitFor("waiting"))
        let sent = ContinuousClock.now
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(10)) == 130)
        #expect(ContinuousClock.now - sent < .seconds(2))
        #expect(run.stdout == "waiting\nhandler ran\n")
    }
}
