import Foundation

/// A program running beside a test (a proxy, a server), ended by ``stop()`` or on deinit.
public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards.
    private let process = Process()

    /// Starts `executable` with `arguments`; its output is discarded.
    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Ends the program (SIGKILL: helpers such as socat block SIGTERM) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
