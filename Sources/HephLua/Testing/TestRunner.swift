import HephDocker
import Synchronization

/// Runs the tests of `heph test` files: each test in a fresh runtime on a fresh
/// ``SimulatedEngine`` in virtual time (a ``VirtualClock`` at 1,700,000,000), the file's
/// top level first, then the test's function.
public struct TestRunner: Sendable {
    /// How the tests run.
    public struct Options: Sendable {
        /// A Lua pattern a test's name must match (`--filter`); nil runs every test.
        public var filter: String?
        /// `math.randomseed`'s argument for every test (`--seed`); nil: a new one per test.
        public var seed: Int?
        /// The project the tests' scripts run in (`-p`, `HEPH_PROJECT`), and whether one of
        /// those chose it (a script may then only agree).
        public var project: Project
        public var projectChosen: Bool
        /// `$HEPH_PATH`'s templates, and the user's plugin directory, as for `heph run`.
        public var searchPath: [String]
        public var userPluginDirectory: String?
        /// `arg[-1]`.
        public var executablePath: String
        /// How long a test may take in real time (`--timeout`): a test that keeps waiting
        /// for something real (a `heph.shell` that never ends) fails after it.
        public var timeout: Duration
        /// Bytes each test's Lua may hold (`--memory-limit`); nil: no limit.
        public var memoryLimit: Int?
        /// A deliberate infidelity of the simulated engine (the conformance suite's check
        /// that it can fail); nil always but there.
        public var mutation: SimulatedOrchestrator.Mutation?

        /// Options for tests in `project` (default: `default`).
        public init(filter: String? = nil, seed: Int? = nil, project: Project = .default, projectChosen: Bool = false,
                    searchPath: [String] = [], userPluginDirectory: String? = nil, executablePath: String = "heph",
                    timeout: Duration = .seconds(60), memoryLimit: Int? = LuaRuntime.memoryLimit(mebibytes: nil),
                    mutation: SimulatedOrchestrator.Mutation? = nil) {
            self.timeout = timeout
            self.memoryLimit = memoryLimit
            self.mutation = mutation
            self.filter = filter
            self.seed = seed
            self.project = project
            self.projectChosen = projectChosen
            self.searchPath = searchPath
            self.userPluginDirectory = userPluginDirectory
            self.executablePath = executablePath
        }
    }

    /// How one test went.
    public struct Result: Sendable {
        /// The test's name (a file's path when the file itself failed).
        public var name: String
        /// Nil when it passed; else `FILE:LINE: MESSAGE`.
        public var failure: String?
        /// When it failed: the traceback.
        public var details: [String]
        /// What the test printed, and heph's reports (a plugin's log): bytes, as Lua wrote them.
        public var output: [UInt8]
        /// The seed it ran with.
        public var seed: Int
        /// Whether the file failed before any test ran (it does not load, or its top level fails).
        public var isFile = false
        /// Whether it passed.
        public var passed: Bool { failure == nil }
    }

    /// Why a file's tests could not be listed.
    public enum ListingFailure: Error, Sendable {
        /// The file does not load, or its top level fails: a failed "test" named after it.
        case file(Result)
        /// `--filter` is not a Lua pattern.
        case badFilter(String)
    }

    /// Bytes of a test's output kept (the rest is counted, not kept).
    static let outputLimit = 1 << 20

    public let options: Options

    /// A runner with `options`.
    public init(options: Options) {
        self.options = options
    }

    /// Lists `file`'s tests (every one, with whether `--filter` selects it).
    public func list(_ file: String) async throws(ListingFailure) -> [TestReport.Declared] {
        let seed = options.seed ?? Self.newSeed()
        let run = await runOne(file, name: nil, seed: seed)
        switch run.outcome {
        case .exited(0) where run.report.declared != nil:
            return run.report.declared ?? []
        case .failed(let failure) where failure.message.hasPrefix("--filter: "):
            throw .badFilter(String(failure.message.dropFirst("--filter: ".count).prefix { $0 != "\n" }))
        case .failed(let failure):
            throw .file(Self.failed(file, failure.message, output: run.output, seed: seed, isFile: true))
        case .exited(let code):
            throw .file(Self.failed(file, "\(file): its top level called heph.exit(\(code)): tests are declared, not run, there", output: run.output, seed: seed, isFile: true))
        case .finished, .lostLead, .reloaded:
            throw .file(Self.failed(file, "\(file): its top level ended before its tests were listed", output: run.output, seed: seed, isFile: true))
        }
    }

    /// Runs the test `name` of `file`.
    public func run(_ file: String, name: String) async -> Result {
        let seed = options.seed ?? Self.newSeed()
        let run = await runOne(file, name: name, seed: seed)
        switch run.outcome {
        case .failed(let failure):
            return Self.failed(name, failure.message, output: run.output, seed: seed)
        case .exited(0) where run.report.passed:
            return Result(name: name, failure: nil, details: [], output: run.output, seed: seed)
        case .exited(let code):
            return Self.failed(name, "\(file): the script called heph.exit(\(code)) before the test's function returned", output: run.output, seed: seed)
        case .finished, .lostLead, .reloaded:
            return Self.failed(name, "\(file): the test ended before its function returned", output: run.output, seed: seed)
        }
    }

    /// One run of `file` in a fresh world: its outcome, report and output.
    private func runOne(_ file: String, name: String?, seed: Int) async -> (outcome: LuaRunOutcome, report: TestReport, output: [UInt8]) {
        let clock = VirtualClock()
        let session = BackendSession(simulating: SimulatedEngine(clock: clock), project: options.project, projectChosen: options.projectChosen,
                                     mutation: options.mutation)
        let report = TestReport()
        let output = Mutex<(kept: [UInt8], dropped: Int)>(([], 0))
        let keep: @Sendable ([UInt8]) -> Void = { bytes in
            output.withLock { output in
                let room = max(Self.outputLimit - output.kept.count, 0)
                output.kept += bytes.prefix(room)
                output.dropped += max(bytes.count - room, 0)
            }
        }
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: session, commandName: "test",
            output: keep, diagnostics: { keep(Array($0.utf8)) },
            searchPath: options.searchPath, executablePath: options.executablePath, progress: nil,
            userPluginDirectory: options.userPluginDirectory, memoryLimit: options.memoryLimit,
            testCase: TestCase(name: name, seed: seed, filter: options.filter, report: report)))
        // Real time, not the run's clock: what this bounds is how long a test may keep the
        // operator waiting (a heph.shell that never ends takes no virtual time at all).
        let timeout = options.timeout
        let limit = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            runtime.endUnfinishedTest(within: "\(timeout.components.seconds) s of real time (heph test --timeout)")
        }
        let outcome = await runtime.run(LuaScript(.file(file)))
        limit.cancel()
        // Whatever still sleeps in the world (a health probe, a restart policy) ends here.
        clock.stop()
        await runtime.close()
        try? await session.close()
        let (kept, dropped) = output.withLock { ($0.kept, $0.dropped) }
        return (outcome, report, dropped == 0 ? kept : kept + Array("\n… and \(dropped) bytes more, not kept\n".utf8))
    }

    private static func failed(_ name: String, _ message: String, output: [UInt8], seed: Int, isFile: Bool = false) -> Result {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return Result(name: name, failure: lines.first ?? message, details: Array(lines.dropFirst()), output: output, seed: seed, isFile: isFile)
    }

    /// A seed for a test run without `--seed`: positive, so `--seed` takes it back.
    static func newSeed() -> Int {
        Int.random(in: 1...Int(Int32.max))
    }
}
