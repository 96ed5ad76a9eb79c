import Foundation
import HephDocker

/// Runs a command on heph's own host for `heph.shell`: no shell unless asked for, the
/// output of both streams kept, and nothing waiting on the Lua thread.
enum HostCommand {
    /// Runs `arguments` (the first is looked up in `PATH`) with `environment` added to
    /// heph's own, and waits for it to end.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> ExecResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let ended = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in ended.continuation.finish() }
        do {
            try process.run()
        } catch {
            throw DockerError(.invalidConfig, "cannot run \(quoted(arguments.first ?? "")): \(error.localizedDescription)")
        }
        // Both pipes drain at once, so a command that fills one cannot stall on it.
        async let out = Self.readAll(stdout.fileHandleForReading)
        async let err = Self.readAll(stderr.fileHandleForReading)
        let output = ContainerOutput(stdout: await out, stderr: await err)
        for await _ in ended.stream {}
        let code = process.terminationReason == .uncaughtSignal ? 128 + Int(process.terminationStatus) : Int(process.terminationStatus)
        return ExecResult(exitCode: code, output: output)
    }

    private static func readAll(_ handle: FileHandle) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: [UInt8](handle.readDataToEndOfFile()))
            }
        }
    }
}
