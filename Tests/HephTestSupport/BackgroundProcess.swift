import Foundation

/// A program running beside a test (a proxy, a server), ended by ``stop()`` or on deinit.
public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards.
    private let process = Process()

    private let ownGroup: Bool

    /// Starts `executable` with `arguments`; its output is discarded. With `ownGroup`,
    /// ``stop()`` ends its whole process group: children it forked (socat's per-connection
    /// ones) included. (Foundation starts every child as the leader of a group of its own.)
    public init(_ executable: String, _ arguments: [String], ownGroup: Bool = false) throws {
        self.ownGroup = ownGroup
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Ends the program (SIGKILL: helpers such as socat block SIGTERM) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(ownGroup ? -process.processIdentifier : process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
