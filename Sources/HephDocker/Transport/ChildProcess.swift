import Foundation
import Synchronization

/// A program heph starts (ssh for the relay, a command for `heph.shell`), with
/// `posix_spawn` and pipes of its own rather than Foundation's `Process`.
///
/// Why not `Process`: on Linux its `run()` lists /proc/self/fd copying whole 256-byte
/// `d_name`s, reading past glibc's buffer, and now and then crashes the calling process
/// (swiftlang/swift-corelibs-foundation#5472; seen in heph's tests). The more descriptors
/// are open, the likelier: a heph with many connections would be at risk.
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
    /// The exit status once reaped (an exit code, or 128 + the signal), and who waits for it.
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Starts `arguments` (the first looked up in `PATH`, through `/usr/bin/env`), with
    /// `environment` in place of heph's own when given.
    ///
    /// - Throws: ``SpawnError`` with the system's words when it cannot start.
    public init(_ arguments: [String], environment: [String: String]? = nil, pipingInput: Bool) throws {
        var pipes: [[CInt]] = []
        func makePipe() throws -> [CInt] {
            var ends: [CInt] = [-1, -1]
            guard Self.pipeClosingOnExec(&ends, O_CLOEXEC) == 0 else { throw Self.failure("cannot make a pipe", errno) }
            pipes.append(ends)
            return ends
        }
        do {
            let stdin = pipingInput ? try makePipe() : nil
            let stdout = try makePipe()
            let stderr = try makePipe()
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            if let stdin {
                posix_spawn_file_actions_adddup2(&actions, stdin[0], 0)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            posix_spawn_file_actions_adddup2(&actions, stdout[1], 1)
            posix_spawn_file_actions_adddup2(&actions, stderr[1], 2)
            // Every other descriptor is close-on-exec already (NIO and Foundation open
            // theirs so); closing them all here does not depend on it.
            _ = Self.closeFrom(&actions, 3)
            // heph ignores or blocks SIGINT and SIGTERM to handle them itself; the child
            // starts with every signal at its default and none blocked.
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            var all = sigset_t()
            sigemptyset(&none)
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            let argv = (["/usr/bin/env", "--"] + arguments).map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
            defer { for pointer in envp ?? [] { free(pointer) } }
            var pid = pid_t()
            let result = envp.map { posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, $0) }
                ?? posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
            guard result == 0 else { throw Self.failure("cannot start \(quoted(arguments.first ?? ""))", result) }
            // The child's ends are the child's now.
            for end in [stdin?[0], stdout[1], stderr[1]].compactMap({ $0 }) { close(end) }
            self.pid = pid
            input = stdin?[1]
            output = stdout[0]
            error = stderr[0]
        } catch {
            for ends in pipes { for end in ends { close(end) } }
            throw error
        }
        Thread.detachNewThread { [self] in reap() }
    }

    /// Sends SIGTERM, unless the child has ended already.
    public func terminate() {
        state.withLock { state in
            if state.status == nil { kill(pid, SIGTERM) }
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
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
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

    private static func failure(_ what: String, _ code: CInt) -> SpawnError {
        SpawnError(message: "\(what): \(String(cString: strerror(code)))", code: code)
    }

    /// glibc's `pipe2`, which Swift's Glibc module does not import: a pipe whose ends are
    /// close-on-exec from the start, so no program another thread starts meanwhile gets them.
    private static let pipeClosingOnExec: @convention(c) (UnsafeMutablePointer<CInt>, CInt) -> CInt = {
        guard let symbol = dlsym(nil, "pipe2") else {
            return { ends, _ in
                guard pipe(ends) == 0 else { return -1 }
                for end in [ends[0], ends[1]] { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
                return 0
            }
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<CInt>, CInt) -> CInt).self)
    }()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc
    /// module does not import; a no-op where it is missing (the descriptors are
    /// close-on-exec anyway).
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return { _, _ in 0 } }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt).self)
    }()
}

/// A child process that could not be started: the step that failed, in the system's words.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    /// What failed and why (`cannot start ssh: No such file or directory`).
    public var message: String
    /// The `errno` value.
    public var code: CInt

    public var description: String { message }
}
