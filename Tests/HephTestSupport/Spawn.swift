import Foundation

/// Starts programs with `posix_spawn` rather than with Foundation's `Process`: the one way
/// the test support starts a program (``Command``, ``Daemon``, ``BackgroundProcess``,
/// ``HephProcess``). Tests never use `Process`.
///
/// Two reasons. Servers fork children that outlive them (dockerd's containerd shims,
/// sshd's sessions), and under `Process` their exits were never seen. And `Process.run()`
/// on Linux (swift-corelibs-foundation up to 6.3) now and then crashes the test process:
/// it copies whole 256-byte `d_name`s while listing /proc/self/fd, reading past glibc's
/// buffer (swiftlang/swift-corelibs-foundation#5472); the more descriptors the process
/// has open, the likelier.
enum Spawn {
    /// Where the child's standard streams go: paths, opened in the child.
    struct Streams {
        var input = "/dev/null"
        /// A descriptor of this process's (the read end of a ``makePipe()``) to give the
        /// child as its standard input instead of `input`. The caller closes its own copy
        /// once the child started.
        var inputDescriptor: CInt? = nil
        var output: String
        /// Nil: the same file as `output`.
        var error: String?
    }

    /// Starts `executable` and returns its pid. `environment` replaces this process's;
    /// `directory` is the child's working directory; `ownGroup` puts it in a process group
    /// of its own (a Ctrl-C meant for the tests does not reach it).
    static func start(
        _ executable: String, _ arguments: [String], streams: Streams,
        environment: [String: String]? = nil, directory: String? = nil, ownGroup: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let descriptor = streams.inputDescriptor {
            posix_spawn_file_actions_adddup2(&actions, descriptor, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, streams.input, O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, streams.output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let error = streams.error {
            posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        guard closeFrom(&actions, 3) == 0 else { throw CommandError(description: "posix_spawn_file_actions_addclosefrom_np failed") }
        if let directory, changeDirectory(&actions, directory) != 0 {
            throw CommandError(description: "posix_spawn_file_actions_addchdir_np failed")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid = pid_t()
        let result = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw CommandError(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Waits for `pid` to end, on a thread of its own (`waitpid` blocks), and returns its
    /// exit status (see ``waitForExit(_:)``).
    static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: waitForExit(pid)) }
        }
    }

    /// Blocks until `pid` ends; returns its exit code, or 128 + the signal that ended it
    /// (as a shell reports it).
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// A pipe whose ends are close-on-exec from the start (glibc's `pipe2`), so no program
    /// another test starts meanwhile inherits them. The caller closes both ends.
    static func makePipe() throws -> (read: CInt, write: CInt) {
        var ends: [CInt] = [-1, -1]
        guard pipeClosingOnExec(&ends, O_CLOEXEC) == 0 else {
            throw CommandError(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        return (ends[0], ends[1])
    }

    /// glibc's `pipe2`, which Swift's Glibc module does not import.
    private static let pipeClosingOnExec: @convention(c) (UnsafeMutablePointer<CInt>, CInt) -> CInt = {
        unsafeBitCast(symbol("pipe2"), to: (@convention(c) (UnsafeMutablePointer<CInt>, CInt) -> CInt).self)
    }()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc
    /// module does not import: every descriptor from the given one up is closed in the child.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        unsafeBitCast(symbol("posix_spawn_file_actions_addclosefrom_np"), to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), not imported either.
    private static let changeDirectory: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32 = {
        unsafeBitCast(symbol("posix_spawn_file_actions_addchdir_np"), to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer {
        guard let symbol = dlsym(nil, name) else { fatalError("glibc 2.34 or later is needed (\(name))") }
        return symbol
    }
}
