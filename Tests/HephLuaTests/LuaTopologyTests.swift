import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph.up`, `heph.logs`, `heph.exec`, `heph.restart_container` and `heph.shell` from Lua.
@Suite(.usesEngine) struct LuaTopologyTests {
    /// A service table (Lua source) that is healthy once its command has run.
    static func service(_ extra: String = "") -> String {
        """
        { image = "heph/busybox:latest", \(extra)
          cmd = { "sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait" },
          healthcheck = { test = { "cat", "/ready" }, interval = 0.2, retries = 1 } }
        """
    }

    @Test func upReturnsEachServiceByItsNameAndRerunningKeepsIds() async throws {
        let (db, web) = (TestNames.unique("db"), TestNames.unique("web"))
        defer { Docker.forceRemove(["heph-\(db)", "heph-\(web)"]) }
        let result = await LuaHarness.run("""
            local db, web = ...
            local function topology(version)
              return { services = {
                [db] = \(Self.service()),
                [web] = \(Self.service("env = { VERSION = version }, depends_on = { db },")),
              }, timeout = 30 }
            end
            local exits = {}
            heph.on("exit", web, function(ev) exits[#exits + 1] = ev.name .. " by " .. tostring(ev.by) end)
            local first = heph.up(topology("1"))
            print(first[db].name == "heph-" .. db, first[web].status)
            local again = heph.up(topology("1"))
            print(again[db].id == first[db].id, again[web].id == first[web].id)
            local changed = heph.up(topology("2"))
            print(changed[db].id == first[db].id, changed[web].id ~= first[web].id)
            local done = heph.now() + 5
            while #exits < 1 and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(table.concat(exits, ","))
            print(table.concat(heph.dependents(db), ","), #heph.dependents(web))
            heph.exit(0)
            """, arguments: [db, web])
        #expect(result.failure == nil)
        #expect(result.lines == ["true\thealthy", "true\ttrue", "true\ttrue", "heph-\(web) by up", "heph-\(web)\t0"])
    }

    @Test func badTopologiesRaiseBeforeAnythingIsCreated() async throws {
        let (a, b) = (TestNames.unique("a"), TestNames.unique("b"))
        let result = await LuaHarness.run("""
            local a, b = ...
            local function try(t) print((select(2, pcall(heph.up, t)))) end
            try{ services = { [a] = { image = "heph/busybox:latest", depends_on = { b } },
                              [b] = { image = "heph/busybox:latest", depends_on = { a } } } }
            try{ services = { [a] = { image = "heph/busybox:latest", depends_on = { "nope" } } } }
            try{ services = { [a] = { image = "heph/busybox:latest", dependson = { b } } } }
            try{ services = { [a] = { image = "heph/busybox:latest", ports = { ["x"] = "80" } } } }
            try{ service = {} }
            try{ services = {}, timeout = -1 }
            """, arguments: [a, b])
        let sorted = [a, b].sorted()
        #expect(result.lines == [
            "bad argument #1 to 'heph.up' (dependency cycle: \(sorted[0]) -> \(sorted[1]) -> \(sorted[0]))",
            "bad argument #1 to 'heph.up' (services.\(a).depends_on: unknown service \"nope\"; the services are \"\(a)\")",
            "bad argument #1 to 'heph.up' (services.\(a).dependson: unknown field; did you mean depends_on?)",
            "bad argument #1 to 'heph.up' (services.\(a).ports: host port \"x\" is not a number in 1…65535)",
            "bad argument #1 to 'heph.up' (topology.service: unknown field; did you mean services?)",
            "bad argument #1 to 'heph.up' (topology.timeout: seconds must be above 0, at most 86400, got -1)",
        ])
        #expect(try await Docker.output("ps", "-a", "--filter", "name=\(a)", "--format", "{{.Names}}").isEmpty)
    }

    @Test func logsExecAndShellKeepStreamsApart() async throws {
        let name = TestNames.unique("out")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            heph.create_container{ image = "heph/busybox:latest", name = name,
              cmd = { "sh", "-c", "echo hello; echo oops >&2; trap 'exit 0' TERM; sleep 3600 & wait" } }
            heph.start_container(name)
            local out, err
            for _ = 1, 50 do
              out, err = heph.logs(name)
              if err ~= "" then break end
              heph.sleep(0.1)  -- the poll's interval: waits for the condition, to a deadline (50 looks)
            end
            print(out == "hello\\n", err == "oops\\n")
            print(select("#", heph.logs(name, { tail = 0 })), (heph.logs(name, { tail = 0 })) == "")
            print(heph.exec(name, "echo to-out; echo to-err >&2; exit 4"))
            print(heph.exec(name, { "cat", "/etc/hostname" }) == 0)
            print(heph.shell("echo \\"$GREETING\\"; echo bye >&2; exit 2", { GREETING = "hi there" }))
            print(heph.shell({ "printf", "%s", "a b" }))
            print(pcall(heph.exec, name, {}))
            print(pcall(heph.logs, name, { tail = -1 }))
            """, arguments: [name])
        #expect(result.failure == nil)
        #expect(result.lines == [
            "true\ttrue",
            "2\ttrue",
            "4\tto-out", "\tto-err", "",
            "true",
            "2\thi there", "\tbye", "",
            "0\ta b\t",
            "false\tbad argument #2 to 'heph.exec' (command: the array is empty; name a program, such as { \"ls\", \"/\" })",
            "false\tbad argument #2 to 'heph.logs' (options.tail: expected a number of lines, 0 or more, got -1)",
        ])
    }

    @Test func restartContainerIsExpectedAndKeepsTheId() async throws {
        let name = TestNames.unique("re")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            local seen = {}
            heph.on("exit", name, function(ev) seen[#seen + 1] = "exit by " .. tostring(ev.by) end)
            heph.on("running", name, function(ev) seen[#seen + 1] = "running after " .. tostring(ev.previous) end)
            local id = heph.create_container{ image = "heph/busybox:latest", name = name,
              cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } }
            heph.start_container(name)
            heph.restart_container(name)
            print(heph.inspect_container(name).id == id, heph.health_check(name))
            local done = heph.now() + 5
            while #seen < 3 and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(table.concat(seen, ", "))
            heph.exit(0)
            """, arguments: [name])
        #expect(result.lines == ["true\trunning", "running after created, exit by restart_container, running after stopped"])
    }
}
