import CHephLua
import CLua
import Foundation

/// Interrupts of `heph attach` sessions (Ctrl-C, a session gone), asked from the sessions'
/// threads.
struct AttachedInterrupts {
    /// The session whose statement computes right now, if any.
    var computing: Int?
    /// Whether that session asked for an interrupt (the watchdog's flag is then its).
    var requested = false
    /// Sessions whose statement is posted to the Lua thread and has not begun.
    var posted: Set<Int> = []
    /// Of those, the ones interrupted already: their statement never begins.
    var pending: Set<Int> = []
}

/// A statement typed in a `heph attach` session, running in the watcher's state.
struct AttachedStatement {
    /// The statement's coroutine: what it prints goes to the session, not to stdout.
    var coroutine: OpaquePointer
    var output: @Sendable ([UInt8]) -> Void
    var completion: CheckedContinuation<Evaluation, Never>
}

extension LuaRuntime {
    /// Runs `source` for the attach session `session` in the running script's own state, as
    /// the REPL runs a statement (first as `return <source>`), between hooks: it is one more
    /// coroutine on the Lua thread, so it never runs beside a hook, and a wait in it lets
    /// hooks run. It computes under the hook time limit (a session must not stall the
    /// watcher), and Ctrl-C in the session (``interruptAttached(session:)``) stops it. What it
    /// prints goes to `output`; what it registers (`heph.on`) stays after it.
    public func evaluateAttached(_ source: String, session: Int, output: @escaping @Sendable ([UInt8]) -> Void) async -> Evaluation {
        await withCheckedContinuation { continuation in
            attachedInterrupts.withLock { _ = $0.posted.insert(session) }
            let posted = thread.post { self.beginAttached(source, session: session, output: output, completion: continuation) }
            if !posted { continuation.resume(returning: .failed("the watcher is closing")) }
        }
    }

    /// Stops the statement of `session`, whether it computes or waits. Safe from any thread;
    /// it never reaches a hook or another session's statement.
    public func interruptAttached(session: Int) {
        attachedInterrupts.withLock { interrupts in
            if interrupts.computing == session {
                interrupts.requested = true
                heph_request_interrupt(info)
            } else if interrupts.posted.contains(session) {
                // Not begun yet (the Lua thread was busy with a hook): it never begins.
                interrupts.pending.insert(session)
            }
        }
        thread.post { [weak self] in self?.cancelWaitingAttached(session) }
    }

    private func beginAttached(_ source: String, session: Int, output: @escaping @Sendable ([UInt8]) -> Void, completion: CheckedContinuation<Evaluation, Never>) {
        // Until it computes (``markComputing(_:_:)``), an interrupt is kept for it.
        var began = false
        defer { if !began { attachedInterrupts.withLock { _ = $0.posted.remove(session); _ = $0.pending.remove(session) } } }
        let interrupted = attachedInterrupts.withLock { $0.pending.contains(session) }
        guard let state, lifecycle.current != nil else { return completion.resume(returning: .failed("the watcher's script is not running")) }
        guard lifecycle.shutdown == nil else { return completion.resume(returning: .failed("the watcher is shutting down")) }
        guard attached[session] == nil else { return completion.resume(returning: .failed("a statement of this session is still running")) }
        if interrupted { return completion.resume(returning: .failed("interrupted")) }
        let stack = LuaStack(state)
        if stack.load("return " + source + ";", chunkName: "=stdin") != LUA_OK {
            stack.pop()
            if stack.load(source, chunkName: "=stdin") != LUA_OK {
                let message = stack.lossyString(at: -1) ?? "?"
                stack.pop()
                return completion.resume(returning: message.hasSuffix("<eof>") ? .incomplete : .failed(message))
            }
        }
        guard let coroutine = spawnCoroutine(stack, kind: .attached(session)) else {
            return completion.resume(returning: .failed("cannot create a coroutine"))
        }
        attached[session] = AttachedStatement(coroutine: coroutine.state, output: output, completion: completion)
        began = true
        resume(coroutine, arguments: 0)
    }

    /// Where `print` writes now: the session's output while a session's statement runs
    /// (coroutines it made included: they run inside it), or when `co` is a statement's
    /// coroutine (its `__close` handlers run after it stopped); nil elsewhere.
    func attachedOutput(of co: OpaquePointer?) -> (@Sendable ([UInt8]) -> Void)? {
        guard !attached.isEmpty else { return nil }
        if let session = attachedRunning, let statement = attached[session] { return statement.output }
        guard let co else { return nil }
        return attached.values.first { $0.coroutine == co }?.output
    }

    /// Hands a session's statement outcome back.
    func completeAttached(_ session: Int, _ evaluation: Evaluation) {
        attached.removeValue(forKey: session)?.completion.resume(returning: evaluation)
    }

    /// The run ended: every session's statement gets how.
    func endAttached(_ outcome: LuaRunOutcome) {
        for statement in attached.values { statement.completion.resume(returning: .ended(outcome)) }
        attached.removeAll()
    }

    /// A session's statement suspended in a waiting call resumes with an "interrupted" error.
    private func cancelWaitingAttached(_ session: Int) {
        guard let statement = attached[session],
              let (ticket, coroutine) = suspended.first(where: { $0.value.state == statement.coroutine }) else { return }
        suspended[ticket] = nil
        tickets.remove(ticket)?.cancel()
        let co = LuaStack(coroutine.state)
        co.push(false)
        co.push("interrupted")
        resume(coroutine, arguments: 2)
    }

    /// Marks whether a prompt's statement (the REPL's or a session's) computes, so Ctrl-C
    /// interrupts it and nothing else. Ending a session's computation clears an interrupt
    /// the session asked for that came too late, under the same lock the interrupt is asked
    /// under: it can never land on the hook that runs next.
    func markComputing(_ kind: ManagedCoroutine.Kind, _ computing: Bool) {
        switch kind {
        case .evaluation:
            evaluationComputing.withLock { $0 = computing }
        case .attached(let session):
            attachedRunning = computing ? session : nil
            attachedInterrupts.withLock { interrupts in
                interrupts.computing = computing ? session : nil
                // Interrupted between being posted and computing: stopped as it starts.
                if computing, interrupts.posted.remove(session) != nil, interrupts.pending.remove(session) != nil {
                    interrupts.requested = true
                    heph_request_interrupt(info)
                }
                // An interrupt this session asked for that came too late for it must not
                // land on what runs next; anyone else's (a shutdown's) stays.
                if !computing, interrupts.requested { info.pointee.interrupt = 0 }
                interrupts.requested = false
            }
        default:
            break
        }
    }
}
