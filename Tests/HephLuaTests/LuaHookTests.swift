import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Hooks fed by the engine's event stream, with transitions made from outside heph.
@Suite(.usesEngine) struct LuaHookTests {
    /// A container whose healthcheck reads /ready, which its command writes.
    static func probed(_ name: String) -> String {
        """
        heph.create_container{ image = "heph/busybox:latest", name = \(name),
          cmd = { "sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait" },
          healthcheck = { test = { "cat", "/ready" }, interval = 0.5, retries = 1 } }
        """
    }

    @Test func healthFlippedFromOutsideFiresEachHookOnce() async throws {
        let name = TestNames.unique("flip")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let session = LuaSession("""
            local name = ...
            local healthy = 0
            heph.on("unhealthy", name, function(ev) print("unhealthy", ev.previous, ev.status, ev.expected, ev.name) end)
            heph.on("healthy", name, function(ev)
              healthy = healthy + 1
              print("healthy", ev.previous)
              if healthy == 2 then heph.exit(0) end
            end)
            \(Self.probed("name"))
            heph.start_container(name)
            """, arguments: [name])
        #expect(await session.waitForLine { $0 == "healthy\trunning" })
        try await Docker.output("exec", "heph-\(name)", "busybox", "rm", "/ready")
        #expect(await session.waitForLine { $0.hasPrefix("unhealthy") })
        try await Docker.output("exec", "heph-\(name)", "sh", "-c", "echo ok > /ready")
        #expect(await session.finish() == .exited(0))
        #expect(session.lines == ["healthy\trunning", "unhealthy\thealthy\tunhealthy\tfalse\theph-\(name)", "healthy\tunhealthy"])
        #expect(session.diagnostics.all.isEmpty)
    }

    @Test func aProcessKilledFromOutsideExitsAndRmIsRemoved() async throws {
        let name = TestNames.unique("kill")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let session = LuaSession("""
            local name = ...
            heph.on("running", name, function() print("running") end)
            heph.on("exit", name, function(ev) print("exit", ev.exit_code, ev.oom_killed, ev.expected, ev.status, ev.previous) end)
            heph.on("removed", name, function(ev) print("removed", ev.previous, ev.status); heph.exit(0) end)
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sleep", "3600" } }
            heph.start_container(name)
            """, arguments: [name])
        #expect(await session.waitForLine { $0 == "running" })
        try await Docker.output("kill", "--signal", "KILL", "heph-\(name)")
        #expect(await session.waitForLine { $0.hasPrefix("exit") })
        try await Docker.output("rm", "-f", "heph-\(name)")
        #expect(await session.finish() == .exited(0))
        #expect(session.lines == ["running", "exit\t137\tfalse\tfalse\tstopped\trunning", "removed\tstopped\tremoved"])
    }

    @Test func transitionsThisProcessAskedForAreExpected() async throws {
        let name = TestNames.unique("expected")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            local seen = {}
            heph.on("change", name, function(ev) seen[#seen + 1] = ev.status .. "=" .. tostring(ev.expected) end)
            heph.on("exit", name, function(ev) seen[#seen + 1] = "exit=" .. tostring(ev.expected) end)
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } }
            heph.start_container(name)
            heph.wait_healthy(name, 10)
            heph.stop_container(name)
            heph.remove_container(name)
            local done = heph.now() + 10
            while #seen < 5 and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(table.concat(seen, " "))
            heph.exit(0)
            """, arguments: [name])
        #expect(result.outcome == .exited(0))
        #expect(result.lines == ["created=false running=false stopped=true exit=true removed=true"])
    }

    @Test func theEventStreamCutLosesNothingAndRepeatsNothing() async throws {
        let name = TestNames.unique("cut")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let port = Fixtures.freePort()
        func proxy() throws -> BackgroundProcess {
            try BackgroundProcess("/usr/bin/socat", ["tcp-listen:\(port),bind=127.0.0.1,reuseaddr,fork", "unix-connect:\(EngineEndpoint.defaultSocketPath)"], ownGroup: true)
        }
        var current = try proxy()
        defer { current.stop() }
        _ = await Fixtures.eventually(timeout: .seconds(5)) { (try? await Command.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 }
        // heph reaches the engine only through the proxy; the test acts on it directly.
        let session = LuaSession("""
            local name = ...
            heph.on("change", name, function(ev) print(ev.previous or "new", ev.status) end)
            heph.on("exit", name, function(ev) print("exit", ev.exit_code) end)
            heph.on("removed", name, function() heph.exit(0) end)
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "trap 'exit 3' TERM; sleep 3600 & wait" } }
            """, arguments: [name], environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"])
        #expect(await session.waitForLine { $0 == "new\tcreated" })
        current.stop()  // the stream (and every other connection) drops
        // Started straight on the engine's socket, by an orchestrator rather than the docker
        // CLI: a parallel test may have raced this one to create heph-network, and only
        // heph's start settles such duplicates ("network heph-network is ambiguous").
        try await Fixtures.withOrchestrator(environment: [:]) { engine in
            try await engine.startContainer("heph-\(name)")
            try await Docker.output("stop", "heph-\(name)")
            try await engine.startContainer("heph-\(name)")
        }
        current = try proxy()
        // Back: a poll (the reconnection's, or the periodic one while the stream still backs
        // off) reports the net change, once. Then, with the stream followed again, what
        // happens next arrives event by event.
        #expect(await session.waitForLine(timeout: .seconds(30)) { $0 == "created\trunning" })
        #expect(await Fixtures.eventually(timeout: .seconds(30)) {
            session.diagnostics.all.joined().contains("heph: the engine's event stream is back")
        })
        try await Docker.output("rm", "-f", "heph-\(name)")
        #expect(await session.finish() == .exited(0))
        #expect(session.lines == ["new\tcreated", "created\trunning", "running\tstopped", "exit\t137", "stopped\tremoved"])
        #expect(session.diagnostics.all.joined().contains("heph: lost the engine's event stream ("))
    }

    @Test func aHookThatRaisesAndOneThatNeverStopsAreReportedAndTheLoopGoesOn() async throws {
        let name = TestNames.unique("faulty")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name, running = ..., false
            heph.config.hook_timeout = 0.3
            heph.on("created", name, function() error("created hook fails") end)
            heph.on("running", name, function() running = true; while true do end end)
            heph.on("stopped", name, function(ev) print("stopped hook ran", ev.previous); heph.exit(0) end)
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } }
            heph.start_container(name)
            -- Stopped once the running hook ran: its loop holds Lua until the time limit ends it.
            local done = heph.now() + 10
            while not running and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            heph.stop_container(name)
            """, arguments: [name])
        #expect(result.outcome == .exited(0))
        #expect(result.lines == ["stopped hook ran\trunning"])
        #expect(result.diagnostics.contains("heph: a hook failed on \"created\" for heph-\(name) (new → created): test.lua:3: created hook fails\nstack traceback:"))
        #expect(result.diagnostics.contains("heph: a hook failed on \"running\" for heph-\(name) (created → running): test.lua:4: ran Lua code for more than 0.3 s without waiting (heph.config.hook_timeout)"))
    }

    @Test func targetsMatchNamesAndPatterns() async throws {
        let (a, b) = (TestNames.unique("tgt-a"), TestNames.unique("tgt-b"))
        defer { Docker.forceRemove(["heph-\(a)", "heph-\(b)"]) }
        let result = await LuaHarness.run("""
            local a, b = ...
            local seen = {}
            heph.on("created", a, function(ev) seen[#seen + 1] = "short:" .. ev.name end)
            heph.on("created", "heph-" .. b, function(ev) seen[#seen + 1] = "full:" .. ev.name end)
            heph.on("created", { pattern = "^heph%-t%-tgt%-" }, function(ev) seen[#seen + 1] = "pattern:" .. ev.name end)
            local off = heph.on("created", function(ev) seen[#seen + 1] = "removed hook ran" end)
            off:off()
            off:off()
            heph.create_container{ image = "heph/busybox:latest", name = a }
            heph.create_container{ image = "heph/busybox:latest", name = b }
            local done = heph.now() + 10
            while #seen < 4 and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            table.sort(seen)
            print(table.concat(seen, " "))
            heph.exit(0)
            """, arguments: [a, b])
        #expect(result.lines == ["full:heph-\(b) pattern:heph-\(a) pattern:heph-\(b) short:heph-\(a)"])
    }
}

/// The proof that waiting never blocks the loop, timed: it runs with the engine to itself,
/// because on a small machine the other suites' containers would compete for the CPU and
/// blur what is measured (heph's own delay).
@Suite(.ownsEngine) struct LuaNonBlockingTests {
    @Test func aHookInsideATenSecondStopDoesNotHoldBackAnother() async throws {
        let (slow, probe) = (TestNames.unique("slow"), TestNames.unique("probe"))
        defer { Docker.forceRemove(["heph-\(slow)", "heph-\(probe)"]) }
        let session = LuaSession("""
            local slow, probe = ...
            local stopping = false
            heph.on("healthy", probe, function()
              if stopping then return end
              stopping = true
              print("stopping slow")
              heph.stop_container(slow, 10)   -- SIGTERM is ignored: this takes 10 s
              stopping = false
            end)
            heph.on("unhealthy", probe, function(ev)
              print("unhealthy hook", string.format("%.3f", heph.now() - ev.at), stopping)
              heph.exit(0)
            end)
            heph.create_container{ image = "heph/busybox:latest", name = slow,
              cmd = { "sh", "-c", "trap '' TERM; while true; do sleep 1; done" } }
            \(LuaHookTests.probed("probe"))
            heph.start_container(slow)
            heph.start_container(probe)
            """, arguments: [slow, probe])
        #expect(await session.waitForLine { $0 == "stopping slow" })
        try await Docker.output("exec", "heph-\(probe)", "busybox", "rm", "/ready")
        #expect(await session.finish() == .exited(0))
        let line = session.lines.first { $0.hasPrefix("unhealthy hook") }?.split(separator: "\t") ?? []
        #expect(line.count == 3)
        // From the engine's event time to the hook's first line: under 100 ms, while the
        // other hook is still inside its stop.
        #expect((Double(line.count > 1 ? line[1] : "") ?? 1) < 0.1)
        #expect(line.last == "true")
    }
}
