import Foundation
import HephTestSupport
import Testing

/// Plugins as a user meets them through the binary: `heph plugins NAME` against `heph
/// plugins SCRIPT`, `heph check` naming a bad option without an engine, heph.http.request
/// over TLS and under `--sandbox`, and the example plugin published as a rock: installed
/// with Debian's luarocks into a tree of the test's own, found through `package.path`, and
/// posting a real container's transitions to a server that records them.
@Suite(.usesEngine) struct PluginCommandTests {
    /// A directory with `files`, removed by the caller.
    static func directory(_ files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + TestNames.unique("plugin-command")
        for (name, text) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        return path
    }

    static let slowstart = """
        return {
          name = "slowstart", version = "1.2.0", description = "Waits before restarting what exits.",
          options = {
            delay  = { type = "number", default = 5, min = 0, doc = "seconds to wait" },
            mode   = { type = "string", one_of = { "soft", "hard" }, default = "soft" },
            events = { type = "array", of = "string", one_of = { "unhealthy", "exit" }, default = { "exit" } },
            url    = { type = "string", required = true, doc = "where to say it" },
            token  = { type = "string", secret = true, default = "hidden" },
          },
          setup = function(heph, opts) end,
          stop = function() end,
        }
        """

    @Test func pluginsNameDescribesOnePluginAndPluginsScriptListsWhatTheScriptFinds() async throws {
        let directory = try Self.directory([
            "slowstart.lua": Self.slowstart, "main.lua": "heph.use('slowstart', { url = 'x' })",
            "badtype.lua": "return { setup = function() end, options = { delay = { type = 'nubmer' } } }",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let described = try await HephBinary.run(["plugins", "slowstart"], directory: directory)
        #expect(described.status == 0, "\(described.stderr)")
        #expect(described.stdout == """
            slowstart 1.2.0
            Waits before restarting what exits.
            found: ./slowstart.lua (next to the script)
            stops: its stop function runs at shutdown

            OPTION   TYPE                          DEFAULT      REQUIRED   DOC
            delay    number >= 0                   5                       seconds to wait
            events   array of "unhealthy"|"exit"   { "exit" }
            mode     "soft"|"hard"                 "soft"
            token    string                        (secret)
            url      string                                     yes        where to say it

            """)
        let builtIn = try await HephBinary.run(["plugins", "cascade"], directory: directory)
        #expect(builtIn.stdout.hasPrefix("cascade\nWhen a service restarts or is recreated, restarts the services that depend on it, in dependency order.\nfound: built into heph\n"), "\(builtIn.stdout)")
        #expect(builtIn.stdout.contains("timeout      number > 0   60"), "\(builtIn.stdout)")

        // A script (a file, or a name ending in .lua) lists what it would find.
        let listed = try await HephBinary.run(["plugins", "main.lua"], directory: directory)
        #expect(listed.stdout.contains("slowstart   next to the script   ./slowstart.lua"), "\(listed.stdout)")
        #expect(listed.stdout.contains("restart     built in"), "\(listed.stdout)")

        let missing = try await HephBinary.run(["plugins", "nosuch"], directory: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("heph plugins nosuch: no plugin \"nosuch\" (built in: cascade, chaos, notify, restart)\n\tno file './nosuch.lua'"), "\(missing.stderr)")
        let wrong = try await HephBinary.run(["plugins", "badtype"], directory: directory)
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "heph plugins badtype: ./badtype.lua: option delay has the unknown type \"nubmer\" (known: array, boolean, function, number, string, table, target; did you mean \"number\"?)\n")
    }

    @Test func pluginsListsAndDescribesWhatAScriptInTheDirectoryWouldUseAndNothingElse() async throws {
        let directory = try Self.directory([
            "exitlog.lua": "return { setup = function() end }",
            "grouped/init.lua": "return { description = 'in a directory', setup = function() end }",
            "exits.lua": "heph.exit(3)",
            "sleeps.lua": "for i = 1, 100 do heph.sleep(1) end return { setup = function() end }",
            "bytes.lua": "return { description = 'caf\\xe9', setup = function() end }",
            "envy.lua": "local home = os.getenv('HOME') return { setup = function() end }",
            "ticks.lua": "heph.every(0.1, function() print('tick') end) heph.on_shutdown(function() heph.sleep(3600) end) return { setup = function() end }",
            "app/main.lua": "heph.use('rocked')",
            "app/heph/plugins/rocked.lua": "return { setup = function() end }",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // No argument: what a script here would find, as heph plugins NAME looks.
        let listed = try await HephBinary.run(["plugins"], directory: directory)
        #expect(listed.stdout.contains("exitlog   next to the script   ./exitlog.lua"), "\(listed.stdout)")
        #expect(listed.stdout.contains("grouped   next to the script   ./grouped/init.lua"), "\(listed.stdout)")
        // A script elsewhere: heph.plugins.NAME next to it, on the package.path heph gives it.
        let app = try await HephBinary.run(["plugins", directory + "/app/main.lua"])
        #expect(app.stdout.contains("rocked    package.path   \(directory)/app/heph/plugins/rocked.lua"), "\(app.stdout)")
        // A directory of that name is a plugin's, not a script.
        let grouped = try await HephBinary.run(["plugins", "grouped"], directory: directory)
        #expect(grouped.stdout.hasPrefix("grouped\nin a directory\nfound: ./grouped/init.lua (next to the script)\n"), "\(grouped.stdout)\(grouped.stderr)")
        let exits = try await HephBinary.run(["plugins", "exits"], directory: directory)
        #expect(exits.status == 1)
        #expect(exits.stderr == "heph plugins exits: the plugin's module ended the run (heph.exit or os.exit, code 3) while it loaded; nothing to describe\n")
        let bytes = try await HephBinary.run(["plugins", "bytes"], directory: directory)
        #expect(bytes.stdout.hasPrefix("bytes\ncaf\u{FFFD}\n"), "\(bytes.stdout)\(bytes.stderr)")
        let envy = try await HephBinary.run(["plugins", "envy"], directory: directory)
        #expect(envy.status == 1)
        #expect(envy.stderr.contains("(heph plugins loads a module sandboxed, as heph run --sandbox runs a script: no os.getenv, io.open, os.execute or C modules while it loads)"), "\(envy.stderr)")
        // What the module registers does not run, nor hold the description back for long.
        let ticks = try await HephBinary.run(["plugins", "ticks"], directory: directory)
        #expect(ticks.status == 0 && !ticks.stdout.contains("tick\n"), "\(ticks.stdout)\(ticks.stderr)")
        let sleeps = try await HephBinary.run(["plugins", "sleeps"], directory: directory)
        #expect(sleeps.status == 1)
        #expect(sleeps.stderr == "heph plugins sleeps: the plugin's module did not finish loading within 10 s\n")
    }

    @Test func stopsRunOnceEachAfterTheHandlersAndOneThatHangsDoesNotHoldTheOthersBack() async throws {
        let directory = try Self.directory([
            "plain.lua": "return { setup = function() end, stop = function() print('plain stop at ' .. (heph.now() - 1700000000)) end }",
            "forever.lua": "return { setup = function() end, stop = function() print('forever stop'); heph.sleep(86400) end }",
            "late.lua": "return { setup = function() end, stop = function() print('late stop') end }",
            "inner.lua": "return { setup = function() end, stop = function() print('inner stop') end }",
            "outer.lua": "return { setup = function(heph) heph.use('inner'); heph.sleep(5); error('outer gives up') end }",
            // heph test: virtual time, so the 10 s a hanging stop gets takes none.
            "stops_test.lua": """
                test("stops", function()
                  heph.use("plain")
                  heph.after(0, function() print(select(2, pcall(heph.use, "outer"))) end)
                  heph.sleep(0.1)
                  heph.use("forever")
                  heph.on_shutdown(function() heph.sleep(2); print("on_shutdown"); heph.use("late") end)
                  heph.sleep(0.4)
                end)
                """,
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await HephBinary.run(["test", "-v", directory + "/stops_test.lua"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // The shutdown begins at 0.5 s, while outer's setup waits; its failure, at 5 s,
        // takes inner's stop out of the queue, where it waited behind forever's.
        try #require(lines.count == 8, "\(result.stdout)")
        #expect(Array(lines[0...3]) == ["ok - stops", "on_shutdown", "late stop", "forever stop"])
        #expect(lines[4].hasPrefix("heph.use('outer'): the setup of ") && lines[4].hasSuffix("outer.lua:1: outer gives up"), "\(lines[4])")
        #expect(Array(lines[5...]) == [
            "heph: the stop function of plugin forever did not finish within 10.0 seconds; going on without it",
            "plain stop at 12.5", "1 passed, 0 failed",
        ])
    }

    @Test func simHTTPAnswersOnlyWhatTheRealCallCanReturn() async throws {
        let directory = try Self.directory(["answers_test.lua": """
            test("answers", function()
              sim.http(function(request) return 201, "made", { ["X-Id"] = 7 } end)
              local status, body, headers = heph.http.request{ method = "PUT", url = "https://x/", body = "{}" }
              assert(status == 201 and body == "made" and headers["x-id"] == "7", tostring(status))
              sim.http(function() return nil, "heph.http.request: GET https://x/: no answer within 5 s" end)
              assert(select(2, heph.http.request{ url = "https://x/" }):find("no answer", 1, true))
              sim.http(function() return "200" end)
              heph.http.request{ url = "https://x/" }
            end)
            test("no answer without sim.http", function() heph.http.request{ url = "https://x/" } end)
            """])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await HephBinary.run(["test", directory + "/answers_test.lua"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("not ok - answers: \(directory)/answers_test.lua:8: sim.http: the function returned the status 200; return an integer from 100 to 599"), "\(result.stdout)")
        #expect(result.stdout.contains("not ok - no answer without sim.http: \(directory)/answers_test.lua:10: heph.http.request: heph test reaches no network; answer requests with sim.http(function(request) return 200, \"\" end)"), "\(result.stdout)")
    }

    @Test func checkNamesABadPluginOptionWithoutAnEngine() async throws {
        let directory = try Self.directory(["main.lua": "heph.use('restart', { max_restart = 3 })\n"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Nothing listens on port 1: an engine call would fail differently.
        let result = try await HephBinary.run(["check", directory + "/main.lua"], environment: ["DOCKER_HOST": "tcp://127.0.0.1:1"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(directory)/main.lua:1: heph.use('restart'): unknown option \"max_restart\" (known: events, factor, initial, jitter, log, max, max_restarts, on_give_up, on_recover, on_restart, paused, reset_after, restart_stopped, settle, target, window; did you mean \"max_restarts\"?)"), "\(result.stderr)")
    }

    @Test func httpsReachesAServerItsCertificateFileTrustsAndNoOther() async throws {
        let server = try await HTTPRecorder(tls: true)
        defer { server.stop() }
        let script = try Self.directory(["main.lua": "print(heph.http.request{ url = arg[1] .. '/tls' })"])
        defer { try? FileManager.default.removeItem(atPath: script) }
        let trusted = try await HephBinary.run(["run", script + "/main.lua", server.url()], environment: ["SSL_CERT_FILE": server.certificate])
        #expect(trusted.stdout.hasPrefix("200\tok\ttable: "), "\(trusted.stdout)\(trusted.stderr)")
        let untrusted = try await HephBinary.run(["run", script + "/main.lua", server.url()], environment: ["SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"])
        #expect(untrusted.stdout.hasPrefix("nil\theph.http.request: GET \(server.url("/tls")): TLS failed: "), "\(untrusted.stdout)\(untrusted.stderr)")
        #expect(server.requests.map(\.path) == ["/tls"])
    }

    @Test func aSandboxedScriptReachesOnlyTheHostsAllowHTTPNames() async throws {
        let server = try await HTTPRecorder()
        defer { server.stop() }
        let script = try Self.directory(["main.lua": "print((heph.http.request{ url = arg[1] .. '/sandboxed' }))"])
        defer { try? FileManager.default.removeItem(atPath: script) }
        let run = { (options: [String]) in try await HephBinary.run(["run", "--sandbox"] + options + [script + "/main.lua", server.url()]) }
        #expect(try await run(["--allow-http", "127.0.0.1:\(server.port)"]).stdout == "200\n")
        #expect(try await run(["--allow-http", "127.0.0.1"]).stdout == "200\n")
        let other = try await run(["--allow-http", "127.0.0.1:\(server.port + 1)", "--allow-http", "hooks.example"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("heph.http.request: 127.0.0.1:\(server.port) is not a host this sandboxed script may reach (allowed: 127.0.0.1:\(server.port + 1), hooks.example); run it with --allow-http 127.0.0.1:\(server.port) to allow it"), "\(other.stderr)")
        let none = try await run([])
        #expect(none.stderr.contains("(no --allow-http was given)"), "\(none.stderr)")
        #expect(server.requests.count == 2)
        let unsandboxed = try await HephBinary.run(["run", "--allow-http", "127.0.0.1", script + "/main.lua", server.url()])
        #expect(unsandboxed.status == 64)
        #expect(unsandboxed.stderr.contains("--allow-http only means something with --sandbox"), "\(unsandboxed.stderr)")
        let malformed = try await HephBinary.run(["run", "--sandbox", "--allow-http", "http://127.0.0.1/", script + "/main.lua", server.url()])
        #expect(malformed.status == 64)
        #expect(malformed.stderr.contains("--allow-http http://127.0.0.1/: give a host and optionally a port"), "\(malformed.stderr)")
    }

    @Test func theExamplePluginInstalledAsARockPostsEachTransitionToARealServer() async throws {
        let tree = NSTemporaryDirectory() + TestNames.unique("rocks")
        defer { try? FileManager.default.removeItem(atPath: tree) }
        let rock = HephBinary.repositoryRoot + "/examples/plugins/heph-plugin-webhook"
        let installed = try await Command.run("/usr/bin/luarocks", ["--lua-version", "5.4", "--tree", tree, "make", "heph-plugin-webhook-1.0.0-1.rockspec"], directory: rock)
        try #require(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        let module = tree + "/share/lua/5.4/heph/plugins/webhook.lua"
        #expect(FileManager.default.fileExists(atPath: module))
        // Lua's own variable, as LuaRocks tells its users to set it (";;": Lua's default after).
        let luaPath = ["LUA_PATH_5_4": tree + "/share/lua/5.4/?.lua;;"]

        let work = try Self.directory(["main.lua": """
            local url, name = ...
            heph.use("webhook", { url = url .. "/hooks", events = { "running", "exit" }, target = name, timeout = 5, token = "s3cret" })
            heph.on("exit", name, function() heph.after(1, function() heph.exit(0) end) end)
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = { "sh", "-c", "sleep 0.5; exit 3" } }
            heph.start_container(name)
            heph.after(30, function() heph.exit(1) end)
            """])
        defer { try? FileManager.default.removeItem(atPath: work) }
        let described = try await HephBinary.run(["plugins", "webhook"], environment: luaPath, directory: work)
        #expect(described.stdout.hasPrefix("webhook 1.0.0\nPOSTs each transition as JSON to a URL, with a timeout and a retry.\nfound: \(module) (package.path)\n"), "\(described.stdout)\(described.stderr)")
        let listed = try await HephBinary.run(["plugins"], environment: luaPath, directory: work)
        #expect(listed.stdout.contains("webhook   package.path   \(module)"), "\(listed.stdout)")

        let server = try await HTTPRecorder()
        defer { server.stop() }
        let name = TestNames.unique("hooked")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let run = try await HephBinary.run(["run", work + "/main.lua", server.url(), name], environment: luaPath)
        #expect(run.status == 0, "\(run.stderr)")
        let requests = server.requests
        try #require(requests.count == 2, "\(requests)")
        #expect(requests.allSatisfy { $0.method == "POST" && $0.path == "/hooks" && $0.headers["content-type"] == "application/json" && $0.headers["authorization"] == "Bearer s3cret" })
        struct Posted: Decodable, Equatable { var event: String; var name: String; var status: String; var previous: String?; var exit_code: Int?; var expected: Bool; var project: String }
        let posted = try requests.map { try JSONDecoder().decode(Posted.self, from: Data($0.body.utf8)) }
        #expect(posted == [
            Posted(event: "running", name: "heph-\(name)", status: "running", previous: "created", exit_code: nil, expected: false, project: "default"),
            Posted(event: "exit", name: "heph-\(name)", status: "stopped", previous: "running", exit_code: 3, expected: false, project: "default"),
        ])
    }
}
