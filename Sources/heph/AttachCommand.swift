import ArgumentParser
import Foundation
import HephDocker
import HephLua
import HephServe
import Synchronization

/// `heph attach [-p NAME] [--pid N]`: a REPL inside a running watcher.
struct AttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Open a Lua prompt inside a running watcher (heph run) of the project.",
        discussion: """
            Statements run in the watcher's own Lua state, between its hooks (never beside \
            one): its globals, its plugins' handles and heph.state are there, and a heph.on \
            typed here stays registered in the watcher after you leave. What a statement \
            prints, its results and its errors appear here; what hooks print stays in the \
            watcher's output. A statement computes under the watcher's hook time limit \
            (heph.config.hook_timeout). Ctrl-C stops the statement (only this session's); \
            Ctrl-D detaches and leaves the watcher running. Several sessions may be attached \
            at once. heph.exit(code) typed here ends the watcher.

            The watcher is found through the engine's watcher registry (heph status): the one \
            that leads the project, else the only one; with several and no leader, name one \
            with --pid. Attach is local: it reaches the watcher through the unix socket \
            /tmp/heph-UID/INSTANCE.sock, which only the watcher's user (and root) can open; a \
            watcher on another host is named with its host and pid. There is no TCP listener.

            Exit codes: 0 after Ctrl-D, end of input, or the watcher ending; 69 no watcher \
            of the project runs (or it runs on another host, or is gone); 77 the watcher \
            belongs to another user; 1 its socket's directory is not a private one of the \
            watcher's user; 64 several watchers and no leader (use --pid), or the command \
            line is wrong.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Which watcher, when several run and none leads.
    @Option(name: .long, help: ArgumentHelp("Attach to the watcher with this process id (heph status lists them).", valueName: "pid"))
    var pid: Int?

    func run() async throws {
        let project = global.project.scope.project
        let (_, target, client) = try await WatcherSocket.reach("attach", global: global, pid: pid)

        let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let terminal = ReplTerminal(interactive: interactive)
        let evaluator = RemoteEvaluator(client: client, terminal: terminal)
        if interactive {
            terminal.attachEditor(complete: { evaluator.completions(for: $0) })
            terminal.write("attached to heph run pid \(target.pid) of project \(project.name)\(target.leading ? " (leading)" : ""); Ctrl-D detaches, the watcher goes on\n", to: STDERR_FILENO)
        }
        let loop = ReplLoop(evaluator: evaluator, terminal: terminal, project: project.isDefault ? "" : project.name)
        let interrupt: @Sendable () -> Void = { loop.interrupt() }
        let detach: @Sendable () -> Void = { terminal.endInput() }
        let signals = SignalHandling([(SIGINT, interrupt), (SIGTERM, detach)])
        await loop.readEvaluatePrint()
        signals.stop()
        client.close()
        if let ended = evaluator.ended { FileHandle.standardError.write(Data("heph attach: \(ended)\n".utf8)) }
    }
}

/// `heph attach`'s statements: in a watcher, over its control socket.
final class RemoteEvaluator: ReplEvaluator {
    let client: ControlClient
    let terminal: ReplTerminal
    private let endedWith = Mutex<String?>(nil)

    init(client: ControlClient, terminal: ReplTerminal) {
        self.client = client
        self.terminal = terminal
    }

    /// Why the session ended from the watcher's side, if it did.
    var ended: String? { endedWith.withLock { $0 } }

    func evaluate(_ source: String) async -> Evaluation {
        let terminal = self.terminal
        let reply = await client.request(ControlFrame(.evaluate, text: source)) { terminal.write($0, to: STDOUT_FILENO) }
        switch reply?.kind {
        case .values?: return .values(reply?.text)
        case .noValues?: return .values(nil)
        case .incomplete?: return .incomplete
        case .failed?: return .failed(reply?.text ?? "")
        case .ended?:
            endedWith.withLock { $0 = reply?.text }
            return .ended(.finished)
        default:
            endedWith.withLock { $0 = "the watcher is gone" }
            return .ended(.finished)
        }
    }

    func interrupt() {
        client.send(ControlFrame(.interrupt))
    }

    func globalText(_ name: String) async -> String? {
        let reply = await client.request(ControlFrame(.global, text: name))
        return reply?.kind == .text ? reply?.text : nil
    }

    /// Tab: asks the watcher, and waits for its answer (given once its Lua thread is free,
    /// between hooks): every request gets its reply, in order.
    func completions(for word: String) -> [String] {
        let answer = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let client = self.client
        Task {
            if let reply = await client.request(ControlFrame(.complete, text: word)), reply.kind == .completions, !reply.payload.isEmpty {
                answer.withLock { $0 = reply.text.components(separatedBy: "\0") }
            }
            done.signal()
        }
        done.wait()
        return answer.withLock { $0 }
    }
}
