import ArgumentParser
import Foundation
import HephDocker
import HephServe

/// `heph reload [-p NAME] [--pid N]`: a running watcher runs its script file again.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make a running watcher (heph run) of the project run its script again, without a restart.",
        discussion: """
            The watcher reads its script file again and runs it in a fresh Lua state while \
            the old state goes on guarding; the transitions that arrive meanwhile are kept. \
            When the new main chunk returns, the old plugins' stop functions run, the old \
            state closes, and the kept transitions go to the new hooks: none reaches both \
            states, none is lost. When the new script fails to load, raises an error in its \
            main chunk, or registers nothing that keeps it running, it is refused and the old \
            one goes on. Containers stay (heph.up finds them unchanged), and so does \
            heph.state; globals, and hooks typed in heph attach sessions, do not. Sending \
            SIGHUP to the watcher does the same (its stderr says what became of it).

            The watcher is chosen as heph attach chooses it: the leader, else the only one; \
            --pid with several. A watcher that stands by for the lead takes the file as it \
            finds it when it leads.

            Exit codes: 0 the new script was taken; 1 it was refused (the reason on stderr; \
            the old one runs on), or the socket's directory is not private; 69 no watcher of \
            the project runs (or it runs on another host, or is gone); 77 the watcher belongs \
            to another user; 64 several watchers and no leader (use --pid), or the command \
            line is wrong.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Which watcher, when several run and none leads.
    @Option(name: .long, help: ArgumentHelp("Reload the watcher with this process id (heph status lists them).", valueName: "pid"))
    var pid: Int?

    func run() async throws {
        let project = global.project.scope.project
        let (socket, target, client) = try await WatcherSocket.reach("reload", global: global, pid: pid)
        defer { client.close() }
        let reply = await client.request(ControlFrame(.reload))
        let watcher = "the watcher of project \(project.name) (pid \(target.pid))"
        switch reply?.kind {
        case .reloaded?:
            FileHandle.standardOutput.write(Data("heph reload: \(watcher) \(reply?.text ?? "took the new script")\n".utf8))
        case .failed?:
            throw socket.fail("\(watcher) refused the new script, and its running one goes on: \(reply?.text ?? "")", 1)
        default:
            throw socket.fail("\(watcher) ended before it answered", 69)
        }
    }
}
