import Synchronization

/// What makes a runtime run one test of a `heph test` file (``LuaRuntime/Configuration/testCase``):
/// the file's top level, then the test's function, with `test` and `sim` as globals, on a
/// simulated engine in virtual time. Without a name it lists the file's tests instead.
public struct TestCase: Sendable {
    /// The test to run; nil lists the file's tests.
    public var name: String?
    /// `math.randomseed`'s argument for this test.
    public var seed: Int
    /// When listing: a Lua pattern a test's name must match to be run (`--filter`).
    public var filter: String?
    /// Where the run tells what it found and how it went.
    public let report: TestReport
    /// Virtual seconds after which a test that has not finished fails (a day).
    public static let virtualLimit = 86_400

    /// Makes a test case.
    public init(name: String?, seed: Int, filter: String? = nil, report: TestReport = TestReport()) {
        self.name = name
        self.seed = seed
        self.filter = filter
        self.report = report
    }
}

/// What a test run tells its runner beside its outcome: the file's tests (when listing),
/// whether the test's function returned, and why it was stopped when it stalled.
public final class TestReport: Sendable {
    /// One test a file declares.
    public struct Declared: Sendable, Equatable {
        /// Its name.
        public var name: String
        /// Whether `--filter` selects it.
        public var selected: Bool
    }

    private let state = Mutex<(declared: [Declared]?, passed: Bool)>((nil, false))

    /// Makes an empty report.
    public init() {}

    /// The tests the file declares, in order, once a listing run has gone through the
    /// file's top level; nil until then.
    public var declared: [Declared]? { state.withLock { $0.declared } }

    /// Whether the test's function returned without an error.
    public var passed: Bool { state.withLock { $0.passed } }

    func declare(_ tests: [Declared]) {
        state.withLock { $0.declared = tests }
    }

    func markPassed() {
        state.withLock { $0.passed = true }
    }
}
