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
