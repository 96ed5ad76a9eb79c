import Foundation
import Synchronization

/// A program heph starts (ssh for the relay, a command for `heph.shell`), with
/// ``ProcessSpawn`` and pipes of its own rather than Foundation's `Process`.
///
/// The child gets the pipes as stdin (or /dev/null), stdout and stderr, and no other
/// descriptor of heph's. It is reaped by a thread of its own, so it never lingers as a
/// zombie, and a signal is never sent to a pid that was reaped (and may be reused).
public final class ChildProcess: Sendable {
    /// Write end of the child's stdin; nil when stdin is /dev/null. The caller owns it.
    public let input: CInt?
    /// Read end of the child's stdout. The caller owns it.
    public let output: CInt
    /// Read end of the child's stderr. The caller owns it.
    public let error: CInt
    private let pid: pid_t
    /// Whether the child leads a process group of its own, which ``terminate()`` signals whole.
    private let ownGroup: Bool
    /// The exit status once reaped (an exit code, or 128 + the signal), and who waits for it.
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Starts `arguments` (the first looked up in `PATH`, through `/usr/bin/env`), with
    /// `environment` in place of heph's own when given; `ownGroup`: in a process group of
    /// its own, so that ``terminate()`` ends what it started too (a shell's children).
    ///
    /// - Throws: ``SpawnError`` with the system's words when it cannot start.
    public init(_ arguments: [String], environment: [String: String]? = nil, pipingInput: Bool, ownGroup: Bool = false) throws {
        self.ownGroup = ownGroup
        var pipes: [(read: CInt, write: CInt)] = []
        func makePipe() throws -> (read: CInt, write: CInt) {
            let ends = try ProcessSpawn.makePipe()
            pipes.append(ends)
            return ends
        }
        do {
            let stdin = pipingInput ? try makePipe() : nil
            let stdout = try makePipe()
            let stderr = try makePipe()
            pid = try ProcessSpawn.start("/usr/bin/env", ["--"] + arguments, name: arguments.first ?? "",
                                         input: stdin.map { .descriptor($0.read) } ?? .file("/dev/null"),
                                         output: .descriptor(stdout.write), error: .descriptor(stderr.write),
                                         environment: environment, ownGroup: ownGroup)
            // The child's ends are the child's now.
            for end in [stdin?.read, stdout.write, stderr.write].compactMap({ $0 }) { close(end) }
            input = stdin?.write
            output = stdout.read
            error = stderr.read
        } catch {
            for ends in pipes { close(ends.read); close(ends.write) }
            throw error
        }
        Thread.detachNewThread { [self] in reap() }
    }

    /// Sends SIGTERM, unless the child has ended already; to its whole process group when
    /// it has one (what it started may outlive it: the group's id is not reused while any
    /// member lives).
    public func terminate() {
        state.withLock { state in
            if ownGroup {
                kill(-pid, SIGTERM)
            } else if state.status == nil {
                kill(pid, SIGTERM)
            }
        }
    }

    /// Waits for the child to end: its exit code, or 128 + the signal that ended it (as a
    /// shell reports it).
    public func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    private func reap() {
        let code = ProcessSpawn.waitForExit(pid)
        let waiters = state.withLock { state in
            // Set under the lock terminate() takes, so no signal goes to a reaped pid.
            state.status = code
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: code) }
    }

    /// Reads `descriptor` to its end on a thread of its own, handing each chunk to
    /// `onChunk`, then closes it and calls `onEnd`.
    public static func drain(_ descriptor: CInt, onChunk: @escaping @Sendable ([UInt8]) -> Void, onEnd: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    onChunk(Array(buffer[0..<count]))
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            close(descriptor)
            onEnd()
        }
    }
}
