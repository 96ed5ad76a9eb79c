import CHephLua
import CLua
import Foundation

extension LuaRuntime {
    /// Runs `script` as a session, as the REPL does: like ``run(_:)``, except that the run
    /// does not end when nothing is registered; it lasts until ``requestShutdown(exitCode:)``
    /// or `heph.exit` (the `on_shutdown` handlers run first, as ever). `ready` is called once
    /// the script's main chunk has returned; from then on ``evaluate(_:)`` runs statements in
    /// the same state. Returns how the session ended.
    public func runSession(_ script: LuaScript, ready: @escaping @Sendable () -> Void) async -> LuaRunOutcome {
        await withCheckedContinuation { continuation in
            let posted = thread.post { self.begin(script, session: Session(ready: ready), completion: continuation) }
            if !posted { continuation.resume(returning: .failed(LuaFailure(kind: .runtime, message: "the Lua runtime is closed"))) }
        }
    }

    /// Runs one statement (or expression) in the session, as `lua5.4`'s REPL does: first as
    /// `return <source>`, then as it is; an unfinished statement is ``Evaluation/incomplete``.
    /// It runs as a coroutine, so it may wait (`heph.sleep`, engine calls) while hooks and
    /// timers go on.
    public func evaluate(_ source: String) async -> Evaluation {
        await withCheckedContinuation { continuation in
            let posted = thread.post { self.beginEvaluation(source, completion: continuation) }
            if !posted { continuation.resume(returning: .failed("the Lua runtime is closed")) }
        }
    }

    /// Stops the statement being evaluated, whether it computes (the watchdog interrupts it)
    /// or waits (the wait ends with an error): Ctrl-C at the REPL. Safe from any thread.
    public func interruptEvaluation() {
        if evaluationComputing.withLock({ $0 }) { heph_request_interrupt(info) }
        thread.post { [weak self] in self?.cancelWaitingEvaluation() }
    }

    private func beginEvaluation(_ source: String, completion: CheckedContinuation<Evaluation, Never>) {
        guard let state, let run = lifecycle.current, run.session != nil, lifecycle.shutdown == nil else {
            completion.resume(returning: .failed("no session is running"))
            return
        }
        guard run.session?.evaluation == nil else {
            completion.resume(returning: .failed("a statement is already being evaluated"))
            return
        }
        let stack = LuaStack(state)
        if !load(stack, "return " + source + ";") {
            stack.pop()
            if !load(stack, source) {
                let message = stack.lossyString(at: -1) ?? "?"
                stack.pop()
                completion.resume(returning: message.hasSuffix("<eof>") ? .incomplete : .failed(message))
                return
            }
        }
        guard let coroutine = spawnCoroutine(stack, kind: .evaluation) else {
            completion.resume(returning: .failed("cannot create a coroutine"))
            return
        }
        lifecycle.current?.session?.evaluation = completion
        resume(coroutine, arguments: 0)
    }

    /// Compiles `source` as the REPL's chunk `stdin`; pushes the function or the message.
    private func load(_ stack: LuaStack, _ source: String) -> Bool {
        stack.load(source, chunkName: "=stdin") == LUA_OK
    }

    /// Hands the evaluation's outcome to whoever waits for it.
    func completeEvaluation(_ evaluation: Evaluation) {
        lifecycle.current?.session?.evaluation?.resume(returning: evaluation)
        lifecycle.current?.session?.evaluation = nil
    }

    /// An evaluation suspended in a waiting call is resumed with an "interrupted" error.
    private func cancelWaitingEvaluation() {
        // An interrupt that found no Lua computing must not hit the next callback.
        info.pointee.interrupt = 0
        heph_guard_calm(info.pointee.guard)
        guard let (ticket, coroutine) = suspended.first(where: { $0.value.kind == .evaluation }) else { return }
        suspended[ticket] = nil
        tickets.remove(ticket)?.cancel()  // the work itself stops, not only the wait
        let co = LuaStack(coroutine.state)
        co.push(false)
        co.push("interrupted")
        resume(coroutine, arguments: 2)
    }

    /// The results on top of `co` as the REPL prints them, through the prelude's formatter:
    /// tables nested and sorted, cycles marked, depth-limited; nil when there are none.
    /// The formatter runs the results' metamethods (`__tostring`, `__len`, `__pairs`…):
    /// under heph.config.hook_timeout, and Ctrl-C interrupts it as it does a statement.
    func formatted(results count: Int32, on co: LuaStack, kind: ManagedCoroutine.Kind) -> String? {
        guard count > 0, lua_checkstack(co.state, 2) != 0 else { return nil }
        co.pushReference(module.format)
        heph_insert(co.state, -(count + 1))
        let limit = hookTimeout()
        heph_guard_push(info.pointee.guard, limit, "printing the statement's result")
        defer { heph_guard_pop(info.pointee.guard) }
        markComputing(kind, true)
        let status = heph_pcall_limited(co.state, count, 1, limit)
        markComputing(kind, false)
        guard status == LUA_OK else {
            let problem = co.lossyString(at: -1) ?? "?"
            co.pop()
            return "(cannot print the result: \(problem))"
        }
        defer { co.pop() }
        return co.lossyString(at: -1)
    }
}

extension LuaRuntime {
    /// The Lua heph embeds, as `Lua 5.4.6`.
    public static var luaRelease: String {
        "Lua \(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR).\(LUA_VERSION_RELEASE)"
    }
}
