import Foundation
import Synchronization

/// `heph` running in the background as a user runs it, started with ``Spawn``: its input
/// from a file (or a pipe kept open), its output in files, a signal sent when the test
/// says, its exit status (128 + the signal when one ended it) once it ends. Killed if it is
/// still running when the test lets go of it. ``run(_:environment:)`` starts `heph run`.
public final class HephProcess: Sendable {
    /// The process id (of heph itself, also when it runs as another user: setpriv execs it).
    public let pid: pid_t
    private let directory: URL
    private let reaping: Reaping
    /// The write end of standard input while it is kept open (see ``closeInput()``).
    private let inputPipe: Mutex<CInt?>

    /// Starts `heph arguments…` with `input` on its standard input and `environment` added
    /// to this process's own. With `keepingInputOpen`, standard input is a pipe that holds
    /// `input` (a few lines: it must fit the pipe's 64 KiB) and stays open until
    /// ``closeInput()`` (or deinit): until then `heph` does not reach the end of its input.
    /// With a `launcher` (a command that ends by running its arguments: ``SystemUser/launcher``
    /// runs them as another user), heph is started through it; `heph` is the binary to run
    /// (a copy another user can run: ``SystemUser/shareHeph()``).
    public init(_ arguments: [String], input: String = "", environment: [String: String] = [:], keepingInputOpen: Bool = false,
                launcher: [String] = [], heph: String = HephBinary.path) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("heph-process"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var streams = Spawn.Streams(output: directory.appendingPathComponent("out").path, error: directory.appendingPathComponent("err").path)
        var pipe: (read: CInt, write: CInt)?
        do {
            if keepingInputOpen {
                let ends = try Spawn.makePipe()
                pipe = ends
                // Written before the child exists: the pipe cannot lose its reader meanwhile.
                try HephProcess.write(input, to: ends.write)
                streams.inputDescriptor = ends.read
            } else {
                try input.write(to: directory.appendingPathComponent("in"), atomically: true, encoding: .utf8)
                streams.input = directory.appendingPathComponent("in").path
            }
            let (executable, arguments) = launcher.isEmpty ? (heph, arguments) : (launcher[0], Array(launcher.dropFirst()) + [heph] + arguments)
            pid = try Spawn.start(
                executable, arguments, streams: streams,
                environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment, uniquingKeysWith: { _, new in new }),
                ownGroup: true)
        } catch {
            if let pipe {
                close(pipe.read)
                close(pipe.write)
            }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        // The child has its copy of the read end now.
        if let pipe { close(pipe.read) }
        self.directory = directory
        inputPipe = Mutex(pipe?.write)
        // The thread holds the exit status's box, not `self`: deinit can still kill a
        // `heph` that never ends by itself.
        let reaping = Reaping()
        self.reaping = reaping
        let child = pid
        Thread.detachNewThread { reaping.record(Spawn.waitForExit(child)) }
    }

    /// Standard output so far, as bytes (a script may print any).
    public var stdoutBytes: [UInt8] { (try? [UInt8](Data(contentsOf: directory.appendingPathComponent("out")))) ?? [] }
    /// Standard output so far (invalid UTF-8 shown as U+FFFD).
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    /// Standard error so far.
    public var stderr: String { String(decoding: (try? Data(contentsOf: directory.appendingPathComponent("err"))) ?? Data(), as: UTF8.self) }

    /// Whether the process has not ended yet.
    public var isRunning: Bool { reaping.status == nil }

    /// Waits until a line of `stream` (standard output unless told), looking only past its
    /// first `offset` characters, contains `text`; false after `timeout`.
    public func waitFor(_ text: String, in stream: KeyPath<HephProcess, String> = \.stdout, after offset: Int = 0, timeout: Duration = .seconds(20)) async -> Bool {
        await waitForLine(in: stream, after: offset, timeout: timeout) { $0.contains(text) }
    }

    /// Waits until a line of `stream` past its first `offset` characters satisfies
    /// `condition`; false after `timeout`.
    public func waitForLine(
        in stream: KeyPath<HephProcess, String> = \.stdout, after offset: Int = 0, timeout: Duration = .seconds(20), _ condition: @escaping (Substring) -> Bool
    ) async -> Bool {
        await Fixtures.eventually(timeout: timeout) { self[keyPath: stream].dropFirst(offset).split(separator: "\n").contains(where: condition) }
    }

    /// Processor time the process has used so far, user and system, every thread (from
    /// /proc); nil once it ended.
    public var processorTime: Duration? {
        guard isRunning else { return nil }
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // pid (comm) state ppid … utime stime: comm may hold spaces, so count from its ")".
        let stat = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let commEnd = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: commEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticksPerSecond = max(Int64(sysconf(Int32(_SC_CLK_TCK))), 1)
        return .milliseconds((user + system) * 1000 / ticksPerSecond)
    }

    /// Waits until the process has used `time` more processor time than when called: it is
    /// computing now (a loop spins), not waiting or reading its input. False after
    /// `timeout`, or once it ended.
    public func waitUntilComputing(for time: Duration = .milliseconds(100), timeout: Duration = .seconds(20)) async -> Bool {
        guard let start = processorTime else { return false }
        var computing = false
        _ = await Fixtures.eventually(timeout: timeout) {
            guard let now = self.processorTime else { return true }
            computing = now - start >= time
            return computing
        }
        return computing
    }

    /// Sends `number` to the process, unless it has ended.
    public func signal(_ number: Int32) { reaping.signal(pid, number) }

    /// The exit status once the process ended, within `timeout`; nil (and the process
    /// killed) if it did not.
    public func status(timeout: Duration = .seconds(20)) async -> Int32? {
        guard await Fixtures.eventually(timeout: timeout, { !self.isRunning }) else {
            signal(SIGKILL)
            return nil
        }
        return reaping.status
    }

    /// Closes standard input when it was kept open: `heph` then reaches the end of its input.
    public func closeInput() {
        inputPipe.withLock { descriptor in
            if let end = descriptor { close(end) }
            descriptor = nil
        }
    }

    deinit {
        signal(SIGKILL)
        closeInput()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes all of `text` to `descriptor`.
    private static func write(_ text: String, to descriptor: CInt) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw CommandError(description: "cannot write heph's input: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// The exit status of a ``HephProcess``, set by the thread that reaps it.
private final class Reaping: Sendable {
    private let exitStatus = Mutex<Int32?>(nil)

    /// The exit status, once the process was reaped.
    var status: Int32? { exitStatus.withLock { $0 } }

    func record(_ status: Int32) {
        exitStatus.withLock { $0 = status }
    }

    /// Sends `number` to `pid` unless it was reaped (the pid may be another's by now).
    func signal(_ pid: pid_t, _ number: Int32) {
        exitStatus.withLock { status in
            if status == nil { kill(pid, number) }
        }
    }
}
