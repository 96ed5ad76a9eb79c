import Foundation
import HephDocker

/// How the test support starts a program (``Command``, ``Daemon``, ``BackgroundProcess``,
/// ``HephProcess``): through HephDocker's ``ProcessSpawn``, the one `posix_spawn` helper.
/// Tests never use Foundation's `Process`.
///
/// Two reasons. Servers fork children that outlive them (dockerd's containerd shims,
/// sshd's sessions), and under `Process` their exits were never seen. And `Process.run()`
/// on Linux (swift-corelibs-foundation up to 6.3) now and then crashes the test process
/// (see ``ProcessSpawn``).
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
        do {
            return try ProcessSpawn.start(
                executable, arguments,
                input: streams.inputDescriptor.map { .descriptor($0) } ?? .file(streams.input),
                output: .file(streams.output), error: streams.error.map { .file($0) } ?? .sameAsOutput,
                environment: environment, directory: directory, ownGroup: ownGroup)
        } catch let error as SpawnError {
            throw CommandError(description: error.message)
        }
    }

    /// Waits for `pid` to end, on a thread of its own (`waitpid` blocks), and returns its
    /// exit status (see ``waitForExit(_:)``).
    static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: waitForExit(pid)) }
        }
    }

    /// Blocks until `pid` ends; returns its exit code, or 128 + the signal that ended it.
    static func waitForExit(_ pid: pid_t) -> Int32 {
        ProcessSpawn.waitForExit(pid)
    }

    /// A pipe whose ends are close-on-exec from the start. The caller closes both ends.
    static func makePipe() throws -> (read: CInt, write: CInt) {
        do {
            return try ProcessSpawn.makePipe()
        } catch let error as SpawnError {
            throw CommandError(description: error.message)
        }
    }
}
