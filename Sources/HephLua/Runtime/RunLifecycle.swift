/// Where the runtime's runs are: the one in progress, its shutdown, the state's closing.
/// Owned by the runtime and touched only on its thread.
struct RunLifecycle {
    /// The run in progress.
    var current: RunState?
    /// The shutdown under way, if any.
    var shutdown: ShutdownState?
    /// `heph.on_shutdown` handlers (registry references), in the order registered.
    var shutdownHandlers: [Int32] = []
    /// The `stop` functions of the plugins `heph.use` set up, in the order set up.
    var pluginStops: [(plugin: String, function: Int32)] = []
    /// How many runs began, for numbering them (a timer that outlives its run knows it).
    var runsStarted = 0
    /// The state is being closed (its finalizers run): waits in place are refused.
    var closing = false
    /// Who waits for the run in progress to end (a reload's ``LuaRuntime/retire()``).
    var endWaiters: [CheckedContinuation<LuaRunOutcome?, Never>] = []
}

/// The run in progress: how it is doing, and who waits for its outcome.
struct RunState {
    var completion: CheckedContinuation<LuaRunOutcome, Never>
    /// Which run this is (for timers that outlive it).
    var number: Int
    var mainFinished = false
    /// A session (the REPL's): it lasts until asked to end, registered things or not.
    var session: Session?
}
