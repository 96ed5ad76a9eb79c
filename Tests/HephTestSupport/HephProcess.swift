import Foundation

/// `heph` running in the background as a user runs it, started with `posix_spawn`: its
/// input from a file, its output in files, a signal sent when the test says, its exit
/// status (128 + the signal when one ended it) once it ends.
public final class HephProcess: @unchecked Sendable {
    // @unchecked: `pid` and `directory` are set once; `ended` is touched under `lock`.
    private let pid: pid_t
    private let directory: URL
    private let lock = NSLock()
    private var ended: Int32?

    /// Starts `heph arguments…` with `input` as its standard input.
    public init(_ arguments: [String], input: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("heph-process"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try input.write(to: directory.appendingPathComponent("in"), atomically: true, encoding: .utf8)
        pid = try Spawn.start(HephBinary.path, arguments, streams: Spawn.Streams(
            input: directory.appendingPathComponent("in").path,
            output: directory.appendingPathComponent("out").path,
            error: directory.appendingPathComponent("err").path), ownGroup: true)
        Thread.detachNewThread { [self] in
            let status = Spawn.waitForExit(pid)
            lock.withLock { ended = status }
        }
    }

    /// Standard output so far, as bytes (a script may print any).
    public var stdoutBytes: [UInt8] { (try? [UInt8](Data(contentsOf: directory.appendingPathComponent("out")))) ?? [] }
    /// Standard output so far (invalid UTF-8 shown as U+FFFD).
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    /// Standard error so far.
    public var stderr: String { String(decoding: (try? Data(contentsOf: directory.appendingPathComponent("err"))) ?? Data(), as: UTF8.self) }

    /// Waits until standard output contains `text`; false after `timeout`.
    public func waitFor(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        await Fixtures.eventually(timeout: timeout) { self.stdout.contains(text) }
    }

    /// Sends `number` to the process.
    public func signal(_ number: Int32) { kill(pid, number) }

    /// The exit status once the process ended, within `timeout`; nil (and the process
    /// killed) if it did not.
    public func status(timeout: Duration) async -> Int32? {
        guard await Fixtures.eventually(timeout: timeout, { self.lock.withLock { self.ended } != nil }) else {
            kill(pid, SIGKILL)
            return nil
        }
        return lock.withLock { ended }
    }

    deinit {
        if lock.withLock({ ended }) == nil { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
