import Foundation
import HephLua
import Synchronization

/// Where a `heph run` is, for its signal handler and its control socket: standing by for
/// the lead (a signal ends the wait), or running a script (a signal asks it to shut down),
/// in the runtime a reload may replace.
final class RunStage: Sendable {
    private struct State {
        var runtime: LuaRuntime?
        var campaign: Task<LeadGrant, any Error>?
        var signalled: Int32?
        /// Each runtime a reload replaced, and the one that took over with its run.
        var successors: [ObjectIdentifier: (runtime: LuaRuntime, run: Task<LuaRunOutcome, Never>)] = [:]
        /// A reload's hand-over is under way: a signal waits for its end (then goes to the
        /// state that runs on, whose handlers run).
        var handingOver = false
    }

    private let state = Mutex(State())
    /// Ends the process for a signal that came while it stood by.
    private let endStandby: @Sendable (Int32) -> Void

    /// `endStandby` ends the process for a signal that comes while it stands by: nothing
    /// is to be shut down then, and no engine call must hold the exit back.
    init(endStandby: @escaping @Sendable (Int32) -> Void) {
        self.endStandby = endStandby
    }

    /// The exit code of the signal received, if one was.
    var signalled: Int32? { state.withLock { $0.signalled } }

    /// A signal came.
    func signal(_ code: Int32) {
        let (runtime, campaign) = state.withLock { state in
            state.signalled = state.signalled ?? code
            return state.handingOver ? (nil, nil) : (state.runtime, state.campaign)
        }
        if let campaign, runtime == nil {
            campaign.cancel()
            endStandby(code)
        }
        runtime?.requestShutdown(exitCode: code)
    }

    /// The process stands by.
    func standingBy(_ campaign: Task<LeadGrant, any Error>) {
        let signalled = state.withLock { state in
            state.campaign = campaign
            return state.signalled != nil
        }
        if signalled { campaign.cancel() }
    }

    /// The runtime the script runs in; nil while the process stands by or between runs.
    var runtime: LuaRuntime? { state.withLock { $0.runtime } }

    /// The script runs in `runtime` (nil: it ended).
    func running(_ runtime: LuaRuntime?) {
        let signalled = state.withLock { state in
            state.campaign = nil
            state.runtime = runtime
            state.successors = [:]
            state.handingOver = false
            return state.signalled
        }
        if let signalled, let runtime { runtime.requestShutdown(exitCode: signalled) }
    }

    /// A reload's `new` runtime, whose main chunk has returned, is to take over from
    /// `old` (``finishHandOver(to:)`` once it has): a signal meanwhile waits. False, and
    /// nothing changes, when `old` is no longer the one running or a signal came (the
    /// process is ending).
    func beginHandOver(from old: LuaRuntime, to new: LuaRuntime, run: Task<LuaRunOutcome, Never>) -> Bool {
        state.withLock { state in
            guard state.runtime === old, state.signalled == nil, !state.handingOver else { return false }
            state.handingOver = true
            state.successors[ObjectIdentifier(old)] = (new, run)
            return true
        }
    }

    /// The hand-over is over: `new` runs the script when it was `taken` (else the old
    /// state runs on, or has ended); signals and attach sessions go to it, and a signal
    /// that came meanwhile now asks it to shut down.
    func finishHandOver(to new: LuaRuntime, taken: Bool) {
        let (runtime, signalled) = state.withLock { state in
            state.handingOver = false
            if taken {
                state.runtime = new
            } else {
                state.successors = state.successors.filter { $0.value.runtime !== new }
            }
            return (state.runtime, state.signalled)
        }
        if let signalled { runtime?.requestShutdown(exitCode: signalled) }
    }

    /// The runtime that took over from `runtime` in a reload, with its run.
    func successor(of runtime: LuaRuntime) -> (runtime: LuaRuntime, run: Task<LuaRunOutcome, Never>)? {
        state.withLock { $0.successors.removeValue(forKey: ObjectIdentifier(runtime)) }
    }
}
