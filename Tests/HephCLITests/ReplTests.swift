import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph repl` at a terminal (driven through a pseudo-terminal by Tests/Fixtures/
/// repl_session.py, with Python's pexpect) and fed from a pipe.
@Suite(.usesEngine) struct ReplTests {
    /// A Python that has pexpect: the one first in PATH, else Debian's (bootstrap installs
    /// python3-pexpect for it).
    static let python: String = {
        for candidate in ["/usr/bin/env", "/usr/bin/python3"] {
            let arguments = candidate == "/usr/bin/env" ? ["python3", "-c", "import pexpect"] : ["-c", "import pexpect"]
            if let result = try? Command.runBlocking(candidate, arguments), result.status == 0 {
                return candidate == "/usr/bin/env" ? "python3" : candidate
            }
        }
        return "python3"
    }()

    /// Runs one scenario of the fixture; its output says what went wrong when it fails.
    /// With `attachingTo` a project, the scenario drives `heph attach -p PROJECT` (its
    /// watcher running) instead of `heph repl`.
    static func scenario(_ name: String, _ extra: [String] = [], attachingTo project: String? = nil) async throws -> Docker.Result {
        let fixture = HephBinary.repositoryRoot + "/Tests/Fixtures/repl_session.py"
        let arguments = (python == "python3" ? ["python3"] : []) + [fixture, HephBinary.path, name] + extra
        let environment = project.map { ["HEPH_REPL_COMMAND": "attach", "HEPH_REPL_PROJECT": $0] } ?? [:]
        return try await Command.run(python == "python3" ? "/usr/bin/env" : python, arguments, environment: environment)
    }

    @Test(arguments: ["expressions", "multiline", "error_then_working", "interrupt_sleep", "history", "completion", "shutdown_on_eof"])
    func atATerminal(_ name: String) async throws {
        let result = try await Self.scenario(name)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("\(name): ok\n"))
    }

    @Test func thePromptNamesTheProjectWhenItIsNotTheDefault() async throws {
        let result = try await Self.scenario("project_prompt", ["staging-2"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("project_prompt: ok\n"))
    }

    @Test func aHookFiresWhileThePromptWaitsWithoutGarblingTheLine() async throws {
        let name = TestNames.unique("repl-hook")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = try await Self.scenario("hook_while_waiting", [name])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("hook_while_waiting: ok\n"))
    }

    @Test func fromAPipeWithoutPrompts() async throws {
        let result = try await HephBinary.run(["repl"], input: """
            x = 20
            function double(n)
              return n * 2
            end
            double(x) + 2
            { "a", b = { c = true } }
            error("oops")
            'after the error'
            heph.exit(5)
            print("never")
            """)
        #expect(result.status == 5)
        #expect(result.stdout == "42\n{ \"a\", b = { c = true } }\nafter the error\n")
        #expect(result.stderr.hasPrefix("stdin:1: oops\n"))
    }

    @Test func hephExitFromATimerEndsTheREPLWhileAPipeStaysOpen() async throws {
        let process = try HephProcess(["repl"], input: "heph.after(0.2, function() print('bye'); heph.exit(4) end)\n", keepingInputOpen: true)
        defer { process.closeInput() }
        // The pipe stays open: the REPL must not wait for more input once the session ended.
        let status = await process.status(timeout: .seconds(5))
        let ended = status != nil
        #expect(ended)
        #expect(status == 4)
        #expect(process.stdout.hasSuffix("bye\n"))
    }

    @Test func aScriptRunsFirstAndItsGlobalsStay() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("repl")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            greeting = "hello " .. (arg[1] or "?")
            heph.on_shutdown(function() print("shutdown handler ran") end)
            """.write(toFile: directory + "/setup.lua", atomically: true, encoding: .utf8)
        let result = try await HephBinary.run(["repl", directory + "/setup.lua", "operator"], input: "greeting\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "hello operator\nshutdown handler ran\n")
        let failing = try await HephBinary.run(["repl", directory + "/missing.lua"], input: "1\n")
        #expect(failing.status == 1)
        #expect(failing.stderr.hasPrefix("heph: cannot open"))
    }

    @Test func containersPrintAsATable() async throws {
        let name = TestNames.unique("repl-ps")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = try await HephBinary.run(["repl"], input: """
            heph.create_container{ image = "heph/busybox:latest", name = "\(name)", cmd = { "true" } }
            local all = heph.list_containers(); for i = #all, 1, -1 do if all[i].name ~= "heph-\(name)" then table.remove(all, i) end end; mine = all
            mine
            """)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(result.stdout)")
        #expect(lines.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["NAME", "STATUS", "IMAGE", "PORTS"])
        #expect(lines.last?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["heph-\(name)", "created", "heph/busybox:latest"])
    }
}
