import Foundation
import HephDocker
import Synchronization

/// Runs a command on heph's own host for `heph.shell`: no shell unless asked for, the
/// output of both streams kept, and nothing waiting on the Lua thread.
enum HostCommand {
    /// Runs `arguments` (the first is looked up in `PATH`) with `environment` added to
    /// heph's own, and waits for it to end.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> ExecResult {
        let process: ChildProcess
        do {
            process = try ChildProcess(arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { _, added in added }, pipingInput: false, ownGroup: true)
        } catch let error as SpawnError {
            throw DockerError(.invalidConfig, error.message)
        }
        // A call nobody waits for any more (its run ended) ends its command too, and what
        // the command started (its own process group).
        return await withTaskCancellationHandler {
            // Both pipes drain at once, so a command that fills one cannot stall on it.
            async let out = Self.readAll(process.output)
            async let err = Self.readAll(process.error)
            let output = ContainerOutput(stdout: await out, stderr: await err)
            // `env` answers 127 for a program it cannot find, as a shell does.
            return ExecResult(exitCode: Int(await process.exitStatus()), output: output)
        } onCancel: {
            process.terminate()
        }
    }

    private static func readAll(_ descriptor: CInt) async -> [UInt8] {
        let bytes = Mutex<[UInt8]>([])
        return await withCheckedContinuation { continuation in
            ChildProcess.drain(descriptor, onChunk: { chunk in bytes.withLock { $0 += chunk } },
                               onEnd: { continuation.resume(returning: bytes.withLock { $0 }) })
        }
    }
}
