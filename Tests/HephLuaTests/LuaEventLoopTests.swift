import Foundation
import HephDocker
import HephLua
import HephTestSupport
import Testing

/// The event loop: timers, waiting without holding others back, exit and shutdown, and
/// what keeps a run going.
@Suite struct LuaEventLoopTests {
    @Test func timersFireAndStop() async {
        let result = await LuaHarness.run("""
            local ticks = 0
            local every
            every = heph.every(0.05, function()
              ticks = ticks + 1
              if ticks == 3 then
                every:stop(); every:stop()
                -- Still 3 ticks 0.3 s after the stop (timed from the stop, not the start, so
                -- a busy machine cannot make it miss ticks it was due).
                local stopped = heph.now()
                heph.after(0.3, function() print("after", ticks, heph.now() - stopped >= 0.29) end)
              end
            end)
            local never = heph.after(0.1, function() print("stopped timer ran") end)
            never:stop()
            print(tostring(every):match("^heph.timer"))
            """)
        #expect(result.outcome == .finished)
        #expect(result.lines == ["heph.timer", "after\t3\ttrue"])
    }

    @Test func aCallbackThatStopsTheLastTimerStillFinishesItsWork() async {
        let result = await LuaHarness.run("""
            local ticker
            ticker = heph.every(0.05, function()
              ticker:stop()        -- nothing is registered any more…
              heph.sleep(0.2)      -- sleeping is the behaviour under test: …but this callback is still at work
              print("finished its work")
            end)
            """)
        #expect(result.outcome == .finished)
        #expect(result.lines == ["finished its work"])
    }

    @Test func waitingInOneCallbackDoesNotHoldBackAnother() async {
        let result = await LuaHarness.run("""
            local order = {}
            heph.after(0, function() order[#order + 1] = "a starts"; heph.sleep(0.3); order[#order + 1] = "a ends" end)  -- sleeping is the behaviour under test: a waits, b runs meanwhile
            heph.after(0.1, function() order[#order + 1] = "b" end)
            -- Wait for both (not a fixed time: a busy machine may fire the timers late; the
            -- suite's start has stalled every task here for 10 s on two cores).
            local deadline = heph.now() + 60
            while #order < 3 and heph.now() < deadline do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(table.concat(order, ", "))
            """)
        #expect(result.lines == ["a starts, b, a ends"])
    }

    @Test func exitRunsTheShutdownHandlersAndEndsWithTheCode() async {
        let result = await LuaHarness.run("""
            heph.on_shutdown(function() print("first handler"); heph.sleep(0.05); print("first handler done") end)  -- sleeping is the behaviour under test: a handler that waits
            heph.on_shutdown(function() print("second handler") end)
            heph.every(1, function() end)   -- would keep the run going forever
            heph.after(0.05, function() heph.exit(7); print("not reached") end)
            """)
        #expect(result.outcome == .exited(7))
        #expect(result.lines == ["first handler", "second handler", "first handler done"])
    }

    @Test func exitWorksWhereLuaCannotYieldAndTakesBooleans() async {
        let inSort = await LuaHarness.run("""
            table.sort({ 2, 1 }, function(a, b) heph.exit(true) end)
            print("not reached")
            """)
        #expect(inSort.outcome == .exited(0))
        #expect(inSort.lines.isEmpty)
        #expect(inSort.diagnostics.isEmpty)
        #expect(await LuaHarness.run("heph.exit(false)").outcome == .exited(1))
        #expect(await LuaHarness.run("pcall(heph.exit, 300)\nprint(select(2, pcall(heph.exit, 300)))").lines
            == ["bad argument #1 to 'heph.exit' (exit code must be a whole number from 0 to 255 or a boolean, got 300)"])
    }

    @Test func shutdownHandlersRunAtANaturalEndAndAfterAnError() async {
        let natural = await LuaHarness.run("heph.on_shutdown(function() print('cleanup') end)\nprint('main')")
        #expect(natural.outcome == .finished)
        #expect(natural.lines == ["main", "cleanup"])
        let failed = await LuaHarness.run("heph.on_shutdown(function() print('cleanup') end)\nerror('boom')", name: "e.lua")
        #expect(failed.lines == ["cleanup"])
        #expect(failed.failure?.hasPrefix("e.lua:2: boom") == true)
        let faulty = await LuaHarness.run("heph.on_shutdown(function() error('handler fails') end)\nheph.on_shutdown(function() print('next handler') end)")
        #expect(faulty.outcome == .finished)
        #expect(faulty.lines == ["next handler"])
        #expect(faulty.diagnostics.contains("heph: an on_shutdown handler failed: test.lua:1: handler fails"))
    }

    @Test func aShutdownFromOutsideInterruptsRunawayLua() async {
        let session = LuaSession("""
            heph.on_shutdown(function() print("handler ran") end)
            print("spinning")
            while true do end
            """)
        #expect(await session.waitForLine { $0 == "spinning" })
        // finish's deadline asks for a shutdown (exit code 124) as a signal would.
        #expect(await session.finish(timeout: .milliseconds(200)) == .exited(124))
        #expect(session.lines == ["spinning", "handler ran"])
        #expect(session.diagnostics.all.isEmpty)
    }

    @Test func registeredThingsKeepTheRunGoingUntilTheyAreGone() async {
        let result = await LuaHarness.run("""
            local hook = heph.on("change", function() end)
            heph.after(0.2, function() hook:off(); print("hook off") end)
            """)
        #expect(result.outcome == .finished)
        #expect(result.lines == ["hook off"])
    }

    @Test func badArgumentsOfTheLoopsFunctions() async {
        let result = await LuaHarness.run("""
            local function try(f, ...) print(select(2, pcall(f, ...))) end
            try(heph.on, "sick", function() end)
            try(heph.on, "unhealthy", 42, nil)
            try(heph.on, "unhealthy", { pattern = "[" }, print)
            try(heph.on, "unhealthy", { patern = "x" }, print)
            try(heph.on, "unhealthy", true)
            try(heph.every, 0, print)
            try(heph.after, -1, print)
            try(heph.every, 1)
            try(heph.on_shutdown, "x")
            """)
        #expect(result.lines == [
            #"bad argument #1 to 'heph.on' (unknown event "sick"; use created, running, stopped, error, healthy, unhealthy, change, exit, removed)"#,
            "bad argument #3 to 'heph.on' (function expected, got nil)",
            #"bad argument #2 to 'heph.on' (target.pattern: "[" is not a Lua pattern: malformed pattern (missing ']'))"#,
            "bad argument #2 to 'heph.on' (target.patern: unknown field; did you mean pattern?)",
            #"bad argument #2 to 'heph.on' (a container name, { pattern = "…" } or a function expected, got boolean)"#,
            "bad argument #1 to 'heph.every' (seconds must be a number above 0, at most 86400, got 0)",
            "bad argument #1 to 'heph.after' (seconds must be a number from 0 to 86400, got -1)",
            "bad argument #2 to 'heph.every' (function expected, got no value)",
            "bad argument #1 to 'heph.on_shutdown' (function expected, got string)",
        ])
    }
}

/// `heph.wait_healthy` against the engine.
@Suite(.usesEngine) struct LuaWaitHealthyTests {
    @Test func waitHealthyAnswersEachWay() async throws {
        let names = [TestNames.unique("wh-hc"), TestNames.unique("wh-plain"), TestNames.unique("wh-exit"), TestNames.unique("wh-never")]
        defer { Docker.forceRemove(names.map { "heph-\($0)" }) }
        let result = await LuaHarness.run("""
            local hc, plain, exits, never = ...
            local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
            heph.create_container{ image = "heph/busybox:latest", name = hc, cmd = idle, healthcheck = { test = "true", interval = 0.3 } }
            heph.create_container{ image = "heph/busybox:latest", name = plain, cmd = idle }
            heph.create_container{ image = "heph/busybox:latest", name = exits, cmd = { "sh", "-c", "sleep 0.3; exit 2" },
              healthcheck = { test = "true", interval = 30 } }   -- exits long before its first probe
            heph.create_container{ image = "heph/busybox:latest", name = never, cmd = idle, healthcheck = { test = "false", interval = 0.3, retries = 100 } }
            for _, name in ipairs({ hc, plain, exits, never }) do heph.start_container(name) end
            print(heph.wait_healthy(hc, 10))
            print(heph.wait_healthy(plain, 10))
            print(heph.wait_healthy(exits, 10))
            print(heph.wait_healthy(never, 0.5))
            print(heph.wait_healthy("missing-\(UUID().uuidString.prefix(8))", 1))
            """, arguments: names)
        #expect(result.failure == nil)
        #expect(result.lines == ["true", "true", "nil\tstopped", "nil\trunning", "nil\terror"])
    }
}
