import ArgumentParser
import Foundation
import HephDocker
import HephServe

/// How `heph attach` and `heph reload` reach a watcher of a project: chosen from the
/// engine's watcher registry, connected through its control socket, with one message and
/// exit code for each way that fails (docs/cli.md).
struct WatcherSocket {
    /// `attach` or `reload`, for messages.
    let command: String
    let project: String
    /// The engine's container the chosen watcher runs in, when it runs in one.
    var container: String?

    /// The watcher of `global`'s project that `pid` names (else the leader, else the only
    /// one), connected; or the message and exit code of why not.
    static func reach(_ command: String, global: GlobalOptions, pid: Int?) async throws -> (socket: WatcherSocket, watcher: WatcherEntry, client: ControlClient) {
        let watchers: [WatcherEntry]
        do {
            watchers = try await global.withOrchestrator { try await $0.coordination.watchers(allProjects: false) }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("heph: \(failure.description)\n".utf8))
            throw failure.exitCode
        }
        var socket = WatcherSocket(command: command, project: global.project.scope.project.name)
        let target = try socket.choose(from: watchers, pid: pid)
        // A watcher in a container of this engine (heph/heph, docs/operations.md) has the
        // container's id as its host name: reached with `docker exec`, not from here.
        if target.host != WatcherIdentity.current.host {
            socket.container = try? await global.withOrchestrator { try await ($0 as? DockerOrchestrator)?.client.runningContainerName(hostname: target.host) }
        }
        return (socket, target, try socket.connect(to: target))
    }

    /// The watcher to reach: `pid`'s, else the leader, else the only one.
    func choose(from watchers: [WatcherEntry], pid: Int?) throws -> WatcherEntry {
        guard !watchers.isEmpty else { throw fail("no watcher of project \(project) runs (heph status lists the watchers of every project)", 69) }
        if let pid {
            guard let chosen = watchers.first(where: { $0.pid == pid }) else {
                throw fail("no watcher of project \(project) has pid \(pid); its watchers: \(describe(watchers))", 69)
            }
            return chosen
        }
        if let leader = watchers.first(where: \.leading) { return leader }
        guard watchers.count == 1 else {
            throw fail("\(watchers.count) watchers of project \(project) run and none leads; choose one with --pid: \(describe(watchers))", 64)
        }
        return watchers[0]
    }

    /// Connects to `watcher`'s control socket, or says why it cannot.
    func connect(to watcher: WatcherEntry) throws -> ControlClient {
        let name = "the watcher of project \(project) (pid \(watcher.pid) on \(watcher.host))"
        if let container {
            throw fail("\(name) runs in container \(container) of this engine: \(command) it from inside, docker exec -it \(container) heph \(command)\(project == "default" ? "" : " -p \(project)")", 69)
        }
        guard watcher.host == WatcherIdentity.current.host else {
            throw fail("\(name) runs on another host: \(command) reaches only watchers on this one; run heph \(command) on \(watcher.host)", 69)
        }
        // The socket is under the directory of the user the process runs as.
        var status = stat()
        guard stat("/proc/\(watcher.pid)", &status) == 0 else {
            throw fail("\(name) is not running on this host (a registry entry outlives a frozen or killed watcher for up to 20 s)", 69)
        }
        let path = ControlSocketPath.socket(uid: status.st_uid, instance: watcher.instance)
        // The directory must be that user's own and private: anything else could be a
        // socket someone else put there to pose as the watcher.
        var directory = stat()
        if lstat(ControlSocketPath.directory(uid: status.st_uid), &directory) == 0,
           directory.st_mode & S_IFMT != S_IFDIR || directory.st_uid != status.st_uid || directory.st_mode & 0o077 != 0 {
            throw fail("\(ControlSocketPath.directory(uid: status.st_uid)) is not a private directory of the watcher's user: not connecting to what is in it", 1)
        }
        do {
            return try ControlClient.connect(path: path)
        } catch {
            if error.permissionDenied {
                let user = getpwuid(status.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(status.st_uid)
                throw fail("\(name) runs as user \(user): only that user or root can \(command)", 77)
            }
            throw fail("cannot reach \(name) at \(path): \(error)", 69)
        }
    }

    /// Says `message` on stderr; the exit code to end with.
    func fail(_ message: String, _ code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("heph \(command): \(message)\n".utf8))
        return ExitCode(code)
    }

    func describe(_ watchers: [WatcherEntry]) -> String {
        watchers.map { "pid \($0.pid) on \($0.host)\($0.leading ? " (leading)" : "")" }.joined(separator: ", ")
    }
}
