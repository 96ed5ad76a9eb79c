import CHephLua
import CLua
import Foundation
import HephDocker
import Synchronization

/// One Lua 5.4 state with the `heph` module, owned by one thread.
///
/// Everything that touches the state runs on that thread (``LuaThread``); engine calls run
/// on tasks and hand their results back as `Sendable` values. The main chunk and every
/// callback run as coroutines the runtime resumes, so a waiting call suspends only the
/// coroutine that made it. Call ``close()`` when done.
public final class LuaRuntime: @unchecked Sendable {
    // @unchecked: every stored `var` below is touched only on `thread`.

    /// What a runtime is built from.
    public struct Configuration: Sendable {
        /// The orchestrator behind the module's functions, made on first use. The runtime
        /// does not close it.
        public var backend: BackendSession
        /// The command running the script (`run`, `check`, `repl`), for messages that name
        /// its options.
        public var commandName: String
        /// Where `print` writes, as bytes (a Lua string is bytes: it may hold any); standard
        /// output by default.
        public var output: @Sendable ([UInt8]) -> Void
        /// Where errors of callbacks are reported; standard error by default.
        public var diagnostics: @Sendable (String) -> Void
        /// Where `io.stderr:write` goes, as bytes, when not to standard error itself
        /// (`heph run --log-format json` makes each line an object); nil: `io.stderr` is
        /// Lua's own.
        public var errorOutput: (@Sendable ([UInt8]) -> Void)?
        /// `?.lua` templates searched by `require` after the script's directory (`$HEPH_PATH`).
        public var searchPath: [String]
        /// `arg[-1]`: how heph was started.
        public var executablePath: String
        /// Where progress of long calls (`heph.up`) goes, a line at a time; nil shows none.
        /// `heph run` shows it on standard error unless --no-progress.
        public var progress: (@Sendable (String) -> Void)?
        /// `~/.config/heph/plugins`, searched by `heph.use` after `$HEPH_PATH`; nil skips it.
        public var userPluginDirectory: String?
        /// Bytes the Lua state may hold while Lua code runs (`heph run --memory-limit`);
        /// past it, Lua code gets "not enough memory". Nil: no limit. By default
        /// ``LuaRuntime/defaultMemoryLimitMiB``: a watcher left running for weeks must not
        /// let one runaway table take the host's memory (and the engine's) with it.
        public var memoryLimit: Int?
        /// For scripts one did not write (`heph run --sandbox`): no process, file or debug
        /// access from Lua, no C modules, no `heph.shell`, and bind mounts only from the
        /// directories the policy allows. Nil: everything is allowed.
        public var sandbox: SandboxPolicy?
        /// For `heph test`: the run is one test of a test file (or the listing of its
        /// tests), with `test` and `sim`; its main coroutine computes under the hook time
        /// limit, and a callback that fails fails the test. Nil: an ordinary run.
        public var testCase: TestCase?
        /// Whether a run that keeps running registers itself in the engine as a watcher of
        /// its project (`heph run`), so `heph status` and `heph down` can find it.
        public var registersWatcher = false
        /// How long the `on_shutdown` handlers and plugins' stops may take, together,
        /// before the run ends anyway.
        public var shutdownGrace: Duration = .seconds(60)
        /// Where `heph plugins NAME` gets the plugin's description (JSON), when the script
        /// is ``LuaScript/describing(plugin:)``.
        public var describedPlugin: @Sendable (String) -> Void = { _ in }
        /// The stops and removals in progress, shared by every runtime made from this
        /// configuration (a run and its reloads): a transition one state's call caused is
        /// `expected` in the other.
        public var expectations = SharedExpectations()
        /// The engine watcher a run and its reloads share (`heph run`); nil: each runtime
        /// watches on its own.
        public var transitionFeed: TransitionFeed?
        /// Hears every hook run as it ends (`heph run --metrics`, `--log-format json`).
        public var hookRuns: (@Sendable (HookRun) -> Void)?

        /// Makes a configuration.
        public init(
            backend: BackendSession,
            commandName: String = "run",
            output: @escaping @Sendable ([UInt8]) -> Void = LuaRuntime.standardOutput,
            diagnostics: @escaping @Sendable (String) -> Void = LuaRuntime.standardError,
            searchPath: [String] = [],
            executablePath: String = "heph",
            progress: (@Sendable (String) -> Void)? = nil,
            userPluginDirectory: String? = PluginCatalog.defaultUserDirectory,
            sandbox: SandboxPolicy? = nil,
            memoryLimit: Int? = LuaRuntime.memoryLimit(mebibytes: nil),
            testCase: TestCase? = nil
        ) {
            self.backend = backend
            self.commandName = commandName
            self.output = output
            self.diagnostics = diagnostics
            self.searchPath = searchPath
            self.executablePath = executablePath
            self.progress = progress
            self.userPluginDirectory = userPluginDirectory
            self.sandbox = sandbox
            self.memoryLimit = memoryLimit
            self.testCase = testCase
        }

        /// The clock every wait, timer and deadline of the run reads, `heph.now()` too: the
        /// backend session's, so the runtime and its orchestrator share one.
        public var clock: any HephClock { backend.clock }
    }

    /// MiB a script's Lua may hold unless told otherwise (`--memory-limit`).
    public static let defaultMemoryLimitMiB = 1024

    /// The limit in bytes for `--memory-limit MIB`: the default when not given, none for 0.
    public static func memoryLimit(mebibytes: Int?) -> Int? {
        let mebibytes = mebibytes ?? defaultMemoryLimitMiB
        return mebibytes > 0 ? mebibytes << 20 : nil
    }

    /// Writes to standard output and flushes, as Lua's own `print` does.
    public static let standardOutput: @Sendable ([UInt8]) -> Void = { bytes in
        bytes.withUnsafeBufferPointer { buffer in buffer.withMemoryRebound(to: CChar.self) { heph_write_stdout($0.baseAddress, $0.count) } }
    }

    /// Writes to standard error.
    public static let standardError: @Sendable (String) -> Void = { text in
        var text = text
        text.withUTF8 { bytes in bytes.withMemoryRebound(to: CChar.self) { heph_write_stderr($0.baseAddress, $0.count) } }
    }

    let configuration: Configuration
    let thread: LuaThread
    /// ``HephModule/bodies``, held here: the dispatcher reads it on every call.
    let functions = HephModule.bodies
    /// Whether the run's clock is the real one, read without the existential on every
    /// `heph.now()`.
    private let realClock: Bool

    /// The main state; nil once closed (or when setting it up failed).
    var state: OpaquePointer?
    /// The C-side data beside the state (watchdog deadline, interrupt flag, call count).
    let info: UnsafeMutablePointer<heph_state_info>
    /// Registry references the runtime keeps: the module, the managed set, the handle
    /// metatables, the pattern matcher, the exit signal.
    var module = ModuleReferences()
    /// Why setting the state up failed, if it did (a bug in the prelude).
    var setupFailure: String?

    /// Waiting calls in progress, by ticket id.
    var tickets = Registry<Ticket>()
    /// How many coroutines are running right now (resumed and not yet yielded or ended).
    var resuming = 0
    /// Seconds the coroutine being resumed spent in waits in place (not computation).
    var waitedInPlace: Double = 0
    /// Whether a REPL statement is computing right now (read from other threads, so Ctrl-C
    /// interrupts only that).
    let evaluationComputing = Mutex(false)
    /// Which `heph attach` session's statement computes, and the interrupts asked (from the
    /// sessions' threads, so Ctrl-C in one interrupts only its statement).
    let attachedInterrupts = Mutex(AttachedInterrupts())
    /// The session whose statement the Lua thread runs right now (what it prints is the
    /// session's).
    var attachedRunning: Int?
    /// Statements of `heph attach` sessions in progress, by session.
    var attached: [Int: AttachedStatement] = [:]
    /// Coroutines suspended in a waiting call, by the ticket they wait for.
    var suspended: [Int: ManagedCoroutine] = [:]
    /// Tickets of calls the shutdown cancelled whose coroutines must not resume.
    var abandonedTickets: Set<Int> = []
    /// Health pollers started by scripts, by id.
    var pollers = Registry<LuaPoller>()
    /// Hooks registered with `heph.on`, by id.
    var hooks = Registry<LuaHook>()
    /// Follows the engine while any hook is registered.
    var watcher: ContainerWatcher?
    /// The watcher's last reported failure, so one that persists is reported once.
    var lastWatchFailure: String?
    /// Every service `heph.up` brought up in this run, for `heph.dependents`.
    var services: [String: Topology.Service] = [:]
    /// The script being run, when it is a file: `heph.use` looks next to it first.
    var scriptPath: String?
    /// Tells this runtime's tickets from other runtimes' in the shared expectations.
    let serial = LuaRuntime.nextSerial.add(1, ordering: .relaxed).oldValue
    private static let nextSerial = Atomic<Int>(1)
    /// Timers started with `heph.every` and `heph.after`, by id.
    var timers = Registry<LuaTimer>()
    /// How the run is to end, set the moment a shutdown is asked for (`heph.exit`, a
    /// signal), from any thread: the job that begins it may not have run yet, and whatever
    /// ends the run meanwhile (the main chunk returning, interrupted) must not override it.
    let pendingShutdown = Mutex<LuaRunOutcome?>(nil)
    /// The run in progress, its shutdown, and the state's closing.
    var lifecycle = RunLifecycle()
    /// The lead of the project this process holds (`heph run --lead`, `heph.lead()`).
    var leadership: (any Leadership)?
    /// Whether this run's script has called the engine (heph.lead() must come first). Per
    /// runtime: a run that lost the lead runs the script again in a new one, on the same
    /// connection.
    var usedEngine = false
    /// Why the lead was lost, once it was: the run ends as lost however it ends.
    var leadLost: String?
    /// Whether the loss was said on stderr.
    var lostLeadReported = false
    /// The `heph.lead()` campaign under way, which a second call joins.
    let leadCampaign = Mutex<Task<LeadGrant, any Error>?>(nil)
    /// What the previous leader last saw, for the first watcher of this leader.
    var leaderBaseline: [String: WatchedStatus] = [:]
    /// In a test: the limit it ran out of (``endUnfinishedTest(within:)``), from any thread.
    let unfinishedTest = Mutex<String?>(nil)
    /// Whether the run describes a plugin (`heph plugins NAME`): its main computes under
    /// the hook time limit.
    var describingPlugin = false
    /// What each plugin being loaded has registered so far, by the coroutine loading it.
    var pluginScopes = PluginScopes()
    /// A reload's new state until it takes over (``runDormant(_:mainReturned:)``).
    var dormant: DormantRun?

    /// Makes a runtime: a thread, a state on it, the standard libraries and `heph`.
    public init(configuration: Configuration) {
        self.configuration = configuration
        realClock = configuration.clock is SystemClock
        thread = LuaThread(name: "heph-lua")
        guard let info = heph_info_new(configuration.memoryLimit ?? 0) else {
            fatalError("heph: out of memory making a Lua runtime")
        }
        self.info = info
        thread.guardEntries(info.pointee.guard, limit: Self.defaultHookTimeout)
        if let virtual = configuration.clock as? VirtualClock { thread.holdWhileBusy(virtual) }
        LuaRuntime.installDispatcher
        thread.post { self.setUp() }
    }

    /// Runs `script` until it ends: its main chunk returned and nothing keeps it going (no
    /// hook, timer or poller, no callback in progress), or it called `heph.exit`, or
    /// ``requestShutdown(exitCode:)`` was called, or it failed. The `on_shutdown` handlers
    /// run before it ends, in every case. One script at a time.
    public func run(_ script: LuaScript) async -> LuaRunOutcome {
        await withCheckedContinuation { continuation in
            let posted = thread.post { self.begin(script, completion: continuation) }
            if !posted { continuation.resume(returning: .failed(LuaFailure(kind: .runtime, message: "the Lua runtime is closed"))) }
        }
    }

    /// Now on the run's clock, in seconds since the Unix epoch (`heph.now()`).
    @inline(__always)
    func epochSeconds() -> Double {
        guard realClock else { return runClockEpochSeconds() }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    @inline(never)
    private func runClockEpochSeconds() -> Double {
        configuration.clock.epochSeconds
    }

    /// How many calls went through the C trampoline with their stack checked (each call
    /// that returned normally; an unbalanced stack is raised as an error instead).
    public func checkedBridgeCalls() async -> UInt64 {
        await thread.perform { self.info.pointee.bridge_calls } ?? 0
    }

    /// How many values sit on the main state's stack between jobs: always 0 unless the
    /// bridge leaks (a diagnostic the tests assert on).
    public func mainStackDepth() async -> Int32 {
        await thread.perform { self.state.map { lua_gettop($0) } ?? 0 } ?? 0
    }

    /// Ends a run in progress at once (it fails, without its `on_shutdown` handlers), lets
    /// go of everything it registered, closes the state and ends the thread. Closing twice
    /// is fine; a run asked for afterwards fails at once.
    public func close() async {
        await thread.perform {
            self.completeRun(.failed(LuaFailure(kind: .runtime, message: "the Lua runtime was closed")))
            self.lifecycle.closing = true
            // lua_close runs every pending finalizer: under the memory limit, with no wait
            // in place (nothing would end it), and the watch thread over the job.
            if let state = self.state {
                _ = heph_enter_lua(state)
                lua_close(state)
            }
            self.state = nil
        }
        thread.stop()
    }

    deinit {
        // The Lua thread reports to the info's watch thread to its last job.
        nonisolated(unsafe) let info = self.info
        thread.whenEnded { heph_info_free(info) }
    }
}

/// One run of a hook, as it ended.
public struct HookRun: Sendable {
    /// The event the hook is registered on (`exit`, `unhealthy`, `change`, …).
    public var event: String
    /// From its start to its end, waits included.
    public var seconds: Double
    /// Its error with the traceback, when it failed.
    public var error: String?
}

/// The registry references behind the module.
struct ModuleReferences {
    /// The `heph` table.
    var heph: Int32 = LUA_NOREF
    /// The weak set of coroutines the runtime manages.
    var managed: Int32 = LUA_NOREF
    /// The metatable of each kind of handle, by `HandleKind.rawValue`.
    var handleMetatables: [Int32] = []
    /// `matches(name, pattern)`: whether a hook's pattern target matches a name.
    var matches: Int32 = LUA_NOREF
    /// What `heph.exit` raises where it cannot yield.
    var exitSignal: Int32 = LUA_NOREF
    /// `format(...)`: values as the REPL prints them.
    var format: Int32 = LUA_NOREF
    /// `heph test`'s harness: what the main coroutine runs around the test file's chunk.
    var testHarness: Int32 = LUA_NOREF
    /// `describe_plugin(name)`: what `heph plugins NAME` runs.
    var describePlugin: Int32 = LUA_NOREF
    /// The metatable of a hook's `ev`: `tostring(ev)` is one line.
    var eventMetatable: Int32 = LUA_NOREF
}

/// What a session keeps beside its run.
struct Session {
    /// Called once the script's main chunk has returned: the prompt may open.
    var ready: (@Sendable () -> Void)?
    /// The evaluation in progress, and who waits for it.
    var evaluation: CheckedContinuation<Evaluation, Never>?
}
