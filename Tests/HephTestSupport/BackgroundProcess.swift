import Foundation

/// A program running beside a test (a proxy, a server), ended by ``stop()`` or on deinit.
/// Started through ``Daemon`` (so with ``Spawn``, never Foundation's `Process`), as the
/// leader of a process group of its own.
public final class BackgroundProcess: Sendable {
    private let process: Daemon
    private let ownGroup: Bool

    /// Starts `executable` with `arguments`; its output is discarded. With `ownGroup`,
    /// ``stop()`` ends its whole process group: children it forked (socat's per-connection
    /// ones) included.
    public init(_ executable: String, _ arguments: [String], ownGroup: Bool = false) throws {
        self.ownGroup = ownGroup
        process = try Daemon(executable, arguments, log: "/dev/null")
    }

    /// Ends the program (SIGKILL: helpers such as socat block SIGTERM) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(ownGroup ? -process.pid : process.pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
