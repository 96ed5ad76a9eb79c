import HephDocker
import Synchronization

/// A reload's new state before it takes over: its hooks, timers and pollers are not
/// active yet (transitions wait in the ``TransitionFeed``, timers' firings here).
struct DormantRun {
    /// Called once the main chunk has returned: the state may take over.
    var mainReturned: @Sendable () -> Void
    /// Timers that came due meanwhile: each fires once when the state takes over.
    var dueTimers: Set<Int> = []
}

/// A reload (`heph run`'s SIGHUP, `heph reload`; docs/operations.md), in the order §3 of
/// the operations spec gives: ``LuaRuntime/prepareSuccessor(_:)`` runs the script again in
/// a new state while this one goes on; then either ``LuaRuntime/giveWay(to:)`` or
/// ``LuaRuntime/abandon(_:)``.
extension LuaRuntime {
    /// A new state, made like this one (sharing its engine watcher and its expectations,
    /// holding its lead), runs `script`'s main chunk; what it registers stays inactive, and
    /// the transitions that arrive meanwhile are kept. Returns it, with its run, once its
    /// main chunk has returned; or why it was refused (it is closed then, and this state
    /// gets the transitions kept).
    public func prepareSuccessor(_ script: LuaScript, within limit: Duration = LuaRuntime.reloadLimit) async -> Result<(runtime: LuaRuntime, run: Task<LuaRunOutcome, Never>), ReloadRefusal> {
        let successor = LuaRuntime(configuration: configuration)
        configuration.transitionFeed?.beginReload(incoming: successor.serial)
        if let grant = await heldLead() { successor.adopt(grant) }
        let settled = OneShot<LuaRunOutcome?>()
        let run = Task {
            let outcome = await successor.runDormant(script) { settled.fulfil(nil) }
            settled.fulfil(outcome)
            return outcome
        }
        // Meanwhile the old hooks get nothing: a main chunk that never returns is refused.
        let clock = configuration.clock
        let deadline = clock.task {
            try? await clock.sleep(for: limit)
            settled.fulfil(.failed(LuaFailure(kind: .runtime, message: "the new main chunk did not return within \(limit) (transitions wait for it meanwhile)")))
        }
        defer { deadline.cancel() }
        // nil: the main chunk returned (the run goes on); else how the run ended first.
        guard let outcome = await settled.value else { return .success((successor, run)) }
        await abandon(successor)
        return .failure(ReloadRefusal(outcome))
    }

    /// How long a reload's new main chunk may take (`heph.up` included) before it is
    /// refused: the transitions wait for it meanwhile.
    public static let reloadLimit: Duration = .seconds(180)

    /// The reload is not to be: `successor` closes, and this state gets the transitions
    /// kept meanwhile.
    public func abandon(_ successor: LuaRuntime) async {
        await successor.close()
        configuration.transitionFeed?.abort()
    }

    /// `successor` takes over: this state's plugins' `stop` functions run (not its
    /// `on_shutdown` handlers: the process goes on), its run ends as
    /// ``LuaRunOutcome/reloaded`` and it closes; then the transitions kept go to the
    /// successor's hooks, and its timers and pollers begin. False, with the successor
    /// abandoned, when this state's run ended otherwise first (`heph.exit` in a hook, a
    /// lost lead): the process follows that end.
    public func giveWay(to successor: LuaRuntime) async -> Bool {
        guard await retire() == .reloaded else {
            await abandon(successor)
            return false
        }
        await close()
        configuration.transitionFeed?.commit()
        await successor.activate()
        return true
    }

    /// Runs `script` with what it registers inactive until ``activate()``; `mainReturned`
    /// is called once its main chunk has returned. The main chunk computes under the hook
    /// time limit. Ending before activation (a load error, an error in the main chunk,
    /// nothing registered to keep it going) runs no `on_shutdown` handler and no plugin's
    /// `stop` (``beginShutdown(_:runningHandlers:)``): nothing of it was ever active.
    func runDormant(_ script: LuaScript, mainReturned: @escaping @Sendable () -> Void) async -> LuaRunOutcome {
        await thread.perform { self.dormant = DormantRun(mainReturned: mainReturned) }
        return await run(script)
    }

    /// Its timers, pollers and hooks become active.
    func activate() async {
        await thread.perform {
            guard let dormant = self.dormant else { return }
            self.dormant = nil
            for id in dormant.dueTimers.sorted() { self.fireTimer(id) }
            self.checkRunFinished()
        }
    }

    /// Runs the plugins' stops and ends the run as ``LuaRunOutcome/reloaded``; returns
    /// how it ended (otherwise when a shutdown or a lost lead came first), nil when it had.
    func retire() async -> LuaRunOutcome? {
        await withCheckedContinuation { (continuation: CheckedContinuation<LuaRunOutcome?, Never>) in
            let posted = thread.post { [weak self] in
                guard let self, self.lifecycle.current != nil, !self.shutdownRequested, self.leadLost == nil else { return continuation.resume(returning: nil) }
                self.lifecycle.endWaiters.append(continuation)
                self.beginShutdown(.reloaded, runningHandlers: false)
            }
            if !posted { continuation.resume(returning: nil) }
        }
    }

    /// The lead this state holds, for its successor (whose watcher is this one's: no
    /// baseline).
    func heldLead() async -> LeadGrant? {
        await thread.perform { self.leadership.map { LeadGrant(leadership: $0, baseline: [:]) } } ?? nil
    }

    /// The main chunk returned: a dormant run says so once, unless it asked to end
    /// (heph.exit) or registered nothing to keep it going (taking it would end the
    /// watcher): it ends now, and is refused.
    func mainReturnedWhileDormant() {
        guard let dormant else { return }
        let idle = hooks.isEmpty && timers.isEmpty && pollers.isEmpty && suspended.isEmpty
        guard !idle, !shutdownRequested else { return beginShutdown(.finished) }
        dormant.mainReturned()
        self.dormant?.mainReturned = {}
    }

    /// A timer came due while the state is dormant: kept for ``activate()``.
    func deferFiring(_ id: Int) -> Bool {
        guard dormant != nil else { return false }
        dormant?.dueTimers.insert(id)
        return true
    }
}

/// Why a reload's new script was not taken; the running one goes on.
public struct ReloadRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ outcome: LuaRunOutcome) {
        description = switch outcome {
        case .failed(let failure): failure.message
        case .finished: "the new script keeps nothing running (no hook, timer or poller): taking it would end the watcher"
        case .exited(let code): "the new script called heph.exit(\(code)) in its main chunk"
        case .lostLead(let reason): "the lead was lost meanwhile: \(reason)"
        case .reloaded: "the new state gave way before it took over"
        }
    }
}

/// A value set once, from any thread, and awaited.
final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: [Value], waiters: [CheckedContinuation<Value, Never>])>(([], []))

    /// Sets the value, the first time; later calls do nothing.
    func fulfil(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard state.value.isEmpty else { return [] }
            state.value = [value]
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, once set.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let set: [Value] = state.withLock { state in
                    if state.value.isEmpty { state.waiters.append(continuation) }
                    return state.value
                }
                if let value = set.first { continuation.resume(returning: value) }
            }
        }
    }
}
