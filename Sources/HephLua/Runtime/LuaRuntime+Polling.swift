import CHephLua
import CLua
import HephDocker

/// A health poller a script started with `heph.start_health_polling`.
struct LuaPoller {
    /// Registry reference to the script's function.
    var function: Int32
    /// The poll running on a task.
    var handle: HealthPoller
    /// Whether a call of the function is in progress (a snapshot that arrives meanwhile is
    /// skipped: the next one is fresher).
    var busy = false
    /// The last failure reported, so an engine that stays down is reported once.
    var lastFailure: String?
    /// Whether the snapshot about to arrive comes from a failed poll (the poll reports the
    /// failure, then the snapshot, in that order).
    var failedThisTick = false
}

extension LuaRuntime {
    /// The shortest health-polling interval: each poll is an engine call.
    static let minimumPollInterval = 0.01

    /// `heph.start_health_polling(interval_s, fn)`: polls on a task; each snapshot is
    /// handed to `fn` in a new managed coroutine on the Lua thread. Returns a handle with
    /// `:stop()`. A run goes on while any poller is running.
    func startPolling(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let seconds = try stack.checkInterval(1, minimum: Self.minimumPollInterval)
        try stack.checkFunction(2)
        try applyEngineSettings()
        usedEngine = true
        lua_pushvalue(stack.state, 2)
        let function = stack.makeReference()
        let thread = self.thread
        let backend = configuration.backend
        let clock = configuration.clock
        let id = pollers.add { id in
            LuaPoller(function: function, handle: HealthPoller.start(
                clock: clock,
                interval: .seconds(seconds),
                snapshot: { try await backend.orchestrator().healthSnapshot() },
                onError: { error in thread.post { [weak self] in self?.pollFailed(id, error) } },
                callback: { statuses in thread.post { [weak self] in self?.deliver(statuses, to: id) } }
            ))
        }.id
        try pushHandle(stack, kind: .poller, id: id)
        return 1
    }

    /// `poller:stop()`: stops it; stopping twice is not an error.
    func stopPolling(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        stopPoller(try handleID(stack, kind: .poller, at: 1))
        checkRunFinished()
        return 0
    }

    /// Stops every poller (the run ended, or the runtime closes).
    func stopAllPollers() {
        for id in pollers.ids { stopPoller(id) }
    }

    func stopPoller(_ id: Int) {
        guard let poller = pollers.remove(id), let state else { return }
        poller.handle.stop()
        LuaStack(state).releaseReference(poller.function)
    }

    /// Calls the poller's function with `{ [full name] = status }` in a new coroutine.
    private func deliver(_ statuses: [String: ContainerStatus], to id: Int) {
        // A reload's new state skips snapshots until it takes over: the next one is fresher.
        guard lifecycle.shutdown == nil, dormant == nil, var poller = pollers[id] else { return }
        if poller.failedThisTick {
            poller.failedThisTick = false
        } else {
            poller.lastFailure = nil
        }
        pollers[id] = poller
        guard !poller.busy else { return }
        poller.busy = true
        pollers[id] = poller
        call(poller.function, kind: .pollerCallback(id), argument: .record(statuses.mapValues { .string($0.rawValue) }))
    }

    /// Reports a failed poll once per run of failures (the snapshot still arrives, with
    /// every container `error`).
    private func pollFailed(_ id: Int, _ error: DockerError) {
        guard var poller = pollers[id] else { return }
        poller.failedThisTick = true
        let isNew = poller.lastFailure != error.explained
        poller.lastFailure = error.explained
        pollers[id] = poller
        guard isNew else { return }
        report("health polling: \(error.explained)")
    }
}
