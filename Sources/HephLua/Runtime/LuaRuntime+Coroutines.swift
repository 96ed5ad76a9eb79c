import CHephLua
import CLua
import Foundation

/// A coroutine the runtime resumes: the main chunk or a callback.
struct ManagedCoroutine {
    enum Kind: Equatable {
        /// The script's main chunk.
        case main
        /// A call of a health poller's function.
        case pollerCallback(Int)
        /// A call of a hook: its id, the event it is registered `on` (`exit`, …), and what
        /// it was called for (for reports).
        case hook(Int, on: String, event: String)
        /// A call of a timer's function.
        case timer(Int)
        /// An `on_shutdown` handler.
        case shutdown
        /// The `stop` of a plugin `heph.use` set up, at shutdown, and its number.
        case pluginStop(String, Int)
        /// A statement typed at the REPL.
        case evaluation
        /// A statement typed in a `heph attach` session, by session.
        case attached(Int)

        /// What runs, as the watch thread names it when it must end heph.
        var cause: String {
            switch self {
            case .main: "the script's main chunk"
            case .pollerCallback: "a health polling callback"
            case .hook(_, _, let event): "a hook on \(event)"
            case .timer: "a timer's function"
            case .shutdown: "an on_shutdown handler"
            case .pluginStop(let plugin, _): "the stop function of plugin \(plugin)"
            case .evaluation: "the statement at the prompt"
            case .attached: "a statement of a heph attach session"
            }
        }
    }

    /// Registry reference that keeps the coroutine alive while the runtime needs it.
    var reference: Int32
    /// The coroutine's `lua_State *`.
    var state: OpaquePointer
    var kind: Kind
    /// Seconds of Lua computation so far (time spent suspended does not count).
    var computeSeconds: Double = 0
    /// When it was made (a hook run's duration counts from here: `--metrics`).
    var started = ContinuousClock.now
}

extension LuaRuntime {
    /// Loads `script` and starts its main chunk (on the Lua thread).
    func begin(_ script: LuaScript, session: Session? = nil, completion: CheckedContinuation<LuaRunOutcome, Never>) {
        guard let state else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: setupFailure ?? "the Lua runtime is closed")))
            return
        }
        guard lifecycle.current == nil else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: "a script is already running in this runtime")))
            return
        }
        let stack = LuaStack(state)
        let status: Int32
        // Under --sandbox, text only: Lua does not verify bytecode.
        let mode: String? = configuration.sandbox != nil ? "t" : nil
        switch script.source {
        case .file(let path):
            status = luaL_loadfilex(state, path, mode)
        case .standardInput:
            status = luaL_loadfilex(state, nil, mode)
        case .code(let code, let name):
            status = stack.load(code, chunkName: "=\(name)", mode: mode)
        case .pluginDescription:
            stack.pushReference(module.describePlugin)
            status = LUA_OK
        }
        guard status == LUA_OK else {
            let message = stack.lossyString(at: -1) ?? "cannot load \(script.argumentZero)"
            stack.pop()
            completion.resume(returning: .failed(LuaFailure(kind: status == LUA_ERRSYNTAX ? .syntax : .cannotOpen, message: message)))
            return
        }
        if case .pluginDescription = script.source { describingPlugin = true }
        configureSearchPath(stack, for: script)
        setArguments(stack, for: script)
        guard let (main, extra) = spawnMain(stack, for: script) else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: "cannot create a coroutine for the main chunk")))
            return
        }
        let coroutine = LuaStack(main.state)
        for argument in script.arguments { coroutine.push(argument) }
        lifecycle.runsStarted += 1
        pendingShutdown.withLock { $0 = nil }
        lifecycle.current = RunState(completion: completion, number: lifecycle.runsStarted, session: session)
        // The lead was lost before the run could begin: it ends at once.
        if let reason = leadLost {
            completeRun(.lostLead(reason))
            return
        }
        resume(main, arguments: Int32(script.arguments.count) + extra)
    }

    /// Moves the function on top of the main stack into a new managed coroutine. (nil only
    /// if Lua broke its promise that lua_newthread never returns NULL; the function is popped.)
    func spawnCoroutine(_ stack: LuaStack, kind: ManagedCoroutine.Kind) -> ManagedCoroutine? {
        let state = stack.state
        guard let coroutine = lua_newthread(state) else {
            stack.pop()
            return nil
        }                                               // function, thread
        stack.pushReference(module.managed)             // function, thread, managed
        lua_pushvalue(state, -2)
        stack.push(true)
        lua_rawset(state, -3)
        stack.pop()                                     // function, thread
        heph_insert(state, -2)                          // thread, function
        lua_xmove(state, coroutine, 1)                  // thread
        return ManagedCoroutine(reference: stack.makeReference(), state: coroutine, kind: kind)
    }

    /// Pushes the function `reference` names and runs it in a new managed coroutine with
    /// `argument` (when given).
    func call(_ reference: Int32, kind: ManagedCoroutine.Kind, argument: LuaValue? = nil, metatable: Int32? = nil) {
        guard let state else { return }
        // A leader that can no longer prove it leads runs no further hook, timer or poller.
        switch kind {
        case .hook, .timer, .pollerCallback: if leadLapsed() { return }
        case .main, .shutdown, .pluginStop, .evaluation, .attached: break
        }
        let stack = LuaStack(state)
        stack.pushReference(reference)
        guard let coroutine = spawnCoroutine(stack, kind: kind) else { return }
        if let argument {
            let arguments = LuaStack(coroutine.state)
            arguments.push(argument)
            if let metatable {
                arguments.pushReference(metatable)
                lua_setmetatable(coroutine.state, -2)
            }
        }
        resume(coroutine, arguments: argument == nil ? 0 : 1)
    }

    /// Resumes `coroutine` with the `arguments` values on top of its stack, and deals with
    /// how it stops: suspended on a ticket, finished, failed, or stopped by the watchdog.
    func resume(_ coroutine: ManagedCoroutine, arguments: Int32) {
        guard let state else { return }
        var coroutine = coroutine
        // The main chunk and a REPL statement have no time limit (only interrupts); a
        // callback or shutdown handler has what is left of heph.config.hook_timeout; a
        // test (heph test runs unattended), the loading of a plugin that `heph plugins
        // NAME` describes and a reload's new main chunk (nobody is there to press Ctrl-C)
        // have all of it between two waits. Time spent
        // suspended in a waiting call is not counted.
        let limit = hookTimeout()
        let test = coroutine.kind == .main && (configuration.testCase != nil || describingPlugin || dormant != nil)
        let unlimited = (coroutine.kind == .main && !test) || coroutine.kind == .evaluation
        let remaining = unlimited ? 0 : test ? limit : max(limit - coroutine.computeSeconds, 0.001)
        info.pointee.limit = limit
        heph_guard_push(info.pointee.guard, remaining, coroutine.kind.cause)
        defer { heph_guard_pop(info.pointee.guard) }
        heph_watchdog_arm(coroutine.state, remaining)
        // Real time, not the run's clock: what the time limit bounds is real computation.
        let started = ContinuousClock.now
        waitedInPlace = 0
        var results: Int32 = 0
        resuming += 1
        markComputing(coroutine.kind, true)
        // The memory limit applies while Lua code runs, never to what the host pushes.
        let wasRunning = heph_enter_lua(state)
        let status = lua_resume(coroutine.state, state, arguments, &results)
        heph_leave_lua(state, wasRunning)
        markComputing(coroutine.kind, false)
        resuming -= 1
        heph_watchdog_disarm(coroutine.state)
        coroutine.computeSeconds += (ContinuousClock.now - started) / .seconds(1) - waitedInPlace

        let co = LuaStack(coroutine.state)
        // Stopped by the watchdog (time up, interrupted): suspended in the hook where Lua
        // could yield, or failed where it could not; either way it ends here.
        if let stop = heph_stop_message(info).map({ String(cString: $0) }) {
            let failure = errorReport(of: coroutine, stoppedWith: status == LUA_YIELD || status == LUA_OK ? stop : nil)
            let closing = close(coroutine)
            heph_stop_end(info)
            finish(coroutine, failure: failure, closing: closing)
            checkRunFinished()
            return
        }
        switch status {
        case LUA_YIELD:
            let ticket = results == 1 ? co.integer(at: -1) : nil
            lua_settop(coroutine.state, 0)
            if ticket == 0 {
                finish(coroutine, failure: nil, closing: close(coroutine))  // heph.exit: this coroutine ends here
            } else if let ticket, tickets[ticket] != nil, suspended[ticket] == nil {
                suspended[ticket] = coroutine
            } else {
                finish(coroutine, failure: "heph internal error: a coroutine yielded outside a waiting call", closing: close(coroutine))
            }
        case LUA_OK:
            let values: String? = switch coroutine.kind {
            case .evaluation, .attached: formatted(results: results, on: co, kind: coroutine.kind)
            default: nil
            }
            lua_settop(coroutine.state, 0)
            finish(coroutine, failure: nil, values: values)
        default:
            let failure = isExitSignal(on: co) ? nil : errorReport(of: coroutine, stoppedWith: nil)
            finish(coroutine, failure: failure, closing: close(coroutine))
        }
        checkRunFinished()
    }

    /// Runs the pending `__close` handlers of a coroutine that ends without returning
    /// (failed, stopped, exited, or dropped at the end of a run), each under a fresh limit;
    /// the failure of the last one that failed, if any.
    func close(_ coroutine: ManagedCoroutine) -> String? {
        guard let state else { return nil }
        heph_guard_push(info.pointee.guard, HEPH_CLOSE_LIMIT, "a __close handler")
        defer { heph_guard_pop(info.pointee.guard) }
        guard heph_close_coroutine(state, coroutine.state) != LUA_OK else { return nil }
        let stack = LuaStack(state)
        defer { stack.pop() }
        return stack.lossyString(at: -1) ?? "?"
    }

    /// Whether the error on top of `co` is what `heph.exit` raises where it cannot yield.
    private func isExitSignal(on co: LuaStack) -> Bool {
        guard lua_checkstack(co.state, 1) != 0 else { return false }
        co.pushReference(module.exitSignal)
        defer { co.pop() }
        return lua_rawequal(co.state, -1, -2) != 0
    }

    /// The error of a failed coroutine as a person should read it: message and traceback,
    /// without heph's own frames, with the script's line in front when the message has none.
    /// A coroutine the watchdog suspended has no error: `stoppedWith` is its message.
    private func errorReport(of coroutine: ManagedCoroutine, stoppedWith stop: String?) -> String {
        guard let state else { return "?" }
        let stack = LuaStack(state)
        if let stop {
            stop.withCString { heph_push_coroutine_traceback(state, coroutine.state, $0) }
        } else {
            heph_push_coroutine_traceback(state, coroutine.state, nil)
        }
        var lines = (stack.lossyString(at: -1) ?? "?")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\t[heph]:") }
        stack.pop()
        // A traceback of C frames alone (heph's own code raised it) points at nothing.
        if let start = lines.lastIndex(of: "stack traceback:"), lines[(start + 1)...].allSatisfy({ $0.hasPrefix("\t[C]:") }) {
            lines.removeSubrange(start...)
        }
        var message = lines.joined(separator: "\n")
        // Errors raised without a position (engine failures, error(x, 0)) get the script
        // line they came from, so a report always says where.
        if !Self.startsWithPosition(message) {
            heph_push_script_where(state, coroutine.state)
            message = (stack.lossyString(at: -1) ?? "") + message
            stack.pop()
        }
        return message
    }

    /// Lets go of a coroutine that finished (or failed with `failure`).
    private func finish(_ coroutine: ManagedCoroutine, failure: String?, closing: String? = nil, values: String? = nil) {
        guard let state else { return }
        // A plugin it was loading when it ended (stopped, say) leaves nothing registered.
        abandonPluginScopes(of: coroutine.state)
        LuaStack(state).releaseReference(coroutine.reference)
        if let closing { report("a __close handler failed: \(closing)") }
        reportWarnings()
        // Once a shutdown is asked for, what it interrupts is not news.
        let failure = failure.flatMap { shutdownRequested && Self.isInterruption($0) ? nil : $0 }
        switch coroutine.kind {
        case .main:
            if let failure {
                beginShutdown(.failed(LuaFailure(kind: .runtime, message: unfinishedTestReport(failure) ?? failure)))
            } else {
                lifecycle.current?.mainFinished = true
                lifecycle.current?.session?.ready?()
                lifecycle.current?.session?.ready = nil
                mainReturnedWhileDormant()
            }
        case .pollerCallback(let id):
            pollers[id]?.busy = false
            if let failure { callbackFailed("a health polling callback failed", in: "a health polling callback", failure) }
        case .hook(_, let on, let event):
            configuration.hookRuns?(HookRun(event: on, seconds: (ContinuousClock.now - coroutine.started) / .seconds(1), error: failure))
            if let failure { callbackFailed("a hook failed on \(event)", in: "a hook on \(event)", failure) }
        case .timer(let id):
            timers[id]?.busy = false
            if let failure { callbackFailed("a timer's function failed", in: "a timer's function", failure) }
        case .shutdown:
            lifecycle.shutdown?.running -= 1
            if let failure { report("an on_shutdown handler failed: \(failure)") }
            runNextPluginStop()
        case .pluginStop(let plugin, let number):
            if let failure { report("the stop function of plugin \(plugin) failed: \(failure)") }
            pluginStopEnded(number)
        case .evaluation:
            // Ctrl-C is no error of the statement's: no traceback for it.
            completeEvaluation(failure.map { .failed(Self.isInterruption($0) ? "interrupted" : $0) } ?? .values(values))
        case .attached(let session):
            completeAttached(session, failure.map { .failed(Self.isInterruption($0) ? "interrupted" : $0) } ?? .values(values))
        }
    }

    /// Ends the run once its main chunk returned and nothing else keeps it going (after
    /// the shutdown handlers), or once a shutdown's handlers are done.
    func checkRunFinished() {
        guard let run = lifecycle.current else { return }
        if let shutdown = lifecycle.shutdown {
            if shutdown.bringUps.isEmpty, shutdown.pendingHandlers.isEmpty, shutdown.running <= 0, shutdown.stops.isEmpty { completeRun(shutdown.outcome) }
            return
        }
        // A callback that removes the last hook or timer is still running: it may go on to
        // wait (resuming counts it), and the run lasts until it has finished.
        // A plugin's description is made once its main returns, whatever the module left
        // registered (nothing of it is to run).
        if run.mainFinished, describingPlugin {
            beginShutdown(.finished)
            return
        }
        guard run.mainFinished, run.session == nil, resuming == 0, hooks.isEmpty, timers.isEmpty, pollers.isEmpty, suspended.isEmpty else {
            if run.mainFinished { registerAsWatcher() }
            return
        }
        beginShutdown(.finished)
    }

    /// Ends the run now with `outcome`: everything the script registered is let go, and the
    /// waiter gets the outcome.
    func completeRun(_ outcome: LuaRunOutcome) {
        guard let run = lifecycle.current, let state else { return }
        let outcome = lostLeadOutcome(outcome)
        lifecycle.current = nil
        run.session?.evaluation?.resume(returning: .ended(outcome))
        endAttached(outcome)
        lifecycle.shutdown = nil
        pendingShutdown.withLock { $0 = nil }
        let stack = LuaStack(state)
        stopWatcher()
        stopAllPollers()
        stopAllTimers()
        for hook in hooks.removeAll() { stack.releaseReference(hook.function) }
        for handler in lifecycle.shutdownHandlers { stack.releaseReference(handler) }
        lifecycle.shutdownHandlers.removeAll()
        for stop in lifecycle.pluginStops { stack.releaseReference(stop.function) }
        lifecycle.pluginStops.removeAll()
        pluginScopes.removeAll()
        // Coroutines still waiting (the main chunk in a sleep when a signal came) are
        // dropped: their calls are cancelled, their pending __close handlers run.
        for (ticket, coroutine) in suspended.sorted(by: { $0.key < $1.key }) {
            tickets.remove(ticket)?.cancel()
            if let closing = close(coroutine) { report("a __close handler failed: \(closing)") }
            stack.releaseReference(coroutine.reference)
        }
        suspended.removeAll()
        abandonedTickets.removeAll()
        reportWarnings()
        let now = configuration.clock.now
        configuration.expectations.withBook { $0.closeAll(owner: serial, now: now) }
        services.removeAll()
        run.completion.resume(returning: outcome)
        for waiter in lifecycle.endWaiters { waiter.resume(returning: outcome) }
        lifecycle.endWaiters = []
    }

    /// A waiting call finished: resume the coroutine that yielded its ticket. (A ticket
    /// waited for in place is gone from `tickets` already.)
    func ticketCompleted(_ id: Int) {
        let (key, now) = (ExpectationKey(owner: serial, ticket: id), configuration.clock.now)
        configuration.expectations.withBook { $0.close(ticket: key, now: now) }
        // Abandoned at shutdown: its coroutine does not run on (``completeRun`` closes it).
        guard !abandonedTickets.contains(id) else { return abandonedCallEnded(id) }
        guard let ticket = tickets.remove(id), let coroutine = suspended.removeValue(forKey: id) else { return }
        let count = push(ticket.waitForOutcome(), onto: LuaStack(coroutine.state))
        resume(coroutine, arguments: count)
    }

    /// Pushes `true, results…` or `false, message`; returns how many values it pushed.
    func push(_ outcome: Ticket.Outcome, onto stack: LuaStack) -> Int32 {
        switch outcome {
        case .success(let values):
            stack.push(true)
            for value in values { stack.push(value) }
            return Int32(values.count + 1)
        case .failure(let failure):
            stack.push(false)
            stack.push(failure.message)
            return 2
        }
    }

    /// A callback (`what`) failed: reported (`lead: failure`), and the run goes on. In a
    /// test, the test fails with it: `FILE:LINE: message (raised in what)`, then the traceback.
    private func callbackFailed(_ lead: String, in what: String, _ failure: String) {
        guard configuration.testCase != nil else { return report("\(lead): \(failure)") }
        let firstLine = failure.prefix { $0 != "\n" }
        let message = "\(firstLine) (raised in \(what))" + failure.dropFirst(firstLine.count)
        beginShutdown(.failed(LuaFailure(kind: .runtime, message: message)))
    }

    /// Writes `heph: message` to the diagnostics.
    func report(_ message: String) {
        configuration.diagnostics("heph: \(message)\n")
    }

    /// Reports the warnings Lua gave since the last look: finalizers (`__gc`) that failed,
    /// and the script's own `warn` once it said `warn("@on")`.
    func reportWarnings() {
        var buffer = [CChar](repeating: 0, count: 1100)
        while heph_take_warning(info, &buffer, buffer.count) != 0 {
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("error in __gc (") && text.hasSuffix(")") {
                report("a finalizer (__gc) failed: \(text.dropFirst("error in __gc (".count).dropLast())")
            } else {
                report("warning: \(text)")
            }
        }
    }

    /// `heph.config.hook_timeout`, when the script set a positive number; else the default.
    func hookTimeout() -> Double {
        guard let seconds = configField("hook_timeout", { $0.number(at: -1) }) ?? nil, seconds > 0, seconds.isFinite else {
            return Self.defaultHookTimeout
        }
        // A plugin that `heph plugins NAME` loads may shorten its limit, never lengthen it.
        return describingPlugin ? min(seconds, Self.defaultHookTimeout) : seconds
    }

    /// `read` applied to `heph.config[key]`, pushed for it and popped after (raw access:
    /// no metamethod runs); nil when `heph.config` is not a table.
    func configField<T>(_ key: String, _ read: (LuaStack) -> T) -> T? {
        guard let state else { return nil }
        let stack = LuaStack(state)
        stack.pushReference(module.heph)
        defer { stack.pop(3) }
        stack.rawField(stack.absolute(-1), "config")
        guard stack.type(at: -1) == LUA_TTABLE else {
            stack.pushNil()
            return nil
        }
        stack.rawField(stack.absolute(-1), key)
        return read(stack)
    }

    /// Whether `message` opens with `something:LINE:`, Lua's position prefix.
    static func startsWithPosition(_ message: String) -> Bool {
        let firstLine = message.prefix { $0 != "\n" }
        let parts = firstLine.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && !parts[1].isEmpty && parts[1].allSatisfy(\.isNumber)
    }

    /// Whether a report is the watchdog's "interrupted".
    static func isInterruption(_ message: String) -> Bool {
        message.prefix { $0 != "\n" }.hasSuffix("interrupted")
    }
}
