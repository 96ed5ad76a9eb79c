import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// `heph test [PATH…]`: runs recovery tests on a simulated engine in virtual time.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run recovery tests on a simulated engine, in virtual time.",
        discussion: """
            A test file declares tests with test(name, fn). Each test runs in a fresh \
            runtime on a fresh simulated engine: the file's top level, then the test's \
            function. heph is the usual module (plugins and heph.up too); sim controls \
            the world: sim.kill, sim.crash, sim.oom, sim.stop, sim.set_health, \
            sim.pause, sim.unpause, sim.remove, sim.engine_down, sim.exec_result, \
            sim.output, sim.actions, sim.run. No Docker engine is contacted.

            Time is virtual: heph.now() and os.time() start at 1700000000 in every test \
            and jump to the next due event whenever everything waits, so an hour of \
            backoff takes milliseconds. A test that waits for what never happens fails \
            after 24 virtual hours, saying where it waits, and so does one still running \
            after --timeout seconds of real time. A test that computes for more than \
            heph.config.hook_timeout (5 s) of real time between two waits is stopped.

            Output: ok - NAME, or not ok - NAME: FILE:LINE: MESSAGE followed by the \
            traceback, the seed and what the test printed (indented); then \
            N passed, N failed on the last line. math.random is seeded per test: \
            --seed N replays a failure. Exit codes: 0 every test passed; 1 a test \
            failed, or none was found; 64 the command line is wrong. See docs/testing.md.
            """
    )

    @OptionGroup var project: ProjectOption

    /// Runs only the tests whose names match.
    @Option(name: .long, help: ArgumentHelp("Run only the tests whose names match this Lua pattern (a plain word matches names containing it).", valueName: "pattern"))
    var filter: String?

    /// `math.randomseed` for every test.
    @Option(name: .long, help: ArgumentHelp("Seed math.random with N in every test (a failure prints the seed it ran with).", valueName: "N"))
    var seed: Int?

    @OptionGroup var memory: MemoryLimitOption

    /// For the conformance suite's check that it can fail; not for users.
    @Option(name: .long, help: .hidden)
    var mutate: String?

    /// Real time a test may take.
    @Option(name: .long, help: ArgumentHelp("Fail a test still running after this many whole seconds of real time (1 to 86400): one that waits for something real, such as a heph.shell that never ends.", valueName: "seconds"))
    var timeout: Int = 60

    /// Shows what passing tests printed too.
    @Flag(name: [.short, .long], help: "Show what every test printed, not only the failing ones.")
    var verbose = false

    /// Files and directories.
    @Argument(help: ArgumentHelp("Test files, or directories searched recursively for *_test.lua (default: the current directory).", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if let seed, seed < 0 { throw ValidationError("--seed must be 0 or more, got \(seed)") }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be from 1 to 86400 seconds, got \(timeout)") }
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path): no such file or directory")
        }
        if let mutate, SimulatedOrchestrator.Mutation(rawValue: mutate) == nil {
            throw ValidationError("--mutate must be \(SimulatedOrchestrator.Mutation.allCases.map(\.rawValue).joined(separator: " or "))")
        }
    }

    func run() async throws {
        let files = Self.testFiles(in: paths.isEmpty ? ["."] : paths)
        let runner = TestRunner(options: TestRunner.Options(
            filter: filter, seed: seed, project: (try? project.chosen()) ?? .default, projectChosen: project.isChosen,
            searchPath: PluginCatalog.hephPath, userPluginDirectory: PluginCatalog.defaultUserDirectory,
            executablePath: CommandLine.arguments.first ?? "heph", timeout: .seconds(timeout), memoryLimit: memory.bytes,
            mutation: mutate.flatMap(SimulatedOrchestrator.Mutation.init(rawValue:))))
        var passed = 0, failed = 0, selected = 0
        for file in files {
            let declared: [TestReport.Declared]
            do {
                declared = try await runner.list(file)
            } catch .badFilter(let problem) {
                write("heph test: --filter: \(problem)\n", to: .standardError)
                throw ExitCode(64)
            } catch .file(let result) {
                report(result, of: file)
                failed += 1
                continue
            }
            for test in declared where test.selected {
                selected += 1
                let result = await runner.run(file, name: test.name)
                report(result, of: file)
                if result.passed { passed += 1 } else { failed += 1 }
            }
        }
        if selected == 0 && failed == 0 {
            let what = filter.map { "no test matches --filter \(quoted($0))" } ?? "no tests found"
            write("heph test: \(what) in \(files.isEmpty ? (paths.isEmpty ? "." : paths.joined(separator: " ")) : "\(files.count) file\(files.count == 1 ? "" : "s")") (test files are *_test.lua; declare tests with test(name, fn))\n", to: .standardError)
        }
        write("\(passed) passed, \(failed) failed\n")
        if failed > 0 || selected == 0 { throw ExitCode(1) }
    }

    /// Prints one test's line, and beneath it (indented) what explains a failure: the
    /// traceback, the seed, what the test printed (with `-v`, what passing tests printed too).
    private func report(_ result: TestRunner.Result, of file: String) {
        var text: [UInt8]
        if let failure = result.failure {
            text = Array("not ok - \(result.name): \(failure)\n".utf8)
            var details = result.details
            let project = (try? self.project.chosen()).map { "-p \($0.name) " } ?? ""
            let replay = project + (result.isFile ? "" : "--filter \(Self.shellQuoted(Self.exactPattern(result.name))) ") + Self.shellQuoted(file)
            details.append("seed \(result.seed): heph test --seed \(result.seed) \(replay) replays it")
            for line in details { text += Array("    \(line)\n".utf8) }
            text += Self.indented(result.output)
        } else {
            text = Array("ok - \(result.name)\n".utf8)
            if verbose { text += Self.indented(result.output) }
        }
        FileHandle.standardOutput.write(Data(text))
    }

    private func write(_ text: String, to handle: FileHandle = .standardOutput) {
        handle.write(Data(text.utf8))
    }

    /// `bytes` with four spaces before each line, ending in a newline (bytes as they are:
    /// what a test prints need not be UTF-8).
    static func indented(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = Array("    ".utf8)
        for (index, byte) in bytes.enumerated() {
            out.append(byte)
            if byte == UInt8(ascii: "\n"), index < bytes.count - 1 { out += Array("    ".utf8) }
        }
        if bytes.last != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")) }
        return out
    }

    /// The files `paths` name: a file as it is; a directory's `*_test.lua`, recursively,
    /// sorted (hidden directories and `.build` skipped).
    static func testFiles(in paths: [String]) -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            // validate() refused a path that is not there.
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            var found: [String] = []
            let enumerator = manager.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    enumerator?.skipDescendants()
                    continue
                }
                if name.hasSuffix("_test.lua") {
                    found.append(path == "." ? relative : (path as NSString).appendingPathComponent(relative))
                }
            }
            files += found.sorted()
        }
        return files
    }

    /// A Lua pattern matching exactly `name`.
    static func exactPattern(_ name: String) -> String {
        "^" + name.replacingOccurrences(of: "[%^$().\\[\\]*+\\-?]", with: "%$0", options: .regularExpression) + "$"
    }

    /// `text` quoted for a POSIX shell.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
