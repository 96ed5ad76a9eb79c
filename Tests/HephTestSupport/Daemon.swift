import Foundation

/// A server a test starts (dockerd, sshd, and what ``BackgroundProcess`` runs), with
/// ``Spawn`` (`posix_spawn`) rather than Foundation's `Process`. Servers fork children that
/// outlive them (dockerd's containerd shims, sshd's sessions), and under Foundation's
/// `Process` the test then hung: the server's exit, and even later children's, were never
/// seen (zombies, and `waitUntilExit` spinning). Here the child gets only stdin
/// (`/dev/null`), stdout and stderr (both to `log`), and is reaped with `waitpid`.
final class Daemon: @unchecked Sendable {
    // @unchecked: `exited` is guarded by `lock`.
    let pid: pid_t
    private let lock = NSLock()
    private var exited = false

    init(_ executable: String, _ arguments: [String], log: String) throws {
        pid = try Spawn.start(executable, arguments, streams: .init(output: log), ownGroup: true)
    }

    var isRunning: Bool { !reap(blocking: false) }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    func waitUntilExit() {
        _ = reap(blocking: true)
    }

    /// Whether the daemon has exited (and was reaped).
    private func reap(blocking: Bool) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !exited else { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        exited = result == pid || (result == -1 && errno == ECHILD)
        return exited
    }
}
