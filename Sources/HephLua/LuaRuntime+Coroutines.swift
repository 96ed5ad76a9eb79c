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
    }

    /// Registry reference that keeps the coroutine alive while the runtime needs it.
    var reference: Int32
    /// The coroutine's `lua_State *`.
    var state: OpaquePointer
    var kind: Kind
    /// Seconds of Lua computation so far (time spent suspended does not count).
    var computeSeconds: Double = 0
}

extension LuaRuntime {
    /// Loads `script` and starts its main chunk (on the Lua thread).
    func begin(_ script: LuaScript, completion: CheckedContinuation<LuaRunOutcome, Never>) {
        guard let state else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: setupFailure ?? "the Lua runtime is closed")))
            return
        }
        guard currentRun == nil else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: "a script is already running in this runtime")))
            return
        }
        let stack = LuaStack(state)
        let status: Int32
        switch script.source {
        case .file(let path):
            status = luaL_loadfilex(state, path, nil)
        case .standardInput:
            status = luaL_loadfilex(state, nil, nil)
        case .code(var code, let name):
            status = code.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(state, $0.baseAddress, $0.count, "=\(name)", nil) }
            }
        }
        guard status == LUA_OK else {
            let message = stack.string(at: -1) ?? "cannot load \(script.argumentZero)"
            stack.pop()
            completion.resume(returning: .failed(LuaFailure(kind: status == LUA_ERRSYNTAX ? .syntax : .cannotOpen, message: message)))
            return
        }
        configureSearchPath(stack, for: script)
        setArguments(stack, for: script)
        guard let main = spawnCoroutine(stack, kind: .main) else {
            completion.resume(returning: .failed(LuaFailure(kind: .runtime, message: "cannot create a coroutine for the main chunk")))
            return
        }
        let coroutine = LuaStack(main.state)
        for argument in script.arguments { coroutine.push(argument) }
        currentRun = RunState(completion: completion)
        resume(main, arguments: Int32(script.arguments.count))
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

    /// Resumes `coroutine` with the `arguments` values on top of its stack, and deals with
    /// how it stops: suspended on a ticket, finished, or failed.
    func resume(_ coroutine: ManagedCoroutine, arguments: Int32) {
        guard let state else { return }
        var coroutine = coroutine
        // The main chunk has no time limit (only interrupts); a callback has what is left
        // of heph.config.hook_timeout. Time spent suspended in a waiting call is not counted.
        let limit = hookTimeout()
        let budget = coroutine.kind == .main ? 0 : max(limit - coroutine.computeSeconds, 0.001)
        info.pointee.limit = limit
        heph_watchdog_arm(coroutine.state, budget)
        let started = ContinuousClock.now
        var results: Int32 = 0
        let status = lua_resume(coroutine.state, state, arguments, &results)
        heph_watchdog_disarm(coroutine.state)
        coroutine.computeSeconds += (ContinuousClock.now - started) / .seconds(1)

        let co = LuaStack(coroutine.state)
        switch status {
        case LUA_YIELD:
            let ticket = results == 1 ? co.integer(at: -1) : nil
            lua_settop(coroutine.state, 0)
            if let ticket, tickets[ticket] != nil {
                suspended[ticket] = coroutine
            } else {
                finish(coroutine, failure: "heph internal error: a coroutine yielded outside a waiting call")
            }
        case LUA_OK:
            lua_settop(coroutine.state, 0)
            finish(coroutine, failure: nil)
        default:
            let stack = LuaStack(state)
            heph_push_coroutine_traceback(state, coroutine.state)
            // heph's own wrappers are noise in a script author's traceback.
            var message = (stack.lossyString(at: -1) ?? "?")
                .split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("\t[heph]:") }
                .joined(separator: "\n")
            stack.pop()
            // Errors raised without a position (engine failures, error(x, 0)) get the
            // script line they came from, so a report always says where.
            if !Self.startsWithPosition(message) {
                heph_push_script_where(state, coroutine.state)
                message = (stack.lossyString(at: -1) ?? "") + message
                stack.pop()
            }
            lua_settop(coroutine.state, 0)
            finish(coroutine, failure: message)
        }
        checkRunFinished()
    }

    /// Lets go of a coroutine that finished (or failed with `failure`).
    private func finish(_ coroutine: ManagedCoroutine, failure: String?) {
        guard let state else { return }
        LuaStack(state).releaseReference(coroutine.reference)
        switch coroutine.kind {
        case .main:
            if let failure {
                completeRun(.failed(LuaFailure(kind: .runtime, message: failure)))
            } else {
                currentRun?.mainFinished = true
            }
        case .pollerCallback(let id):
            pollers[id]?.busy = false
            if let failure { configuration.diagnostics("heph: a health polling callback failed: \(failure)\n") }
        }
    }

    /// Ends the run once its main chunk returned and nothing else keeps it going.
    func checkRunFinished() {
        guard let run = currentRun, run.mainFinished, pollers.isEmpty, suspended.isEmpty else { return }
        completeRun(.finished)
    }

    /// Ends the run now with `outcome`: pollers stop, the waiter gets the outcome.
    func completeRun(_ outcome: LuaRunOutcome) {
        guard let run = currentRun else { return }
        currentRun = nil
        stopAllPollers()
        run.completion.resume(returning: outcome)
    }

    /// A waiting call finished: resume the coroutine that yielded its ticket. (A ticket
    /// waited for in place is gone from `tickets` already.)
    func ticketCompleted(_ id: Int) {
        guard let ticket = tickets.removeValue(forKey: id), let coroutine = suspended.removeValue(forKey: id) else { return }
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

    /// `heph.config.hook_timeout`, when the script set a positive number; else the default.
    func hookTimeout() -> Double {
        guard let state else { return Self.defaultHookTimeout }
        let stack = LuaStack(state)
        stack.pushReference(module.heph)
        defer { stack.pop(3) }
        stack.rawField(stack.absolute(-1), "config")
        guard stack.type(at: -1) == LUA_TTABLE else {
            stack.pushNil()
            return Self.defaultHookTimeout
        }
        stack.rawField(stack.absolute(-1), "hook_timeout")
        guard let seconds = stack.number(at: -1), seconds > 0, seconds.isFinite else { return Self.defaultHookTimeout }
        return seconds
    }

    /// Whether `message` opens with `something:LINE:`, Lua's position prefix.
    static func startsWithPosition(_ message: String) -> Bool {
        let firstLine = message.prefix { $0 != "\n" }
        let parts = firstLine.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && !parts[1].isEmpty && parts[1].allSatisfy(\.isNumber)
    }
}
