import Foundation
import HephTestSupport
import Testing

/// `heph run` as a user runs it: exit codes, what lands on stdout and stderr, arguments,
/// `require`, standard input.
@Suite struct RunCommandTests {
    /// A fresh directory with `files` written into it.
    static func directory(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("run"))
        for (name, contents) in files {
            let file = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: file)
        }
        return directory
    }

    @Test func aScriptThatEndsNormallyExits0() async throws {
        let directory = try Self.directory(["ok.lua": "print('fine')"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await HephBinary.run(["run", "ok.lua"], directory: directory.path)
        #expect(result.status == 0)
        #expect(result.stdout == "fine\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func aRuntimeErrorPrintsPositionAndTracebackAndExits1() async throws {
        let directory = try Self.directory(["fail.lua": "print('before')\nlocal function f() error('boom') end\nf()\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await HephBinary.run(["run", "fail.lua"], directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stdout == "before\n")
        #expect(result.stderr.hasPrefix("fail.lua:2: boom\nstack traceback:\n"))
        #expect(result.stderr.contains("fail.lua:3: in main chunk"))
    }

    @Test func aSyntaxErrorIsTheCompilersLineAlone() async throws {
        let directory = try Self.directory(["syntax.lua": "local x = = 1\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await HephBinary.run(["run", "syntax.lua"], directory: directory.path)
        #expect(result.status == 1)
        #expect(result.stderr == "syntax.lua:1: unexpected symbol near '='\n")
    }

    @Test func aMissingScriptIsOneLine() async throws {
        let result = try await HephBinary.run(["run", "/nonexistent/nope.lua"])
        #expect(result.status == 1)
        #expect(result.stderr == "heph: cannot open /nonexistent/nope.lua: No such file or directory\n")
    }

    @Test func noScriptIsAUsageError() async throws {
        let result = try await HephBinary.run(["run"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Missing expected argument '<script.lua>'"))
    }

    @Test func argumentsReachArgAndDotsUntouched() async throws {
        let directory = try Self.directory(["args.lua": "print(arg[0], #arg, ...)"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await HephBinary.run(["run", "args.lua", "one", "-x", "--flag", "two words"], directory: directory.path)
        #expect(result.status == 0)
        #expect(result.stdout == "args.lua\t4\tone\t-x\t--flag\ttwo words\n")
    }

    @Test func theScriptCanComeFromStandardInput() async throws {
        let result = try await HephBinary.run(["run", "-", "a", "b"], input: "print(arg[0], ...)\nerror('from stdin')\n")
        #expect(result.status == 1)
        #expect(result.stdout == "-\ta\tb\n")
        #expect(result.stderr.hasPrefix("stdin:2: from stdin\n"))
    }

    /// heph handles SIGINT and SIGTERM itself; what it starts must not inherit that.
    @Test func aShellCommandStartsWithDefaultSignalsAndReportsTheOneThatEndedIt() async throws {
        let result = try await HephBinary.run(["run", "-"], input: """
            print(heph.shell("kill -TERM $$"))
            print(heph.shell("kill -INT $$"))
            print(heph.shell({ "no-such-program-for-heph" }) == 127)
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "143\t\t\n130\t\t\ntrue\n")
    }

    @Test func requireFindsTheScriptsNeighboursHephPathAndCjson() async throws {
        let directory = try Self.directory([
            "app/main.lua": "print(require('helper').name, require('shared').name, require('cjson').encode({ ok = true }))",
            "app/helper.lua": "return { name = 'next to the script' }",
            "lib/shared.lua": "return { name = 'from HEPH_PATH' }",
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        // Run from elsewhere: the script's own directory is searched, not the working one.
        let result = try await HephBinary.run(
            ["run", directory.appendingPathComponent("app/main.lua").path],
            environment: ["HEPH_PATH": directory.appendingPathComponent("lib").path + "/?.lua"],
            directory: "/")
        #expect(result.status == 0)
        #expect(result.stdout == "next to the script\tfrom HEPH_PATH\t{\"ok\":true}\n")
    }

    @Test func aScriptThatNeverCallsTheEngineNeedsNone() async throws {
        let result = try await HephBinary.run(["run", "-"], environment: ["DOCKER_HOST": "ssh://nowhere"], input: "print(1 + 1)")
        #expect(result.status == 0)
        #expect(result.stdout == "2\n")
    }
}

/// `heph.up` under `heph run` as an operator reads it in a log: progress lines whether or
/// not stderr is a terminal (here it is a file), and what a failed or interrupted
/// `heph.up` leaves behind.
@Suite(.usesEngine) struct RunHephUpOutputTests {
    static let idle = #"{ "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }"#

    @Test func progressLinesAreOnByDefaultWithoutATerminalAndNoProgressSilencesThem() async throws {
        let name = TestNames.unique("progress")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let script = """
            local name, version = ...
            heph.up{ services = { [name] = { image = "heph/busybox:latest", cmd = \(Self.idle), env = { VERSION = version } } } }
            """
        let first = try await HephBinary.run(["run", "-", name, "1"], input: script)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stderr.split(separator: "\n")
        // One plain line per step, each with the seconds since heph.up began.
        for step in ["created", "started", "ready"] {
            #expect(lines.contains { $0.hasPrefix("heph.up: \(name) \(step) (") && $0.hasSuffix(" s)") }, "\(step): \(first.stderr)")
        }
        // A changed config: said before the old container's graceful stop, with how long it may take.
        let second = try await HephBinary.run(["run", "-", name, "2"], input: script)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.split(separator: "\n").contains {
            $0.hasPrefix("heph.up: \(name) replacing (") && $0.hasSuffix(" s): its config changed; the old container's graceful stop may take up to 10 s")
        }, "\(second.stderr)")
        let quiet = try await HephBinary.run(["run", "--no-progress", "-", name, "2"], input: script)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test func aFailedHephUpSaysWhatItLeftAndHowToClearIt() async throws {
        let (db, api) = (TestNames.unique("left-db"), TestNames.unique("left-api"))
        defer { Docker.forceRemove(["heph-\(db)", "heph-\(api)"]) }
        let result = try await HephBinary.run(["run", "-", db, api], input: """
            local db, api = ...
            heph.up{ services = { [db] = { image = "heph/busybox:latest", cmd = \(Self.idle) },
                                  [api] = { image = "heph-test/no-such-image:1", depends_on = { db } } } }
            """)
        #expect(result.status == 1)
        #expect(result.stderr.contains("heph.up: \(api) failed ("), "\(result.stderr)")
        #expect(result.stderr.contains("  \(api): image \"heph-test/no-such-image:1\" is not available locally and could not be pulled: "), "\(result.stderr)")
        #expect(result.stderr.contains("\nheph.up left: created heph-\(db); running: heph-\(db). Once that is fixed, run heph.up again to converge (what matches its config is kept), or heph down to remove every container of the project.\n"), "\(result.stderr)")
        #expect(!result.stderr.contains("not ready after"), "\(result.stderr)")
    }

    @Test func ctrlCDuringHephUpSaysWhatItLeftAndHowToClearIt() async throws {
        let project = TestNames.project()
        let (first, second) = (TestNames.unique("first"), TestNames.unique("second"))
        defer { Docker.removeProjects([project]) }
        // The first never turns healthy, so heph.up waits for it; the second waits for the first.
        let run = try HephProcess(["run", "-p", project, "-", first, second], input: """
            local first, second = ...
            heph.up{ services = {
              [first] = { image = "heph/busybox:latest", cmd = \(Self.idle), healthcheck = { test = "test -f /ready", interval = 0.5 } },
              [second] = { image = "heph/busybox:latest", cmd = \(Self.idle), depends_on = { first } },
            }, timeout = 300 }
            print("up")
            """)
        #expect(await run.waitFor("heph.up: \(first) started", in: \.stderr, timeout: .seconds(60)), "\(run.stderr)")
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(20)) == 130, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let (a, b) = ("heph_\(project)_\(first)", "heph_\(project)_\(second)")
        #expect(run.stderr.contains("heph.up interrupted: created \(a); running: \(a); not reached: \(b). Run heph.up again to converge (what matches its config is kept), or heph down -p \(project) to remove every container of the project.\n"), "\(run.stderr)")
        // It stopped there: the second was never made.
        #expect(try await Docker.run("inspect", b).status != 0)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Running}}", a) == "true")
    }

    @Test func ctrlCStopsHephUpBeforeTheShutdownHandlersTearDown() async throws {
        let project = TestNames.project()
        let (first, second) = (TestNames.unique("first"), TestNames.unique("second"))
        defer { Docker.removeProjects([project]) }
        // The handler tears down; heph.up must not go on making what it removes.
        let run = try HephProcess(["run", "-p", project, "-", first, second], input: """
            local first, second = ...
            heph.on_shutdown(function() heph.down(); print("down") end)
            heph.up{ services = {
              [first] = { image = "heph/busybox:latest", cmd = \(Self.idle), healthcheck = { test = "test -f /ready", interval = 0.5 } },
              [second] = { image = "heph/busybox:latest", cmd = \(Self.idle), depends_on = { first } },
            }, timeout = 300 }
            """)
        #expect(await run.waitFor("heph.up: \(first) started", in: \.stderr, timeout: .seconds(60)), "\(run.stderr)")
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(30)) == 130, "\(run.stderr)")
        #expect(run.stdout == "down\n", "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("heph.up interrupted: created heph_\(project)_\(first)"), "\(run.stderr)")
        try await Task.sleep(for: .seconds(1))
        #expect(try await Docker.managedContainers(project: project).isEmpty)
    }
}

/// The examples, run as the README tells a newcomer to run them.
@Suite(.usesEngine) struct ExampleTests {
    static func example(_ name: String) -> String {
        URL(fileURLWithPath: HephBinary.repositoryRoot).appendingPathComponent("examples/\(name)").path
    }

    @Test func helloPingsAndLists() async throws {
        let result = try await HephBinary.run(["run", Self.example("hello.lua")])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("heph 0.1.0: the Docker engine answers\n"))
    }

    @Test func webappComesUpHealthyServesAndReplacesItself() async throws {
        defer {
            Docker.forceRemove(["heph-webapp-web", "heph-webapp-api"])
            Docker.removeVolumes(["heph-webapp-pages"])
        }
        let (web, api) = (Fixtures.freePort(), Fixtures.freePort())
        for _ in 1...2 {  // the second run replaces what the first made
            let result = try await HephBinary.run(["run", Self.example("webapp.lua"), Fixtures.image, String(web), String(api)])
            #expect(result.status == 0)
            let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.contains(["heph-webapp-web", "healthy", Fixtures.image, "\(web)->80"]))
            #expect(rows.contains(["heph-webapp-api", "healthy", Fixtures.image, "\(api)->8000"]))
        }
        #expect(try await Docker.output("exec", "heph-webapp-api", "wget", "-q", "-O-", "http://webapp-web/") == "hello from heph")
        #expect(try await Docker.output("volume", "inspect", "-f", "{{index .Labels \"io.heph.managed\"}}", "heph-webapp-pages") == "true")
    }
}
