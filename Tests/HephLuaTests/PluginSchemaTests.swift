import Foundation
import HephLua
import HephTestSupport
import Testing

/// The plugin table and its declared options (docs/plugins.md): one validator and one
/// message shape for every plugin, plugin files that are wrong in every way a file can be,
/// `stop` at shutdown, and `heph.plugins.NAME` on `package.path`. No engine: nothing here
/// calls it.
@Suite struct PluginSchemaTests {
    /// The plugin of the spec's example (docs/plugins.md), with a secret and a check.
    static let slowstart = """
        return {
          name = "slowstart", version = "1.2.0", description = "Waits before restarting what exits.",
          options = {
            delay   = { type = "number", default = 5, min = 0, doc = "seconds to wait" },
            mode    = { type = "string", one_of = { "soft", "hard" }, default = "soft" },
            events  = { type = "array", of = "string", one_of = { "unhealthy", "exit" }, default = { "exit" } },
            target  = { type = "target", doc = "a container name or { pattern = \\"…\\" }" },
            url     = { type = "string", required = true, check = function(v) return v:find("^https?://") ~= nil, "must be an http:// or https:// URL" end },
            token   = { type = "string", secret = true },
            tries   = { type = "number", integer = true, above = 0, max = 10, default = 3 },
            labels  = { type = { "string", "array" }, of = "string" },
            on_done = { type = "function" },
          },
          setup = function(heph, opts) return opts end,
        }
        """

    /// Runs `main` next to the files `files` (name → text).
    static func run(_ main: String, files: [String: String] = [:], searchPath: [String] = [], userPluginDirectory: String? = nil) async throws -> LuaHarness.Result {
        let directory = try LuaPluginTests.directory(files.merging(["main.lua": main]) { _, new in new })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return await LuaHarness.run(LuaScript(.file(directory + "/main.lua")), searchPath: searchPath, userPluginDirectory: userPluginDirectory)
    }

    @Test func everyOptionErrorHasOneShapeAndNamesTheFix() async throws {
        let cases: [(String, String)] = [
            (#"{ url = "http://x", dely = 3 }"#,
             #"unknown option "dely" (known: delay, events, labels, mode, on_done, target, token, tries, url; did you mean "delay"?)"#),
            (#"{ url = "http://x", zzz = 1 }"#, #"unknown option "zzz" (known: delay, events, labels, mode, on_done, target, token, tries, url)"#),
            (#"{ url = "http://x", [1] = true }"#, #"unknown option 1 (known: delay, events, labels, mode, on_done, target, token, tries, url)"#),
            (#"{ url = "http://x", delay = "x" }"#, #"option delay must be a number 0 or more, got "x""#),
            (#"{ url = "http://x", delay = -1 }"#, #"option delay must be a number 0 or more, got -1"#),
            (#"{ url = "http://x", delay = 0/0 }"#, #"option delay must be a number 0 or more, got nan (numbers must be finite)"#),
            (#"{ url = "http://x", delay = math.huge }"#, #"option delay must be a number 0 or more, got inf (numbers must be finite)"#),
            (#"{}"#, #"option url is required"#),
            (#"{ url = "ftp://x" }"#, #"option url must be an http:// or https:// URL, got "ftp://x""#),
            (#"{ url = "http://x", mode = "sfot" }"#, #"option mode must be "soft" or "hard", got "sfot" (did you mean "soft"?)"#),
            (#"{ url = "http://x", events = { "exit", "exitt" } }"#, #"option events[2] must be "unhealthy" or "exit", got "exitt" (did you mean "exit"?)"#),
            (#"{ url = "http://x", events = "exit" }"#, #"option events must be an array of "unhealthy" or "exit", got "exit""#),
            (#"{ url = "http://x", events = { "exit", x = 1 } }"#, #"option events must be an array of "unhealthy" or "exit", got a table"#),
            (#"{ url = "http://x", token = 42 }"#, #"option token must be a string, got a number (a secret: not shown)"#),
            (#"{ url = "http://x", tries = 2.5 }"#, #"option tries must be a whole number above 0 and at most 10, got 2.5"#),
            (#"{ url = "http://x", tries = 0 }"#, #"option tries must be a whole number above 0 and at most 10, got 0"#),
            (#"{ url = "http://x", labels = 7 }"#, #"option labels must be a string or an array of strings, got 7"#),
            (#"{ url = "http://x", labels = { "a", 2 } }"#, #"option labels must be a string or an array of strings, got a table"#),
            (#"{ url = "http://x", target = { name = "x" } }"#, #"option target must be a container name or { pattern = "..." }, got a table"#),
            (#"{ url = "http://x", on_done = "f" }"#, #"option on_done must be a function, got "f""#),
        ]
        let main = cases.map { "print(select(2, pcall(heph.use, \"slowstart\", \($0.0))))" }.joined(separator: "\n")
        let result = try await Self.run(main, files: ["slowstart.lua": Self.slowstart])
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == cases.map { "heph.use('slowstart'): " + $0.1 })
    }

    @Test func optionsGetTheirDefaultsACopyPerUseAndUndeclaredOptionsPassUnchecked() async throws {
        let result = try await Self.run("""
            local a = heph.use("slowstart", { url = "https://a", tries = 3.0, labels = { "x" }, target = { pattern = "^heph" } })
            local b = heph.use("slowstart", { url = "https://b", mode = "hard", events = { "unhealthy", "exit" } })
            print(a.delay, a.mode, a.events[1], #a.events, a.tries, a.labels[1], a.target.pattern, a.token, a.on_done)
            a.events[1] = "changed"
            print(b.delay, b.mode, b.events[1], b.events[2], b.url)
            print(heph.use("slowstart", { url = "https://c" }).events[1])
            -- A plugin that declares no options gets the table it was given, unchecked.
            local mine = { anything = { 1 } }
            print(heph.use("free", mine) == mine, heph.use("free") ~= nil)
            """, files: ["slowstart.lua": Self.slowstart, "free.lua": "return { setup = function(heph, opts) return opts end }"])
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == ["5\tsoft\texit\t1\t3.0\tx\t^heph\tnil\tnil", "5\thard\tunhealthy\texit\thttps://b", "exit", "true\ttrue"])
    }

    @Test func aPluginFileThatIsWrongSaysWhichFileAndHowToFixIt() async throws {
        let files = [
            "number.lua": "return 42",
            "nosetup.lua": "return { name = 'x' }",
            "badversion.lua": "return { version = 2, setup = function() end }",
            "badtype.lua": "return { setup = function() end, options = { delay = { type = 'nubmer' } } }",
            "notype.lua": "return { setup = function() end, options = { delay = { default = 1 } } }",
            "badfield.lua": "return { setup = function() end, options = { delay = { type = 'number', mni = 0 } } }",
            "baddefault.lua": "return { setup = function() end, options = { delay = { type = 'number', min = 0, default = '5' } } }",
            "both.lua": "return { setup = function() end, options = { url = { type = 'string', required = true, default = 'x' } } }",
            "badpattern.lua": "return { setup = function() end, options = { name = { type = 'string', pattern = '[' } } }",
            "raises.lua": "error('the module is broken')",
            "syntax.lua": "return {",
        ]
        let main = files.keys.sorted().map { "print(select(2, pcall(heph.use, \"\(($0 as NSString).deletingPathExtension)\")))" }.joined(separator: "\n")
        let directory = try LuaPluginTests.directory(files.merging(["main.lua": main]) { _, new in new })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = await LuaHarness.run(LuaScript(.file(directory + "/main.lua")))
        #expect(result.failure == nil, "\(result.failure ?? "")")
        let lines = result.lines
        let expected: [String: String] = [
            "baddefault": "heph.use('baddefault'): \(directory)/baddefault.lua: the default of delay must be a number 0 or more, got \"5\"",
            "badfield": "heph.use('badfield'): \(directory)/badfield.lua: option delay has the unknown field \"mni\" in its declaration (known: above, check, default, doc, integer, max, min, of, one_of, pattern, required, secret, type; did you mean \"min\"?)",
            "badpattern": "heph.use('badpattern'): \(directory)/badpattern.lua: option name: pattern \"[\" is not a Lua pattern: malformed pattern (missing ']')",
            "badtype": "heph.use('badtype'): \(directory)/badtype.lua: option delay has the unknown type \"nubmer\" (known: array, boolean, function, number, string, table, target; did you mean \"number\"?)",
            "badversion": "heph.use('badversion'): \(directory)/badversion.lua: the plugin's version must be a string, got 2",
            "both": "heph.use('both'): \(directory)/both.lua: option url is required and has a default; keep one of the two",
            "nosetup": "heph.use('nosetup'): \(directory)/nosetup.lua: it returns a table without a setup function; add setup = function(heph, opts) ... end to it",
            "notype": "heph.use('notype'): \(directory)/notype.lua: option delay declares no type; add one, such as type = \"string\" (known: array, boolean, function, number, string, table, target)",
            "number": "heph.use('number'): \(directory)/number.lua: it returns 42; a plugin module returns a table with a setup function, such as return { setup = function(heph, opts) ... end }",
        ]
        for (index, name) in files.keys.sorted().map({ ($0 as NSString).deletingPathExtension }).enumerated() {
            guard index < lines.count else { Issue.record("no line for \(name): \(lines)"); continue }
            if let line = expected[name] {
                #expect(lines[index] == line)
            } else if name == "raises" {
                #expect(lines[index].hasPrefix("heph.use('raises'): \(directory)/raises.lua failed while it loaded: "), "\(lines[index])")
                #expect(lines[index].hasSuffix("raises.lua:1: the module is broken"), "\(lines[index])")
            } else {
                #expect(lines[index].hasPrefix("heph.use('syntax'): \(directory)/syntax.lua does not compile: "), "\(lines[index])")
            }
        }
    }

    @Test func aSetupThatRaisesLeavesNothingRegisteredAndAPluginCannotUseItself() async throws {
        let result = try await Self.run("""
            print(select(2, pcall(heph.use, "halfway")))
            print(select(2, pcall(heph.use, "selfish")))
            print(select(2, pcall(heph.use, "recursive")))
            -- Were any of their hooks or timers left, the run would not end: it ends here.
            heph.after(0.5, function() print("the timer of the script") end)
            """, files: [
                "halfway.lua": """
                    heph.every(0.1, function() print("the module's timer fired") end)
                    return { setup = function(heph)
                      heph.on("exit", function() end)
                      heph.every(0.1, function() print("the setup's timer fired") end)
                      heph.use("inner")
                      error("setup gives up")
                    end }
                    """,
                "inner.lua": "return { setup = function(heph) heph.every(0.1, function() print('the inner timer fired') end) end }",
                "selfish.lua": "return { setup = function(heph) heph.use('selfish') end }",
                "recursive.lua": "require('recursive'); return { setup = function() end }",
            ])
        #expect(result.outcome == .finished, "\(result.failure ?? "")")
        // (Lua's own message for the require loop takes two lines.)
        #expect(result.lines.count == 5, "\(result.lines)")
        #expect(result.lines.first?.contains("heph.use('halfway'): the setup of ") == true, "\(result.lines)")
        #expect(result.lines.first?.hasSuffix("halfway.lua:6: setup gives up") == true, "\(result.lines)")
        #expect(result.lines.dropFirst().first?.contains("heph.use('selfish'): plugin selfish is used again while it loads (its module or setup, or a plugin they use, calls heph.use(\"selfish\")); a plugin cannot use itself") == true, "\(result.lines)")
        #expect(result.lines.dropFirst(2).first?.hasPrefix("heph.use('recursive'): ") == true, "\(result.lines)")
        #expect(result.lines.dropFirst(3).first?.hasSuffix("stack overflow (does the module require itself?)") == true, "\(result.lines)")
        #expect(result.lines.last == "the timer of the script")
    }

    @Test func stopRunsAtShutdownAfterTheScriptsHandlersOneAfterAnotherTheLastPluginFirst() async throws {
        let plugin = { (name: String) in
            "return { setup = function(heph) heph.every(60, function() end) end, stop = function() print('stop \(name)'); heph.sleep(0.05); print('stopped \(name)') end }"
        }
        let result = try await Self.run("""
            heph.use("first")
            heph.use("second")
            heph.use("broken")
            heph.on_shutdown(function() print("on_shutdown"); heph.sleep(0.1); print("on_shutdown done") end)
            heph.after(0, function() heph.exit(0) end)
            """, files: ["first.lua": plugin("first"), "second.lua": plugin("second"),
                         "broken.lua": "return { setup = function() end, stop = function() error('cannot stop') end }"])
        #expect(result.outcome == .exited(0))
        #expect(result.lines == ["on_shutdown", "on_shutdown done", "stop second", "stopped second", "stop first", "stopped first"])
        #expect(result.diagnostics.contains("the stop function of plugin broken failed: "), "\(result.diagnostics)")
        #expect(result.diagnostics.contains("cannot stop"), "\(result.diagnostics)")
    }

    @Test func whatAFailedLoadRegisteredIsGoneAndThePluginCanBeUsedAgain() async throws {
        let result = try await Self.run("""
            print(select(2, pcall(heph.use, "tablecheck", { x = "a" })))
            print(select(2, pcall(heph.use, "tablecheck", { x = "a" })))
            print(select(2, pcall(heph.use, "outer")))
            heph.after(0.2, function() print("the script's timer"); heph.exit(0) end)
            heph.on_shutdown(function() print("the script's on_shutdown") end)
            """, files: [
                "tablecheck.lua": "return { setup = function() end, options = { x = { type = 'string', check = function() error({ code = 1 }) end } } }",
                "outer.lua": """
                    return { setup = function(heph)
                      heph.use("inner")
                      heph.on_shutdown(function() print("the failed setup's on_shutdown") end)
                      error("outer gives up")
                    end }
                    """,
                "inner.lua": "return { setup = function() end, stop = function() print('the inner plugin stopped') end }",
            ])
        #expect(result.outcome == .exited(0), "\(result.failure ?? "")")
        let check = "heph.use('tablecheck'): option x: the plugin's check of it failed: (error object is a table value)"
        #expect(Array(result.lines.prefix(2)) == [check, check])
        #expect(result.lines.dropFirst(2).first?.hasSuffix("outer.lua:4: outer gives up") == true, "\(result.lines)")
        #expect(Array(result.lines.dropFirst(3)) == ["the script's timer", "the script's on_shutdown"])
    }

    @Test func aDeclarationThatNoValueCouldPassOrThatIsMisspeltIsAFault() async throws {
        let declarations: [(String, String)] = [
            ("{ x = { type = 'number', min = 5, max = 1 } }", "option x: min 5 is above max 1; no value could pass"),
            ("{ x = { type = 'number', above = 3, max = 3 } }", "option x: above 3 is not below max 3; no value could pass"),
            ("{ x = { type = 'number', one_of = { 1, 2 } } }", "option x: one_of applies to a array or string, not to its type number"),
            ("{ x = { type = 'string', integer = true } }", "option x: integer applies to a number, not to its type string"),
            ("{ x = { type = 'array', of = {} } }", "option x: of must be a type name or a non-empty list of them, got a table"),
            ("{ x = { type = 'string', one_of = { 'a', 2 } } }", "option x: one_of of a string lists strings, got 2"),
        ]
        var files = ["misspelt.lua": "return { descripton = 'x', setup = function() end }"]
        for (index, declaration) in declarations.enumerated() { files["p\(index).lua"] = "return { setup = function() end, options = \(declaration.0) }" }
        // A hostile list in a declaration is read raw: its metatable never runs.
        files["hostile.lua"] = "return { setup = function(heph, o) return o.x end, options = { x = { type = 'string', one_of = setmetatable({ 'a' }, { __index = function(_, i) return 'v' .. i end, __len = function() return 1e9 end }) } } }"
        let main = (0..<declarations.count).map { "print(select(2, pcall(heph.use, 'p\($0)')))" }.joined(separator: "\n")
            + "\nprint(select(2, pcall(heph.use, 'misspelt')))\nprint(heph.use('hostile', { x = 'a' }), select(2, pcall(heph.use, 'hostile', { x = 'v2' })))"
        let directory = try LuaPluginTests.directory(files.merging(["main.lua": main]) { _, new in new })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = await LuaHarness.run(LuaScript(.file(directory + "/main.lua")))
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(Array(result.lines.prefix(declarations.count)) == declarations.enumerated().map { "heph.use('p\($0.offset)'): \(directory)/p\($0.offset).lua: \($0.element.1)" })
        #expect(result.lines.dropFirst(declarations.count).first == "heph.use('misspelt'): \(directory)/misspelt.lua: the plugin's field \"descripton\" is not one heph reads; did you mean \"description\"?")
        #expect(result.lines.last == "a\theph.use('hostile'): option x must be \"a\", got \"v2\"")
    }

    @Test func defaultsThatShareOrCycleAreCopiedOnceAndCyclesThroughCoroutinesEnd() async throws {
        let result = try await Self.run("""
            local a = heph.use("shared")
            print(a.t[1] == a.t, a.t[2] == a.t, a.t ~= heph.use("shared").t)
            print(select(2, pcall(heph.use, "wrapped")))
            """, files: [
                "shared.lua": "local t = {}; t[1] = t; t[2] = t; return { setup = function(heph, o) return o end, options = { t = { type = 'table', default = t } } }",
                "wrapped.lua": "return { setup = function(heph) return coroutine.wrap(function() return heph.use('wrapped') end)() end }",
            ])
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines.first == "true\ttrue\ttrue")
        #expect(result.lines.dropFirst().first?.contains("32 plugins are loading at once, one inside the other (does a plugin use itself from a coroutine of its own?)") == true, "\(result.lines)")
    }

    @Test func aPluginOnPackagePathComesAfterTheUsersAndBeforeTheBuiltIns() async throws {
        let tree = try LuaPluginTests.directory([
            "share/lua/5.4/heph/plugins/rocked.lua": "return { name = 'rocked', setup = function() return 'from package.path' end }",
            "share/lua/5.4/heph/plugins/mine.lua": "return { setup = function() return 'from package.path' end }",
            "share/lua/5.4/heph/plugins/restart.lua": "return { setup = function() return 'restart from package.path' end }",
            "share/lua/5.4/heph/plugins/team/tool.lua": "return { setup = function() return 'team.tool from package.path' end }",
        ])
        let user = try LuaPluginTests.directory(["mine.lua": "return { setup = function() return 'from the user' end }"])
        defer { for path in [tree, user] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try await Self.run("""
            package.path = "\(tree)/share/lua/5.4/?.lua;" .. package.path
            print(heph.use("rocked"))
            print(heph.use("mine"))
            print(heph.use("restart"))
            print(heph.use("team.tool"))
            """, userPluginDirectory: user)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == ["from package.path", "from the user", "restart from package.path", "team.tool from package.path"])
    }
}
