import Foundation
import HephDocker
import HephLua
import HephTestSupport
import Testing

/// The module's shape, loading, and the script environment: nothing here needs the engine
/// (the runtime connects lazily, and these scripts never call it).
@Suite struct LuaModuleTests {
    @Test func constantsAndConfig() async {
        let result = await LuaHarness.run("""
            print(heph.CONTAINER_PREFIX, heph.NETWORK_NAME, heph.STOP_TIMEOUT, heph.HEALTH_INTERVAL, heph.VERSION)
            print(heph.config.hook_timeout, heph.config.backend)
            print(math.type(heph.STOP_TIMEOUT), math.type(heph.HEALTH_INTERVAL))
            """)
        #expect(result.failure == nil)
        #expect(result.lines == ["heph-\theph-network\t10\t5\t\(hephVersion)", "5\tengine", "integer\tinteger"])
    }

    @Test func engineConcurrencyIsReadAtEachEngineCallAndABadValueIsNamed() async {
        let slots = EngineSlots(capacity: 9)
        // No engine: each call fails to connect, after heph.config has been applied.
        let result = await LuaHarness.run("""
            print(heph.config.engine_concurrency)
            heph.config.engine_concurrency = 3
            print((pcall(heph.ping)))
            for _, bad in ipairs({ 0, 257, 2.5, "4", true }) do
              heph.config.engine_concurrency = bad
              print(select(2, pcall(heph.ping)))
            end
            """, environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"], engineSlots: slots)
        #expect(result.failure == nil)
        let rule = "is not a number of engine calls at once; use a whole number from 1 to 256 (default \(EngineSlots.defaultCapacity))"
        #expect(result.lines == ["9", "false"] + ["0", "257", "2.5", #""4""#, "a boolean"].map { "heph.config.engine_concurrency: \($0) \(rule)" })
        // The good value took effect; the bad ones changed nothing.
        #expect(slots.capacity == 3)
    }

    @Test func requireReturnsTheGlobalModule() async {
        let result = await LuaHarness.run("""
            local h = require("heph")
            print(h == heph, package.loaded.heph == heph, type(heph.create_container))
            """)
        #expect(result.lines == ["true\ttrue\tfunction"])
    }

    @Test func everyDocumentedFunctionIsThere() async {
        let names = ["ping", "create_network", "remove_network", "create_container", "start_container", "stop_container",
                     "remove_container", "list_containers", "inspect_container", "health_check", "teardown_all",
                     "start_health_polling", "sleep", "now"]
        let result = await LuaHarness.run("""
            local names = { \(names.map { "\"\($0)\"" }.joined(separator: ", ")) }
            for _, name in ipairs(names) do print(name, type(heph[name])) end
            """)
        #expect(result.lines == names.map { "\($0)\tfunction" })
    }

    @Test func theReferenceAndTheEditorDefinitionsNameExactlyTheModulesFunctions() async throws {
        let result = await LuaHarness.run("""
            local names = {}
            for name, value in pairs(heph) do if type(value) == "function" then names[#names + 1] = name end end
            table.sort(names)
            print(table.concat(names, " "))
            """)
        let exposed = Set((result.lines.first ?? "").split(separator: " ").map(String.init))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let reference = try String(contentsOf: root.appendingPathComponent("docs/lua-api.md"), encoding: .utf8)
        let definitions = try String(contentsOf: root.appendingPathComponent("types/heph.d.lua"), encoding: .utf8)
        // Rows of the reference's function table: | `heph.name(…)` | …
        let documented = Set(reference.split(separator: "\n").compactMap { line in Self.functionName(in: line, after: "| `heph.") })
        // Declarations of the definitions file: function heph.name(…)
        let declared = Set(definitions.split(separator: "\n").compactMap { line in Self.functionName(in: line, after: "function heph.") })
        #expect(exposed.count >= 14)
        #expect(documented == exposed)
        #expect(declared == exposed)
    }

    /// Sub-tables of functions stay in step too: `sim` (in `heph test`), documented in
    /// docs/testing.md and declared in the definitions; and any table of functions in
    /// `heph` (`heph.state`), documented in docs/lua-api.md.
    @Test func theReferenceAndTheEditorDefinitionsNameExactlyTheSubTablesFunctions() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("names") + "_test.lua").path
        try #"""
            local function names(t) local n = {} for k, v in pairs(t) do if type(v) == "function" then n[#n + 1] = k end end table.sort(n) return table.concat(n, " ") end
            test("names", function()
              print("sim " .. names(sim))
              for key, value in pairs(heph) do
                if type(value) == "table" and names(value) ~= "" then print("heph." .. key .. " " .. names(value)) end
              end
            end)
            """#.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = await TestRunner(options: TestRunner.Options()).run(file, name: "names")
        #expect(result.passed, "\(result.failure ?? "")")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let definitions = try String(contentsOf: root.appendingPathComponent("types/heph.d.lua"), encoding: .utf8).split(separator: "\n")
        let tables = String(decoding: result.output, as: UTF8.self).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(tables.first?.first == "sim")
        #expect(tables.contains { $0.first == "heph.state" })
        for fields in tables {
            let table = fields[0]
            let exposed = Set(fields.dropFirst())
            let reference = try String(contentsOf: root.appendingPathComponent(table == "sim" ? "docs/testing.md" : "docs/lua-api.md"), encoding: .utf8)
            let documented = Set(reference.split(separator: "\n").compactMap { Self.functionName(in: $0, after: "| `\(table).") })
            let declared = Set(definitions.compactMap { Self.functionName(in: $0, after: "function \(table).") })
            #expect(exposed.count >= (table == "sim" ? 13 : 1), "\(table): \(exposed)")
            #expect(documented == exposed, "\(table)")
            #expect(declared == exposed, "\(table)")
        }
    }

    /// `name` when `line` is `prefix` + `name(`…, with `name` of lowercase letters and `_`.
    static func functionName(in line: Substring, after prefix: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        let name = rest.prefix { $0.isLowercase || $0 == "_" }
        return !name.isEmpty && rest.dropFirst(name.count).hasPrefix("(") ? String(name) : nil
    }

    @Test func argumentsReachArgAndDots() async {
        let result = await LuaHarness.run("""
            print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
            """, name: "args.lua", arguments: ["a b", "--flag"])
        #expect(result.lines == ["args.lua\ta b\t--flag\t2\t2\ta b\t--flag"])
    }

    @Test func printConvertsLikeLua() async {
        let result = await LuaHarness.run("""
            print(nil, true, 1, 1.5, "s", setmetatable({}, { __tostring = function() return "custom" end }))
            print()
            """)
        #expect(result.lines == ["nil\ttrue\t1\t1.5\ts\tcustom", ""])
    }

    @Test func nowIsUnixSecondsWithAFraction() async {
        let before = Date().timeIntervalSince1970
        let result = await LuaHarness.run("print(string.format('%.6f', heph.now()))")
        let reported = Double(result.lines.first ?? "") ?? 0
        #expect(abs(reported - before) < 5)
        #expect(reported != reported.rounded())
    }

    @Test func sleepWaits() async {
        let result = await LuaHarness.run("""
            local started = heph.now()
            heph.sleep(0.2)  -- sleeping is the behaviour under test
            print(heph.now() - started >= 0.19)
            """)
        #expect(result.lines == ["true"])
    }

    @Test func aManagedCoroutineCannotYieldButScriptCoroutinesCan() async {
        let result = await LuaHarness.run("""
            print(coroutine.isyieldable())
            print(pcall(coroutine.yield, 1))
            local co = coroutine.wrap(function(a)
              local b = coroutine.yield(a + 1)
              heph.sleep(0.01)  -- sleeping is the behaviour under test: waits in place inside a coroutine of the script's own
              return b * 2
            end)
            print(co(1), co(21))
            """)
        #expect(result.failure == nil)
        #expect(result.lines == ["false", "false\tattempt to yield from outside a coroutine", "2\t42"])
    }

    @Test func waitingWorksWhereLuaCannotYield() async {
        // A sort comparator cannot yield: the call waits in place and still answers.
        let result = await LuaHarness.run("""
            local t = { 3, 1, 2 }
            table.sort(t, function(a, b) heph.sleep(0) return a < b end)  -- sleeping is the behaviour under test: a wait where Lua cannot yield
            print(table.concat(t, ","))
            """)
        #expect(result.failure == nil)
        #expect(result.lines == ["1,2,3"])
    }

    @Test func requireFindsModulesNextToTheScriptAndInHephPath() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("req"))
        let elsewhere = directory.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("return { answer = 42 }".utf8).write(to: directory.appendingPathComponent("helper.lua"))
        try Data("return { where = 'heph path' }".utf8).write(to: elsewhere.appendingPathComponent("shared.lua"))
        let script = directory.appendingPathComponent("main.lua")
        try Data("print(require('helper').answer, require('shared').where, require('cjson').encode({ 1, 2 }))".utf8).write(to: script)
        let result = await LuaHarness.run(LuaScript(.file(script.path)), searchPath: ["\(elsewhere.path)/?.lua"])
        #expect(result.failure == nil)
        #expect(result.lines == ["42\theph path\t[1,2]"])
    }

    @Test func errorsInTheMainChunkCarryPositionAndTraceback() async {
        let result = await LuaHarness.run("""
            local function inner() error("boom") end
            inner()
            """, name: "fail.lua")
        #expect(result.failure?.hasPrefix("fail.lua:1: boom\nstack traceback:\n") == true)
        #expect(result.failure?.contains("fail.lua:2: in main chunk") == true)
        #expect(result.failure?.contains("[heph]") == false)
    }

    @Test func nonStringErrorsAreDescribed() async {
        #expect(await LuaHarness.run("error({})", name: "t.lua").failure?.hasPrefix("t.lua:1: (error object is a table value)") == true)
        #expect(await LuaHarness.run("error()", name: "t.lua").failure?.hasPrefix("t.lua:1: (error object is a nil value)") == true)
        #expect(await LuaHarness.run(#"error("bad \xff byte")"#, name: "t.lua").failure?.hasPrefix("t.lua:1: bad \u{FFFD} byte") == true)
        let custom = await LuaHarness.run("error(setmetatable({}, { __tostring = function() return 'custom error' end }))", name: "t.lua")
        #expect(custom.failure?.hasPrefix("t.lua:1: custom error") == true)
    }

    @Test func syntaxErrorsAreTheCompilersMessageWithoutTraceback() async {
        let result = await LuaHarness.run("local x = = 1", name: "bad.lua")
        guard case .failed(let failure) = result.outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.kind == .syntax)
        #expect(failure.message == "bad.lua:1: unexpected symbol near '='")
    }

    @Test func aMissingFileIsOneLine() async {
        let result = await LuaHarness.run(LuaScript(.file("/nonexistent/script.lua")))
        guard case .failed(let failure) = result.outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.kind == .cannotOpen)
        #expect(failure.message == "cannot open /nonexistent/script.lua: No such file or directory")
    }

    @Test func aClosedRuntimeAnswersInsteadOfHanging() async {
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(backend: BackendSession(context: RunContext(environment: [:])), output: { _ in }))
        #expect(await runtime.run(LuaScript(.code("x = 1", name: "a"))) == .finished)
        await runtime.close()
        await runtime.close()
        #expect(await runtime.run(LuaScript(.code("x = 2", name: "b"))) == .failed(LuaFailure(kind: .runtime, message: "the Lua runtime is closed")))
        #expect(await runtime.checkedBridgeCalls() == 0)
    }

    @Test func closingMidRunEndsTheRunInsteadOfLeavingItHanging() async {
        let output = Recorder<String>()
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: BackendSession(context: RunContext(environment: [:])), output: { output.append(String(decoding: $0, as: UTF8.self)) }))
        let run = Task {
            await runtime.run(LuaScript(.code("heph.every(0.05, function() end)\nheph.after(0, function() print('in the loop') end)", name: "forever")))
        }
        // Closed once the run is in its event loop (a timer fired).
        _ = await Fixtures.eventually(timeout: .seconds(20)) { !output.all.isEmpty }
        await runtime.close()
        #expect(await run.value == .failed(LuaFailure(kind: .runtime, message: "the Lua runtime was closed")))
    }

    @Test func anUnreachableEngineIsAnErrorNamingTheFunction() async {
        let result = await LuaHarness.run("""
            print(pcall(heph.ping))
            print(pcall(heph.list_containers))
            """, environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(result.lines == [
            "false\theph.ping: cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such file or directory",
            "false\theph.list_containers: cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such file or directory",
        ])
    }
}
