import Foundation
import HephTestSupport
import Testing

/// `heph test`: test files on the simulated engine in virtual time (no engine contacted),
/// the output format, exit codes, seeds, filters and projects.
@Suite struct TestCommandTests {
    static let fixtures = HephBinary.repositoryRoot + "/Tests/Fixtures/heph-test"

    /// `heph test ARGS…` in the fixtures' directory.
    static func test(_ arguments: [String], environment: [String: String] = [:]) async throws -> Docker.Result {
        try await HephBinary.run(["test"] + arguments, environment: environment, directory: fixtures)
    }

    @Test func eachWayATestEndsIsReportedOnOneLineWithFileLineAndMessage() async throws {
        let result = try await Self.test(["outcomes.lua"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let verdicts = lines.filter { $0.hasPrefix("ok - ") || $0.hasPrefix("not ok - ") }
        #expect(verdicts == [
            "ok - passes in virtual time",
            "not ok - fails an assertion: outcomes.lua:17: one is not two",
            "not ok - fails in a hook: outcomes.lua:21: boom in a hook (raised in a hook on \"exit\" for heph-web (running → stopped))",
            "not ok - waits for what never happens: outcomes.lua:28: the test did not finish within 24 hours of virtual time; it was waiting in heph.sleep",
            "not ok - exits before it returns: outcomes.lua: the script called heph.exit(3) before the test's function returned",
            "not ok - prints a random number: outcomes.lua:37: shown with its seed",
            "ok - passes again",
        ], "\(result.stdout)")
        #expect(lines.last == "2 passed, 5 failed")
        // A failure shows its traceback (a hook's own), its seed, and what the test printed.
        #expect(result.stdout.contains("not ok - fails in a hook: outcomes.lua:21: boom in a hook (raised in a hook on \"exit\" for heph-web (running → stopped))\n    stack traceback:\n"))
        #expect(result.stdout.contains("    \toutcomes.lua:21: in function <outcomes.lua:21>\n"))
        #expect(result.stdout.contains("\n    random "))
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func stateLivesInMemoryPerTestAndLeadingIsImmediate() async throws {
        let result = try await Self.test(["-v", "state.lua"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").last == "5 passed, 0 failed", "\(result.stdout)")
        for ordinal in ["first", "second", "third", "fourth", "fifth"] { #expect(result.stdout.contains("\(ordinal) test done"), "\(result.stdout)") }
    }

    @Test func theSeedAFailurePrintsReplaysItsRandomNumbers() async throws {
        let first = try await Self.test(["--filter", "random", "outcomes.lua"])
        let seed = try #require(first.stdout.firstMatch(of: /seed (\d+): heph test --seed \1 --filter '\^prints a random number\$' 'outcomes.lua' replays it/)?.1)
        let number = try #require(first.stdout.firstMatch(of: /random (\d+)/)?.1)
        let replay = try await Self.test(["--seed", String(seed), "--filter", "^prints a random number$", "outcomes.lua"])
        #expect(replay.stdout.contains("random \(number)\n"), "\(replay.stdout)")
        #expect(replay.stdout.contains("seed \(seed):"))
        let other = try await Self.test(["--seed", String((Int(seed) ?? 0) + 1), "--filter", "random", "outcomes.lua"])
        #expect(!other.stdout.contains("random \(number)\n"), "another seed, other numbers")
    }

    @Test func aFilterRunsSomeTestsAndABadOneIsACommandLineError() async throws {
        let some = try await Self.test(["--filter", "^passes", "outcomes.lua"])
        #expect(some.status == 0, "\(some.stdout)\(some.stderr)")
        #expect(some.stdout == "ok - passes in virtual time\nok - passes again\n2 passed, 0 failed\n")
        let none = try await Self.test(["--filter", "nothing matches this", "outcomes.lua"])
        #expect(none.status == 1)
        #expect(none.stdout == "0 passed, 0 failed\n")
        #expect(none.stderr.contains("no test matches --filter \"nothing matches this\""), "\(none.stderr)")
        let bad = try await Self.test(["--filter", "[", "outcomes.lua"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--filter: malformed pattern"), "\(bad.stderr)")
    }

    @Test func aDirectoryRunsItsTestFilesAndNoTestIsAFailure() async throws {
        let all = try await Self.test(["."])
        #expect(all.stdout.hasSuffix("7 passed, 1 failed\n"), "\(all.stdout)")  // *_test.lua only: not outcomes.lua
        #expect(all.stdout.contains("ok - sim.run runs a script's main chunk with its arguments\n"))
        #expect(all.stdout.contains("not ok - the swarm is not simulated: project_test.lua:12: heph.ping: heph test simulates one Docker engine, not a swarm"), "\(all.stdout)")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("empty")).path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let nothing = try await HephBinary.run(["test", empty])
        #expect(nothing.status == 1)
        #expect(nothing.stdout == "0 passed, 0 failed\n")
        #expect(nothing.stderr.contains("no tests found"), "\(nothing.stderr)")
        let missing = try await HephBinary.run(["test", empty + "/missing_test.lua"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("missing_test.lua: no such file or directory"))
    }

    @Test func everyControlOfTheSimulatedWorldDoesWhatItSays() async throws {
        let result = try await Self.test(["controls_test.lua"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.hasSuffix("6 passed, 0 failed\n"))
    }

    @Test func theProjectComesFromTheCommandLineOrTheEnvironment() async throws {
        let byDefault = try await Self.test(["-v", "--filter", "names", "project_test.lua"])
        #expect(byDefault.stdout.contains("    project default heph-web\n"), "\(byDefault.stdout)")
        let chosen = try await Self.test(["-v", "-p", "blue", "--filter", "names", "project_test.lua"])
        #expect(chosen.stdout.contains("    project blue heph_blue_web\n"), "\(chosen.stdout)")
        let environment = try await Self.test(["-v", "--filter", "names", "project_test.lua"], environment: ["HEPH_PROJECT": "green"])
        #expect(environment.stdout.contains("    project green heph_green_web\n"), "\(environment.stdout)")
        let wrong = try await Self.test(["-p", "Bad!", "project_test.lua"])
        #expect(wrong.status == 64)
    }

    @Test func aTestOutOfRealTimeEndsItsShellCommandAndWhatThatStarted() async throws {
        let marker = "47.\(Int.random(in: 100_000...999_999))"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("shell") + "_test.lua").path
        try "test(\"never ends\", function() heph.shell(\"sleep \(marker) & sleep \(marker)\") end)\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await HephBinary.run(["test", "--timeout", "2", file])
        #expect(result.status == 1)
        #expect(result.stdout.contains("the test did not finish within 2 s of real time (heph test --timeout); it was waiting in heph.shell"), "\(result.stdout)")
        // Both sleeps (the shell's child in the background too) are gone.
        let gone = await Fixtures.eventually(timeout: .seconds(10)) {
            (try? await Command.run("/usr/bin/pgrep", ["-f", "sleep \(marker)"]).status) == 1
        }
        #expect(gone, "a sleep \(marker) outlived the test")
    }

    @Test func theShippedExamplesRecoveryTestsPass() async throws {
        let result = try await HephBinary.run(["test", HephBinary.repositoryRoot + "/examples/tests"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix(" passed, 0 failed\n"))
        #expect(result.stdout.contains("ok - a db that stays unhealthy is given up after five restarts, and said so once\n"))
    }
}
