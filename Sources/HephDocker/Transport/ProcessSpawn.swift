import Foundation

/// Starting a program with `posix_spawn` rather than Foundation's `Process`: the one way
/// heph (``ChildProcess``) and its tests start programs.
///
/// Why not `Process`: on Linux its `run()` lists /proc/self/fd copying whole 256-byte
/// `d_name`s, reading past glibc's buffer, and now and then crashes the calling process
/// (swiftlang/swift-corelibs-foundation#5472; seen in heph's tests). The more descriptors
/// are open, the likelier.
public enum ProcessSpawn {
    /// Where one of the child's standard streams comes from or goes to.
    public enum Stream: Sendable {
        /// A file opened in the child: read for standard input, appended to (created when
        /// missing) for the others.
        case file(String)
        /// A descriptor of this process's, handed to the child (the caller closes its copy).
        case descriptor(CInt)
        /// Standard error only: the same as standard output.
        case sameAsOutput
    }

    /// Starts `executable` (a path) with `arguments` and returns its pid. The child gets
    /// `input`, `output` and `error` as its standard streams and no other descriptor of this
    /// process's; every signal at its default and none blocked (heph ignores or blocks
    /// SIGINT and SIGTERM to handle them itself); `environment` in place of this process's
    /// when given; `directory` as its working directory; a process group of its own when
    /// `ownGroup` (a Ctrl-C meant for this process does not reach it).
    ///
    /// - Throws: ``SpawnError`` with the system's words, naming the program as `name` (by
    ///   default, `executable`).
    public static func start(
        _ executable: String, _ arguments: [String], name: String? = nil,
        input: Stream = .file("/dev/null"), output: Stream, error: Stream,
        environment: [String: String]? = nil, directory: String? = nil, ownGroup: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (number, stream) in [(CInt(0), input), (1, output), (2, error)] {
            switch stream {
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, number, path, number == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .descriptor(let descriptor):
                posix_spawn_file_actions_adddup2(&actions, descriptor, number)
            case .sameAsOutput:
                posix_spawn_file_actions_adddup2(&actions, 1, number)
            }
        }
        // Every other descriptor is close-on-exec already (NIO and Foundation open theirs
        // so); closing them all here does not depend on it.
        _ = closeFrom(&actions, 3)
        if let directory {
            guard let changeDirectory else { throw SpawnError(message: "cannot start \(quoted(name ?? executable)) in \(directory): this glibc cannot (it needs 2.29)", code: ENOSYS) }
            let result = changeDirectory(&actions, directory)
            guard result == 0 else { throw failure("cannot start \(quoted(name ?? executable)) in \(directory)", result) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var pid = pid_t()
        let result = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw failure("cannot start \(quoted(name ?? executable))", result) }
        return pid
    }

    /// A pipe whose ends are close-on-exec from the start (glibc's `pipe2`), so no program
    /// another thread starts meanwhile inherits them. The caller closes both ends.
    public static func makePipe() throws -> (read: CInt, write: CInt) {
        var ends: [CInt] = [-1, -1]
        guard pipeClosingOnExec(&ends, O_CLOEXEC) == 0 else { throw failure("cannot make a pipe", errno) }
        return (ends[0], ends[1])
    }

    /// Blocks until `pid` ends; returns its exit code, or 128 + the signal that ended it
    /// (as a shell reports it).
    public static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private static func failure(_ what: String, _ code: CInt) -> SpawnError {
        SpawnError(message: "\(what): \(String(cString: strerror(code)))", code: code)
    }

    /// glibc's `pipe2`, which Swift's Glibc module does not import (`pipe` and `fcntl`
    /// where it is missing).
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

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), not imported either; a
    /// no-op where it is missing (the descriptors are close-on-exec anyway).
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return { _, _ in 0 } }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt).self)
    }()

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), not imported either.
    private static let changeDirectory: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> CInt)? = {
        dlsym(nil, "posix_spawn_file_actions_addchdir_np").map {
            unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> CInt).self)
        }
    }()
}

/// A child process that could not be started: the step that failed, in the system's words.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    /// What failed and why (`cannot start "ssh": No such file or directory`).
    public var message: String
    /// The `errno` value.
    public var code: CInt

    /// Makes an error.
    public init(message: String, code: CInt) {
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
