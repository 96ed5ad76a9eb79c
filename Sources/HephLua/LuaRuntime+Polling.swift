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
    /// `heph.start_health_polling(interval_s, fn)`: polls on a task; each snapshot is
    /// handed to `fn` in a new managed coroutine on the Lua thread. Returns a handle with
    /// `:stop()`. A run goes on while any poller is running.
    func startPolling(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let seconds = try stack.checkSeconds(1, allowZero: false)
        try stack.checkFunction(2)
        let id = nextPollerID
        nextPollerID += 1
        lua_pushvalue(stack.state, 2)
        let function = stack.makeReference()
        let thread = self.thread
        let handle = configuration.engine.startHealthPolling(
            interval: .seconds(seconds),
            onError: { error in thread.post { [weak self] in self?.pollFailed(id, error) } },
            callback: { statuses in thread.post { [weak self] in self?.deliver(statuses, to: id) } }
        )
        pollers[id] = LuaPoller(function: function, handle: handle)
        guard let memory = lua_newuserdatauv(stack.state, MemoryLayout<Int>.size, 0) else {
            throw .raise("heph.start_health_polling: out of memory")
        }
        memory.storeBytes(of: id, as: Int.self)
        stack.pushReference(module.pollerMetatable)
        lua_setmetatable(stack.state, -2)
        return 1
    }

    /// `poller:stop()`: stops it; stopping twice is not an error.
    func stopPolling(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        guard let id = pollerID(stack, at: 1) else {
            throw .argument(1, "heph.poller expected, got \(stack.typeName(at: 1))")
        }
        stopPoller(id)
        checkRunFinished()
        return 0
    }

    /// Stops every poller (the run ended, or the runtime closes).
    func stopAllPollers() {
        for id in Array(pollers.keys) { stopPoller(id) }
    }

    private func stopPoller(_ id: Int) {
        guard let poller = pollers.removeValue(forKey: id), let state else { return }
        poller.handle.stop()
        LuaStack(state).releaseReference(poller.function)
    }

    /// The poller id inside the handle at `index`, when it is one of ours.
    private func pollerID(_ stack: LuaStack, at index: Int32) -> Int? {
        guard stack.type(at: index) == LUA_TUSERDATA, lua_getmetatable(stack.state, index) != 0 else { return nil }
        stack.pushReference(module.pollerMetatable)
        let ours = lua_rawequal(stack.state, -1, -2) != 0
        stack.pop(2)
        guard ours, let memory = lua_touserdata(stack.state, index) else { return nil }
        return memory.load(as: Int.self)
    }

    /// Calls the poller's function with `{ [full name] = status }` in a new coroutine.
    private func deliver(_ statuses: [String: ContainerStatus], to id: Int) {
        guard let state, var poller = pollers[id] else { return }
        if poller.failedThisTick {
            poller.failedThisTick = false
        } else {
            poller.lastFailure = nil
        }
        pollers[id] = poller
        guard !poller.busy else { return }
        poller.busy = true
        pollers[id] = poller
        let stack = LuaStack(state)
        stack.pushReference(poller.function)
        guard let coroutine = spawnCoroutine(stack, kind: .pollerCallback(id)) else {
            pollers[id]?.busy = false
            return
        }
        LuaStack(coroutine.state).push(.record(statuses.mapValues { .string($0.rawValue) }))
        resume(coroutine, arguments: 1)
    }

    /// Reports a failed poll once per run of failures (the snapshot still arrives, with
    /// every container `error`).
    private func pollFailed(_ id: Int, _ error: DockerError) {
        guard var poller = pollers[id] else { return }
        poller.failedThisTick = true
        let isNew = poller.lastFailure != error.message
        poller.lastFailure = error.message
        pollers[id] = poller
        guard isNew else { return }
        configuration.diagnostics("heph: health polling: \(error.message)\n")
    }
}
