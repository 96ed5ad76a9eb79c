import Foundation

/// A server a test starts (dockerd, sshd), with `posix_spawn` rather than Foundation's
/// `Process`. Servers fork children that outlive them (dockerd's containerd shims, sshd's
/// sessions), and under Foundation's `Process` the test then hung: the server's exit, and
/// even later children's, were never seen (zombies, and `waitUntilExit` spinning). Here
/// the child gets only stdin (`/dev/null`), stdout and stderr (both to `log`), and is reaped
/// with `waitpid`.
final class Daemon: @unchecked Sendable {
    // @unchecked: `exited` is guarded by `lock`.
    private let pid: pid_t
    private let lock = NSLock()
    private var exited = false

    init(_ executable: String, _ arguments: [String], log: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard Self.closeFrom(&actions, 3) == 0 else { throw CommandError(description: "posix_spawn_file_actions_addclosefrom_np failed") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own: a Ctrl-C meant for the tests does not reach it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw CommandError(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc
    /// module does not import: every descriptor from the given one up is closed in the child.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

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
