import Foundation
import HephDocker
import HephLua
import HephTestSupport
import Testing

/// `heph.use`: the search path, and the built-in recovery plugins against the real engine.
/// They time restarts and health, so they have the engine to themselves.
@Suite(.ownsEngine) struct LuaPluginTests {
    /// A directory with `files` (name → text), removed when the test ends.
    static func directory(_ files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + "heph-plugins-" + UUID().uuidString
        for (name, text) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func plugin(_ tag: String) -> String {
        "return { setup = function(heph, opts) return \"\(tag)\", opts.x end }"
    }

    @Test func pluginsAreFoundNextToTheScriptThenHephPathThenUserThenBuiltIn() async throws {
        let scriptDirectory = try Self.directory(["local.lua": Self.plugin("script"), "restart.lua": Self.plugin("script restart")])
        let pathDirectory = try Self.directory(["local.lua": Self.plugin("path"), "shared.lua": Self.plugin("path"), "team/tool.lua": Self.plugin("path tool")])
        let userDirectory = try Self.directory(["shared.lua": Self.plugin("user"), "mine/init.lua": Self.plugin("user init")])
        defer { for path in [scriptDirectory, pathDirectory, userDirectory] { try? FileManager.default.removeItem(atPath: path) } }
        try """
            print(heph.use("local", { x = 1 }))
            print(heph.use("shared"))
            print(heph.use("team.tool"))
            print(heph.use("mine"))
            print(heph.use("restart"))
            local notify = heph.use("notify", { log = false })
            print(type(notify.stop))
            notify.stop()
            print(pcall(heph.use, "missing"))
            print(pcall(heph.use, "../x"))
            print(pcall(heph.use, 42))
            """.write(toFile: scriptDirectory + "/main.lua", atomically: true, encoding: .utf8)
        let result = await LuaHarness.run(LuaScript(.file(scriptDirectory + "/main.lua")),
                                          searchPath: [pathDirectory + "/?.lua"], userPluginDirectory: userDirectory)
        #expect(result.failure == nil)
        let lines = result.lines
        #expect(Array(lines.prefix(6)) == ["script\t1", "path\tnil", "path tool\tnil", "user init\tnil", "script restart\tnil", "function"])
        #expect(lines[6] == "false\theph.use('missing'): no plugin \"missing\" (built in: cascade, chaos, notify, restart)")
        #expect(Array(lines[7...11]) == [
            "\tno file '\(scriptDirectory)/missing.lua'", "\tno file '\(scriptDirectory)/missing/init.lua'",
            "\tno file '\(pathDirectory)/missing.lua'",
            "\tno file '\(userDirectory)/missing.lua'", "\tno file '\(userDirectory)/missing/init.lua'",
        ])
        // Then heph.plugins.missing on package.path (the script's directory is on it too).
        let onLuaPath = lines[12...].prefix { $0.hasPrefix("\tno file") }
        #expect(onLuaPath.contains("\tno file '\(scriptDirectory)/heph/plugins/missing.lua'"), "\(onLuaPath)")
        #expect(onLuaPath.allSatisfy { $0.hasSuffix("/heph/plugins/missing.lua'") || $0.hasSuffix("/heph/plugins/missing/init.lua'") }, "\(onLuaPath)")
        #expect(lines[12 + onLuaPath.count] == #"false\#theph.use('../x'): "../x" is not a plugin name; use letters, digits, "_" and "-", with "." between parts"#)
        #expect(lines.last == "false\tbad argument #1 to 'use' (plugin name expected, got number)")
    }

    @Test func aPluginThatIsNotOneSaysWhy() async throws {
        let directory = try Self.directory(["broken.lua": "return 42", "bad.lua": "return {", "main.lua": """
            print(pcall(heph.use, "broken"))
            print(pcall(heph.use, "bad"))
            heph.use("restart", { intial = 1 })
            """])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = await LuaHarness.run(LuaScript(.file(directory + "/main.lua")))
        #expect(result.lines.first == "false\theph.use('broken'): \(directory)/broken.lua: it returns 42; a plugin module returns a table with a setup function, such as return { setup = function(heph, opts) ... end }")
        // (Lua shortens a long chunk name in its messages, as it does for every file.)
        #expect(result.lines.dropFirst().first?.hasPrefix("false\theph.use('bad'): \(directory)/bad.lua does not compile: ") == true)
        #expect(result.lines.dropFirst().first?.hasSuffix("/bad.lua:1: unexpected symbol near <eof>") == true, "\(result.lines)")
        // A built-in plugin's bad option points at the script's line.
        #expect(result.failure?.contains("/main.lua:3: heph.use('restart'): unknown option \"intial\" (known: events, factor, initial, jitter, log, max, max_restarts, on_give_up, on_recover, on_restart, paused, reset_after, restart_stopped, settle, target, window; did you mean \"initial\"?)") == true, "\(result.failure ?? "")")
    }

    @Test func restartBacksOffGivesUpAfterTheBudgetAndSaysSoOnce() async throws {
        let name = TestNames.unique("crashloop")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            local gave_up = 0
            heph.use("restart", {
              target = name, initial = 0.4, factor = 2, max = 10, jitter = 0.1,
              max_restarts = 3, window = 60, reset_after = 60, log = false,
              on_restart = function(ev, attempt, delay)
                print(("restart %d delay %.3f waited %.3f"):format(attempt, delay, heph.now() - ev.at))
              end,
              on_give_up = function(ev)
                gave_up = gave_up + 1
                print("gave up on " .. ev.name)
                heph.after(3, function() print("gave up " .. gave_up .. " time(s)"); heph.exit(0) end)
              end,
            })
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "sleep 0.3; exit 1" } }
            heph.start_container(name)
            heph.after(60, function() print("timed out"); heph.exit(1) end)
            """, arguments: [name])
        #expect(result.outcome == .exited(0))
        let lines = result.lines
        try #require(lines.count == 5, "\(lines)")
        for (index, line) in lines.prefix(3).enumerated() {
            let fields = line.split(separator: " ")
            let delay = try #require(Double(fields[3]))
            let waited = try #require(Double(fields[5]))
            let nominal = 0.4 * pow(2, Double(index))
            #expect(fields[1] == "\(index + 1)")
            #expect(abs(delay - nominal) <= nominal * 0.1 + 0.001, "restart \(index + 1): delay \(delay) is not \(nominal) ± 10%")
            // Waited the delay (counted from the crash), plus the time a restart takes.
            #expect(waited >= delay && waited < delay + 5, "restart \(index + 1) waited \(waited) for a delay of \(delay)")
        }
        #expect(lines[3] == "gave up on heph-\(name)")
        #expect(lines[4] == "gave up 1 time(s)")
    }

    @Test func restartRestartsOnceWhileARestartIsPending() async throws {
        let name = TestNames.unique("pending")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        // Unhealthy after ~0.2 s, exits at 1 s: two failures while the first restart waits 1.5 s.
        // Were the second not ignored, its restart would come ~0.8 s after the first.
        let result = await LuaHarness.run("""
            local name = ...
            local restarts = 0
            local guard
            guard = heph.use("restart", {
              target = name, initial = 1.5, factor = 1, jitter = 0, log = false,
              on_restart = function()
                restarts = restarts + 1
                guard.stop()
                heph.after(2, function()
                  print(restarts, guard.state(name).restarts)
                  heph.exit(0)
                end)
              end,
            })
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "sleep 1; exit 1" },
              healthcheck = { test = "false", interval = 0.2, retries = 1 } }
            heph.start_container(name)
            heph.after(30, function() heph.exit(1) end)
            """, arguments: [name])
        #expect(result.outcome == .exited(0))
        #expect(result.lines == ["1\t1"])
    }

    @Test func cascadeRestartsDependentsInDependencyOrderOnce() async throws {
        let (a, b, c) = (TestNames.unique("ca"), TestNames.unique("cb"), TestNames.unique("cc"))
        defer { Docker.forceRemove([a, b, c].map { "heph-\($0)" }) }
        let session = LuaSession("""
            local a, b, c = ...
            local function service(deps)
              return { image = "heph/busybox:latest", depends_on = deps,
                cmd = { "sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait" },
                healthcheck = { test = { "cat", "/ready" }, interval = 0.2, retries = 1 } }
            end
            heph.up{ services = { [a] = service({}), [b] = service({ a }), [c] = service({ b }) } }
            heph.use("cascade", { log = false, on_cascade = function(name, dependents)
              print("cascade from " .. name .. " to " .. table.concat(dependents, ","))
            end })
            heph.on("running", { pattern = "^heph%-t%-c[abc]%-" }, function(ev)
              if ev.previous == "stopped" then print("restarted " .. ev.name) end
            end)
            print("up")
            """, arguments: [a, b, c])
        #expect(await session.waitForLine { $0 == "up" })
        try await Docker.output("restart", "-t", "1", "heph-\(a)")
        #expect(await session.waitForLine(timeout: .seconds(30)) { $0 == "restarted heph-\(c)" })
        // sleeping is the behaviour under test: "once", two seconds in which a second cascade
        // or restart would show.
        try await Task.sleep(for: .seconds(2))
        _ = await session.finish(timeout: .seconds(1))
        let restarts = session.lines.filter { $0.hasPrefix("restarted") || $0.hasPrefix("cascade") }
        // The cascade's hook was registered first, so it tells of the cascade first.
        #expect(restarts == [
            "cascade from heph-\(a) to heph-\(b),heph-\(c)",
            "restarted heph-\(a)",
            "restarted heph-\(b)",
            "restarted heph-\(c)",
        ])
        let started = try await Fixtures.withOrchestrator { orchestrator async throws in
            try await [a, b, c].asyncMap { try await orchestrator.inspectContainer($0).details?.startedAt ?? 0 }
        }
        #expect(started[0] < started[1] && started[1] < started[2])
    }

    @Test func notifyRunsTheCommandWithTheEventsFields() async throws {
        let name = TestNames.unique("notify")
        let file = NSTemporaryDirectory() + "heph-notify-" + UUID().uuidString
        defer {
            Docker.forceRemove(["heph-\(name)"])
            try? FileManager.default.removeItem(atPath: file)
        }
        let result = await LuaHarness.run("""
            local name, file = ...
            heph.use("notify", {
              events = { "exit" }, target = name, log = false,
              command = "echo \\"$HEPH_EVENT $HEPH_NAME $HEPH_STATUS $HEPH_PREVIOUS $HEPH_EXIT_CODE $HEPH_EXPECTED [$HEPH_BY] $HEPH_CAUSE $HEPH_STATE\\" > " .. file,
              on_command = function(code) print("command exited " .. code); heph.exit(0) end,
            })
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "sleep 0.2; exit 7" } }
            heph.start_container(name)
            heph.after(20, function() heph.exit(1) end)
            """, arguments: [name, file])
        #expect(result.outcome == .exited(0))
        #expect(result.lines == ["command exited 0"])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "exit heph-\(name) stopped running 7 false [] crash exited\n")
    }

    @Test func chaosActsOnlyOnMatchingManagedContainers() async throws {
        let tag = TestNames.unique("chaos")
        let (hit1, hit2, spared) = ("\(tag)-hit1", "\(tag)-hit2", "\(tag)-spared")
        let foreign = "heph-\(tag)-hit-foreign"
        defer { Docker.forceRemove(["heph-\(hit1)", "heph-\(hit2)", "heph-\(spared)", foreign]) }
        try await Docker.output("run", "-d", "--name", foreign, Fixtures.image, "sleep", "3600")
        let result = await LuaHarness.run("""
            local hit1, hit2, spared, tag = ...
            for _, name in ipairs({ hit1, hit2, spared }) do
              heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sleep", "3600" } }
              heph.start_container(name)
            end
            local chaos = heph.use("chaos", {
              every = 3600, log = false, seed = 7, actions = { "kill" },
              target = { pattern = "^heph%-" .. tag:gsub("%-", "%%-") .. "%-hit" },
            })
            local struck = {}
            for _ = 1, 3 do
              local victim, action = chaos.strike()
              struck[#struck + 1] = tostring(victim) .. ":" .. tostring(action)
            end
            print(table.concat(struck, " "))
            chaos.stop()
            """, arguments: [hit1, hit2, spared, tag])
        #expect(result.failure == nil)
        let struck = result.lines.first?.split(separator: " ").map(String.init) ?? []
        #expect(Set(struck.prefix(2)) == ["heph-\(hit1):kill", "heph-\(hit2):kill"])
        #expect(struck.last == "nil:nil")  // nothing running is left to strike
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph-\(spared)") == "running")
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
    }

    @Test func chaosPausesAndThawsOnItsOwn() async throws {
        let name = TestNames.unique("pause")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sleep", "3600" } }
            heph.start_container(name)
            local chaos = heph.use("chaos", { every = 3600, log = false, actions = { "pause" }, pause_for = 0.5, target = name })
            print(chaos.strike())
            print(heph.health_check(name))
            chaos.stop()
            local thawed = heph.now() + 1.5
            while heph.health_check(name) ~= "running" and heph.now() < thawed do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(heph.health_check(name))
            """, arguments: [name])
        #expect(result.lines == ["heph-\(name)\tpause", "error", "running"])
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
