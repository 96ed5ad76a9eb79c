import Foundation
import HephLua
import Synchronization

/// SIGHUP and `heph reload`: runs the script file again in a fresh Lua state and, when its
/// main chunk succeeds, lets it take over from the running one (docs/operations.md,
/// "Reloading it"). One reload at a time.
final class ScriptReloader: Sendable {
    /// What became of a reload.
    enum Result: Sendable {
        /// The new script runs now; what to say about it.
        case taken(String)
        /// The running script goes on; why.
        case refused(String)
    }

    private let stage: RunStage
    /// The script file, as `heph run` was given it; nil for standard input.
    private let path: String?
    private let arguments: [String]
    private let project: String
    private let busy = Mutex(false)
    /// Where the watcher's own lines go (stderr, as text or the JSON log).
    private let say: @Sendable (String) -> Void

    init(stage: RunStage, path: String?, arguments: [String], project: String, say: @escaping @Sendable (String) -> Void) {
        self.say = say
        self.stage = stage
        self.path = path
        self.arguments = arguments
        self.project = project
    }

    /// Reloads, and says on stderr what became of it (the watcher's log keeps it).
    func reload() async -> Result {
        let result = await attempt()
        let line = switch result {
        case .taken(let message): "heph: reload: \(message)\n"
        case .refused(let reason): "heph: reload refused, the running script goes on: \(reason)\n"
        }
        say(line)
        return result
    }

    private func attempt() async -> Result {
        guard let path else { return .refused("the script was read from standard input: there is nothing to read again") }
        let began = busy.withLock { busy in
            defer { busy = true }
            return !busy
        }
        guard began else { return .refused("another reload is under way") }
        defer { busy.withLock { $0 = false } }
        guard let running = stage.runtime else {
            return .taken("this process stands by for the lead of project \(project): it runs none of the script now, and reads \(path) afresh when it leads")
        }
        switch await running.prepareSuccessor(LuaScript(.file(path), arguments: arguments)) {
        case .failure(let refusal):
            return .refused(refusal.description)
        case .success(let (successor, run)):
            guard stage.beginHandOver(from: running, to: successor, run: run) else {
                await running.abandon(successor)
                return .refused("the watcher is ending")
            }
            let taken = await running.giveWay(to: successor)
            stage.finishHandOver(to: successor, taken: taken)
            return taken ? .taken("took \(path) (a new Lua state; containers and heph.state kept)")
                : .refused("the running script ended meanwhile (heph.exit, a signal, or a lost lead)")
        }
    }
}
