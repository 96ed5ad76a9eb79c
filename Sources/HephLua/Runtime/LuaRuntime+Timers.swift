import CLua

/// A timer a script started with `heph.every` or `heph.after`.
struct LuaTimer {
    /// Registry reference to the script's function.
    var function: Int32
    /// Sleeps and posts each firing to the Lua thread.
    var task: Task<Void, Never>
    var repeats: Bool
    /// Whether a call is in progress (a repeating timer skips a firing meanwhile).
    var busy = false
}

extension LuaRuntime {
    /// `heph.every(seconds, fn)` / `heph.after(seconds, fn)`: calls `fn()` in a coroutine of
    /// its own every `seconds` (fixed rate), or once after them. Returns a handle with `:stop()`.
    func startTimer(_ stack: LuaStack, repeats: Bool) throws(BridgeError) -> Int32 {
        let seconds = repeats ? try stack.checkInterval(1, minimum: Self.minimumTimerInterval) : try stack.checkSeconds(1, allowZero: true)
        try stack.checkFunction(2)
        lua_pushvalue(stack.state, 2)
        let function = stack.makeReference()
        let thread = self.thread
        let clock = configuration.clock
        let id = timers.add { id in
            LuaTimer(function: function, task: clock.task {
                await clock.repeating(every: .seconds(seconds), startingAfter: .seconds(seconds)) {
                    thread.post { [weak self] in self?.fireTimer(id) }
                    return repeats
                }
            }, repeats: repeats)
        }.id
        try pushHandle(stack, kind: .timer, id: id)
        return 1
    }

    /// The shortest `heph.every` interval.
    static let minimumTimerInterval = 0.001

    /// `timer:stop()`: no call starts after this; twice is fine.
    func stopTimer(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        stopTimer(id: try handleID(stack, kind: .timer, at: 1))
        checkRunFinished()
        return 0
    }

    func stopAllTimers() {
        for id in timers.ids { stopTimer(id: id) }
    }

    func stopTimer(id: Int) {
        guard let timer = timers.remove(id), let state else { return }
        timer.task.cancel()
        LuaStack(state).releaseReference(timer.function)
    }

    func fireTimer(_ id: Int) {
        guard lifecycle.shutdown == nil, var timer = timers[id], !timer.busy, let state, !deferFiring(id) else { return }
        if timer.repeats {
            timer.busy = true
            timers[id] = timer
            call(timer.function, kind: .timer(id))
        } else {
            // A one-shot timer is done once it fires; its coroutine keeps the function.
            timers[id] = nil
            call(timer.function, kind: .timer(id))
            LuaStack(state).releaseReference(timer.function)
        }
    }
}
