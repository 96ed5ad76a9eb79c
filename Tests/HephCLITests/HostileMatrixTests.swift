import Foundation
import HephTestSupport
import Testing

/// Every class of hostile Lua (script code is hostile: rule 6 of the design) in every place heph runs script code,
/// each cell a `heph` process of its own: heph never crashes, never hangs past its limits,
/// reports with a traceback, and the loop goes on. docs/reliability.md lists the classes.
@Suite(.usesEngine) struct HostileMatrixTests {
    /// What a class of hostile code does when it runs unhindered.
    enum Kind: Sendable {
        /// Raises (or makes Lua raise): reported with a traceback.
        case raises
        /// Never returns by itself: the time limit (or an interrupt) stops it, `pcall` or not.
        case loops
        /// Does something odd but harmless: nothing to report, the loop goes on.
        case harmless
        /// Runs where Lua cannot interrupt it (a finalizer loops): the watch thread ends
        /// heph with exit 124, naming the cause.
        case stuck
        /// Ends the process on purpose (`os.exit(0, true)`): as `heph.exit(0)`.
        case exits
    }

    /// A class: one line of Lua, what it does, and what else must show.
    struct Hostile: Sendable, CustomTestStringConvertible {
        var name: String
        var code: String
        var kind: Kind
        /// Bytes standard output must hold as well (what a __close handler printed, say).
        var printed: [UInt8]? = nil
        /// Text standard error must hold as well, where the code runs in a coroutine of
        /// heph's (inside the REPL's printer or an error's text, a pcall of heph's is
        /// what catches it).
        var reported: String? = nil
        var testDescription: String { name }
    }

    static let classes: [Hostile] = [
        Hostile(name: "__tostring that raises", code: "error(setmetatable({}, { __tostring = error }))", kind: .raises),
        Hostile(name: "__tostring that loops", code: "error(setmetatable({}, { __tostring = function() while true do end end }))", kind: .raises),
        Hostile(name: "__tostring that returns a number", code: "error(setmetatable({}, { __tostring = function() return 42 end }))", kind: .raises),
        Hostile(name: "__tostring that recurses", code: "error(setmetatable({}, { __tostring = function(t) return tostring(t) end }))", kind: .raises),
        Hostile(name: "__tostring that yields", code: "error(setmetatable({}, { __tostring = function() coroutine.yield() end }))", kind: .raises),
        Hostile(name: "error(nil)", code: "error(nil)", kind: .raises),
        Hostile(name: "an error that is a table", code: "error({ code = 7 })", kind: .raises),
        Hostile(name: "an error that is a coroutine", code: "error(coroutine.create(print))", kind: .raises),
        Hostile(name: "pcall around a loop", code: "while true do pcall(function() while true do end end) end", kind: .loops),
        Hostile(name: "xpcall with a looping handler", code: "while true do xpcall(function() while true do end end, function() while true do end end) end", kind: .loops),
        Hostile(name: "a <close> variable on failure", code: "local x <close> = setmetatable({}, { __close = function() print('closed') end }); error('boom')",
                kind: .raises, printed: Array("closed\n".utf8)),
        Hostile(name: "a <close> handler that loops", code: "local x <close> = setmetatable({}, { __close = function() while true do end end }); error('boom')",
                kind: .raises, reported: "__close handler"),
        Hostile(name: "a finalizer that loops", code: "setmetatable({}, { __gc = function() while true do end end }); collectgarbage()", kind: .stuck),
        Hostile(name: "a finalizer that raises", code: "setmetatable({}, { __gc = function() error('in gc') end }); collectgarbage(); collectgarbage()",
                kind: .harmless, reported: "a finalizer (__gc) failed"),
        Hostile(name: "an __index chain", code: "local t = {}; for i = 1, 5000 do t = setmetatable({}, { __index = t }) end; return t.missing", kind: .raises),
        Hostile(name: "an __index that recurses", code: "local t = setmetatable({}, { __index = function(t, k) return t[k] end }); return t.x", kind: .raises),
        Hostile(name: "debug.sethook", code: "debug.sethook()", kind: .raises),
        Hostile(name: "debug.setmetatable on strings and numbers",
                code: "debug.setmetatable('', { __index = error }); debug.setmetatable(0, { __index = error, __call = error }); return ('x').y", kind: .raises),
        Hostile(name: "debug.getregistry", code: "debug.getregistry()[1] = nil", kind: .raises),
        Hostile(name: "debug.setupvalue on heph's functions", code: "debug.setupvalue(heph.sleep, 1, nil)", kind: .raises),  // not a sleep: heph.sleep as the target
        Hostile(name: "coroutine.close of heph's coroutine", code: "coroutine.close(coroutine.running())", kind: .raises),
        Hostile(name: "coroutine.resume of heph's coroutine", code: "assert(coroutine.resume(coroutine.running()))", kind: .raises),
        Hostile(name: "_G with __index = error", code: "setmetatable(_G, { __index = error }); return undefined_global", kind: .raises),
        Hostile(name: "os.exit(0, true)", code: "os.exit(0, true)", kind: .exits),
        Hostile(name: "a string.rep memory bomb", code: "local s = string.rep('x', 1 << 30)", kind: .raises),
        Hostile(name: "a table growing without end", code: "local t = {}; for i = 1, 1e9 do t[i] = ('x'):rep(1e4) .. i end", kind: .raises),
        // sleeping is the behaviour under test: heph.sleep called through pcall.
        Hostile(name: "yields across pcall", code: "pcall(coroutine.yield); pcall(heph.sleep, 0.01)", kind: .harmless),
        Hostile(name: "load with a reader that waits", code: "load(function() heph.sleep(0.3) end)", kind: .harmless),  // sleeping is the behaviour under test: a wait where Lua cannot yield
        Hostile(name: "bytes that are not UTF-8", code: "print('caf\\xe9')", kind: .harmless, printed: [0x63, 0x61, 0x66, 0xE9, 0x0A]),
    ]

    /// Where heph runs script code.
    enum Entry: String, CaseIterable, Sendable {
        case mainChunk = "main chunk", hook, timer, pollerCallback = "poller callback", shutdownHandler = "shutdown handler"
        case repl = "REPL", replPrinter = "REPL printer", check = "heph check", errorReporting = "error reporting"
        case test = "heph test"
        /// A plugin's module, loaded by `heph plugins NAME` (no engine, sandboxed, under the
        /// hook time limit).
        case plugins = "heph plugins NAME"
        /// A statement typed in a `heph attach` session, inside a running watcher (the
        /// process under test is the watcher).
        case attach = "heph attach"
        /// The main chunk of a script a running watcher reloads (`heph reload`): the
        /// process under test is the watcher.
        case reload = "heph reload"
    }

    /// The time limit of callbacks in every cell, and how often the cell's last timer
    /// looks whether the hostile code ran (then says the loop went on).
    static let hookTimeout = 0.2
    static let goesOnAfter = 0.8

    /// Cells running at once: each is a heph process, some of them busy for a second.
    static let slots = ProcessSlots(4)

    @Test(arguments: Entry.allCases, classes)
    func hostileCodeNeverTakesHephDown(entry: Entry, hostile: Hostile) async throws {
        try await Self.slots.with { try await Self.cell(entry, hostile) }
    }

    static func cell(_ entry: Entry, _ hostile: Hostile) async throws {
        if entry == .attach { return try await attachCell(hostile) }
        if entry == .reload { return try await reloadCell(hostile) }
        let name = TestNames.unique("hostile")
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).lua").path
        defer {
            try? FileManager.default.removeItem(atPath: script)
            if entry == .hook { Docker.forceRemove(["heph-\(name)"]) }
        }
        try Self.script(entry, hostile.code, container: name).write(toFile: script, atomically: true, encoding: .utf8)
        let limits = ["--memory-limit", "256"]
        let process: HephProcess
        switch entry {
        case .repl, .replPrinter:
            process = try HephProcess(["repl"] + limits, input: Self.replInput(entry, hostile.code))
        case .check:
            process = try HephProcess(["check", "--memory-limit", "256", script])
        case .test:
            process = try HephProcess(["test", "-v", "--memory-limit", "256", script])
        case .plugins:
            process = try HephProcess(["plugins", "--memory-limit", "256", name], environment: ["HEPH_PATH": FileManager.default.temporaryDirectory.path + "/?.lua"])
        default:
            process = try HephProcess.run(limits + [script])
        }
        // Where nothing limits the time (the main chunk, a statement at the prompt), the
        // operator's Ctrl-C does.
        let interruptible: Set<Entry> = [.mainChunk, .check, .repl]
        if interruptible.contains(entry), hostile.kind == .loops || hostile.kind == .stuck {
            #expect(await process.waitFor("ready"))
            // Signalled once the hostile code spins (rather than between "ready" and it).
            _ = await process.waitUntilComputing()
            process.signal(SIGINT)
        }
        // What Lua cannot interrupt is ended after seconds of the Lua thread's CPU time,
        // which a loaded machine gives out slowly: the stuck class waits longer.
        let status = await process.status(timeout: .seconds(hostile.kind == .stuck ? 60 : 20))
        let context = Comment(rawValue: "\(entry.rawValue) × \(hostile.name): exit \(status.map(String.init) ?? "none (killed)")\nstdout: \(process.stdout.prefix(600))\nstderr: \(process.stderr.prefix(1500))")
        #expect(status != nil, context)  // never hangs
        guard let status else { return }
        #expect(![132, 133, 134, 135, 136, 139].contains(status), context)  // SIGILL (Swift's traps), SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV: never crashes
        let expected = Self.expected(entry, hostile.kind)
        #expect(status == expected.status, context)
        for text in expected.stdout { #expect(process.stdout.contains(text), "wanted \(text) on stdout; \(context)") }
        for text in expected.stderr { #expect(process.stderr.contains(text), "wanted \(text) on stderr; \(context)") }
        if let printed = hostile.printed, hostile.kind != .stuck {
            #expect(process.stdoutBytes.contains(printed), "wanted \(printed) on stdout; \(context)")
        }
        // (A module that `heph plugins NAME` loads runs inside heph's protected call: a
        // looping __close handler there is stopped by the module's own time limit, which
        // the report names instead.)
        if let reported = hostile.reported, status != 124, entry != .replPrinter, entry != .errorReporting || hostile.kind != .raises,
           entry != .plugins || hostile.name != "a <close> handler that loops" {
            // heph test shows a test's reports with what it printed.
            let shown = entry == .test ? process.stdout : process.stderr
            #expect(shown.contains(reported), "wanted \(reported) in the report; \(context)")
        }
    }

    /// A cell of ``Entry/attach``: a watcher runs; a session types the code, then a line
    /// that shows the session went on; the watcher must go on too (unless the code ends it
    /// on purpose, or Lua cannot stop it: then it ends as a run would), until its Ctrl-C.
    static func attachCell(_ hostile: Hostile) async throws {
        let project = TestNames.project()
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("hostile")).lua").path
        defer {
            try? FileManager.default.removeItem(atPath: script)
            Docker.removeProjects([project])
        }
        let watcher = try await Self.watcher(project, script: script, code: Self.watcherScript)
        let session = try HephProcess(["attach", "-p", project], input: "do \(hostile.code) end\nprint('after')\n")
        let ended = await session.status(timeout: .seconds(hostile.kind == .stuck ? 60 : 20))
        let context = Comment(rawValue: "heph attach × \(hostile.name): session exit \(ended.map(String.init) ?? "none")\nsession stdout: \(session.stdout.prefix(600))\nsession stderr: \(session.stderr.prefix(1500))\nwatcher stderr: \(watcher.stderr.prefix(1500))")
        #expect(ended == 0, context)  // the session ends by itself, whatever the code did
        switch hostile.kind {
        case .stuck, .exits:
            let status = await watcher.status(timeout: .seconds(60))
            #expect(status == (hostile.kind == .stuck ? 124 : 0), context)
            if hostile.kind == .stuck { #expect(watcher.stderr.contains("heph ends now (exit 124)"), context) }
            if hostile.kind == .exits { #expect(watcher.stdout.contains("shutdown ran"), context) }
            return
        case .raises:
            #expect(session.stderr.contains("stdin:") && session.stderr.contains("stack traceback:"), context)
        case .loops:
            #expect(session.stderr.contains("heph.config.hook_timeout"), context)
        case .harmless:
            break
        }
        #expect(session.stdout.contains("after"), context)
        if let printed = hostile.printed { #expect(session.stdoutBytes.contains(printed), "wanted \(printed) in the session; \(context)") }
        if let reported = hostile.reported { #expect(watcher.stderr.contains(reported), "wanted \(reported) in the watcher's report; \(context)") }
        #expect(watcher.isRunning, context)
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, context)
        #expect(watcher.stdout.contains("shutdown ran"), context)
    }

    /// What the watcher of an attach or reload cell runs first.
    static let watcherScript = """
        heph.config.hook_timeout = \(hookTimeout)
        heph.on_shutdown(function() print("shutdown ran") end)
        heph.every(3600, function() end)
        print("ready", #heph.list_containers())

        """

    /// A watcher of a project of its own, running `script` (written with `code` first), once
    /// `heph status` lists it.
    static func watcher(_ project: String, script: String, code: String) async throws -> HephProcess {
        try code.write(toFile: script, atomically: true, encoding: .utf8)
        let watcher = try HephProcess(["run", "--memory-limit", "256", "-p", project, script])
        #expect(await watcher.waitFor("ready", timeout: .seconds(30)), "\(watcher.stderr)")
        #expect(await Fixtures.eventually(timeout: .seconds(60)) {  // an overloaded engine registers slowly
            (try? await HephBinary.run(["status", "-p", project]))?.stdout.contains(" \(watcher.pid) ") == true
        }, "\(watcher.stderr)")
        return watcher
    }

    /// A cell of ``Entry/reload``: a watcher runs; its script file is rewritten with the
    /// code in the main chunk and reloaded. What raises, loops (under the time limit: nobody
    /// is there to press Ctrl-C) or ends on purpose is refused, and the old script goes on;
    /// what is harmless is taken; what Lua cannot stop ends the watcher as a run would.
    static func reloadCell(_ hostile: Hostile) async throws {
        let project = TestNames.project()
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("hostile")).lua").path
        defer {
            try? FileManager.default.removeItem(atPath: script)
            Docker.removeProjects([project])
        }
        let watcher = try await Self.watcher(project, script: script, code: Self.watcherScript)
        try """
            heph.config.hook_timeout = \(hookTimeout)
            heph.on_shutdown(function() print("new shutdown ran") end)
            heph.every(3600, function() end)
            do \(hostile.code) end
            print("new after")

            """.write(toFile: script, atomically: true, encoding: .utf8)
        let reload = try HephProcess(["reload", "-p", project])
        let reloaded = await reload.status(timeout: .seconds(hostile.kind == .stuck ? 60 : 20))
        let context = Comment(rawValue: "heph reload × \(hostile.name): reload exit \(reloaded.map(String.init) ?? "none")\nreload stdout: \(reload.stdout.prefix(600))\nreload stderr: \(reload.stderr.prefix(1500))\nwatcher stdout: \(watcher.stdout.prefix(600))\nwatcher stderr: \(watcher.stderr.prefix(1500))")
        if hostile.kind == .stuck {
            #expect(await watcher.status(timeout: .seconds(60)) == 124, context)
            #expect(watcher.stderr.contains("heph ends now (exit 124)"), context)
            return
        }
        switch hostile.kind {
        case .raises:
            #expect(reloaded == 1 && reload.stderr.contains("refused the new script"), context)
        case .loops:
            #expect(reloaded == 1 && reload.stderr.contains("heph.config.hook_timeout"), context)
        case .exits:
            #expect(reloaded == 1 && reload.stderr.contains("called heph.exit(0) in its main chunk"), context)
        case .harmless, .stuck:
            #expect(reloaded == 0, context)
            #expect(watcher.stdout.contains("new after"), context)
        }
        if let printed = hostile.printed { #expect(watcher.stdoutBytes.contains(printed), "wanted \(printed) in the watcher's output; \(context)") }
        if let reported = hostile.reported { #expect(watcher.stderr.contains(reported) || reload.stderr.contains(reported), "wanted \(reported) reported; \(context)") }
        // Refused or taken, the watcher goes on, and its handlers (the old state's or the
        // new one's) run at its end; a refused state's never do.
        #expect(watcher.isRunning, context)
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, context)
        #expect(watcher.stdout.contains(hostile.kind == .harmless ? "new shutdown ran" : "shutdown ran"), context)
        if hostile.kind != .harmless { #expect(!watcher.stdout.contains("new shutdown ran"), context) }
    }

    /// The script of a cell: `code` where `entry` runs it.
    static func script(_ entry: Entry, _ code: String, container: String) -> String {
        let prologue = """
            heph.config.hook_timeout = \(hookTimeout)
            heph.on_shutdown(function() print("shutdown ran") end)
            local started = false
            local function goes_on()
              heph.every(\(goesOnAfter), function() if started then print("the loop goes on"); heph.exit(0) end end)
            end

            """
        switch entry {
        case .mainChunk, .check, .repl, .replPrinter:
            return prologue + "print(\"ready\")\ndo \(code) end\nprint(\"after\")\n"
        case .timer:
            return prologue + "heph.after(0, function() started = true; do \(code) end end)\ngoes_on()\n"
        case .hook:
            return prologue + """
                heph.on("created", "\(container)", function() started = true; do \(code) end end)
                heph.create_container({ image = "heph/busybox:latest", name = "\(container)", cmd = { "sleep", "30" } })
                goes_on()

                """
        case .pollerCallback:
            return prologue + "local poller; poller = heph.start_health_polling(0.05, function() started = true; poller:stop(); do \(code) end end)\ngoes_on()\n"
        case .test:
            // The test's function runs under the time limit (read at each resume: the sleep).
            return "heph.config.hook_timeout = \(hookTimeout)\nheph.sleep(0)\ntest(\"hostile\", function()\n"
                + "heph.on_shutdown(function() print(\"shutdown ran\") end)\nprint(\"ready\")\ndo \(code) end\nprint(\"after\")\nend)\n"
        case .shutdownHandler:
            return "heph.config.hook_timeout = \(hookTimeout)\nheph.on_shutdown(function() do \(code) end end)\nheph.on_shutdown(function() print(\"shutdown ran\") end)\n"
        case .plugins:
            // The module runs under the time limit (read at each resume: the sleep).
            return "heph.config.hook_timeout = \(hookTimeout)\nheph.on_shutdown(function() print(\"shutdown ran\") end)\nheph.sleep(0)\n"
                + "print(\"ready\")\ndo \(code) end\nprint(\"after\")\nreturn { setup = function() end }\n"
        case .errorReporting:
            return prologue + "heph.after(0, function() started = true; error(setmetatable({}, { __tostring = function() do \(code) end end })) end)\ngoes_on()\n"
        case .attach, .reload:
            return ""  // attachCell and reloadCell write their own
        }
    }

    /// What a REPL cell types: the code as a statement, or inside `__len` of a value the
    /// prompt prints.
    static func replInput(_ entry: Entry, _ code: String) -> String {
        let statement = entry == .repl ? "do \(code) end" : "setmetatable({ 1 }, { __len = function() do \(code) end; return 1 end })"
        return "heph.config.hook_timeout = \(hookTimeout)\nheph.on_shutdown(function() print('shutdown ran') end)\nprint('ready')\n\(statement)\nprint('the loop goes on')\n"
    }

    /// The exit status and the text a cell must show.
    static func expected(_ entry: Entry, _ kind: Kind) -> (status: Int32, stdout: [String], stderr: [String]) {
        let stuck = "heph ends now (exit 124)"
        switch (entry, kind) {
        case (_, .stuck):
            return (124, [], [stuck])
        case (.plugins, .exits):
            return (1, ["shutdown ran"], ["ended the run (heph.exit or os.exit, code 0) while it loaded"])
        case (.test, .exits):
            return (1, ["not ok - hostile: ", "heph.exit(0) before the test's function returned", "shutdown ran", "0 passed, 1 failed"], [])
        case (.test, .raises):
            return (1, ["not ok - hostile: ", "shutdown ran", "0 passed, 1 failed"], [])
        case (.test, .loops):
            return (1, ["not ok - hostile: ", "heph.config.hook_timeout", "shutdown ran", "0 passed, 1 failed"], [])
        case (.test, .harmless):
            return (0, ["ok - hostile", "after", "shutdown ran", "1 passed, 0 failed"], [])
        case (_, .exits):
            return (0, ["shutdown ran"], [])
        case (.plugins, .raises):
            return (1, ["shutdown ran"], [])
        case (.plugins, .loops):
            return (1, ["shutdown ran"], ["heph.config.hook_timeout"])
        case (.plugins, .harmless):
            return (0, ["after", "shutdown ran"], [])
        case (.mainChunk, .raises), (.check, .raises):
            return (1, ["shutdown ran"], ["stack traceback:"])
        case (.mainChunk, .loops), (.check, .loops):
            return (130, ["shutdown ran"], [])
        case (.mainChunk, .harmless), (.check, .harmless):
            return (0, ["after", "shutdown ran"], [])
        case (.repl, .raises):
            return (0, ["the loop goes on", "shutdown ran"], ["stdin:", "stack traceback:"])
        case (.repl, .loops):
            return (0, ["the loop goes on", "shutdown ran"], ["interrupted"])
        case (.replPrinter, .raises), (.replPrinter, .loops):
            return (0, ["cannot print the result", "the loop goes on", "shutdown ran"], [])
        case (.repl, .harmless), (.replPrinter, .harmless):
            return (0, ["the loop goes on", "shutdown ran"], [])
        case (.shutdownHandler, .raises), (.shutdownHandler, .loops):
            return (0, ["shutdown ran"], ["an on_shutdown handler failed", "stack traceback:"])
        case (.shutdownHandler, .harmless):
            return (0, ["shutdown ran"], [])
        case (.errorReporting, _):
            return (0, ["the loop goes on", "shutdown ran"], ["(error object is a table value)", "stack traceback:"])
        case (_, .raises), (_, .loops):
            return (0, ["the loop goes on", "shutdown ran"], ["failed", "stack traceback:"])
        case (_, .harmless):
            return (0, ["the loop goes on", "shutdown ran"], [])
        }
    }
}
