import Foundation
import HephDocker
import HephLua
import HephServe

/// What a `heph run` answers on its control socket: statements of `heph attach` sessions
/// run in the script's own Lua state (the runtime of the run in progress; a process that
/// stands by has none and says so).
struct WatcherControl: ControlHandler {
    let stage: RunStage
    let project: String
    let reloader: ScriptReloader

    /// Opens this process's control socket (`/tmp/heph-UID/INSTANCE.sock`); nil, with a
    /// warning on stderr, when it cannot: the run goes on without attach or reload.
    static func listen(stage: RunStage, project: String, reloader: ScriptReloader, say: (String) -> Void) -> ControlServer? {
        let identity = WatcherIdentity.current
        let path = ControlSocketPath.socket(uid: geteuid(), instance: identity.instance)
        do {
            return try ControlServer(path: path, handler: WatcherControl(stage: stage, project: project, reloader: reloader))
        } catch {
            say("heph: warning: no control socket (heph attach and heph reload cannot reach this run): \(error)\n")
            return nil
        }
    }

    func evaluate(_ source: String, session: Int, output: @escaping @Sendable ([UInt8]) -> Void) async -> ControlFrame {
        guard let runtime = stage.runtime else {
            return ControlFrame(.failed, text: "this process stands by for the lead of project \(project): it runs none of the script (attach to the leader)")
        }
        switch await runtime.evaluateAttached(source, session: session, output: output) {
        case .values(let text?): return ControlFrame(.values, text: text)
        case .values(nil): return ControlFrame(.noValues)
        case .incomplete: return ControlFrame(.incomplete)
        case .failed(let message): return ControlFrame(.failed, text: message)
        // The watcher goes on in a new state: the session stays, this statement is over.
        case .ended(.reloaded): return ControlFrame(.failed, text: "the watcher reloaded its script while this statement ran: it ended with the old state (the next one runs in the new)")
        case .ended(let outcome): return ControlFrame(.ended, text: Self.describe(outcome))
        }
    }

    func interrupt(session: Int) {
        stage.runtime?.interruptAttached(session: session)
    }

    func global(_ name: String) async -> String? {
        await stage.runtime?.globalText(name)
    }

    func completions(for word: String) async -> [String] {
        await stage.runtime?.completionsWhenFree(for: word) ?? []
    }

    func reload() async -> ControlFrame {
        switch await reloader.reload() {
        case .taken(let message): ControlFrame(.reloaded, text: message)
        case .refused(let reason): ControlFrame(.failed, text: reason)
        }
    }

    /// How the watcher's run ended, for a session that was in it.
    static func describe(_ outcome: LuaRunOutcome) -> String {
        switch outcome {
        case .exited(let code): "the watcher is ending (exit code \(code))"
        case .failed(let failure): "the watcher's script failed: \(failure.message)"
        default: "the watcher's run ended"
        }
    }
}
