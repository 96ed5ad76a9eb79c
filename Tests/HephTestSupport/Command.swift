import Foundation

/// Runs programs for tests. Output goes to temporary files rather than pipes, so a chatty
/// program can never fill a pipe and hang waiting for a reader.
public enum Command {
    /// Runs `executable` with `arguments` (and `environment` added to this process's own,
    /// `input` on its stdin, in `directory`), awaiting its exit without blocking a pool thread.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil, directory: String? = nil
    ) async throws -> Docker.Result {
        let files = try OutputFiles()
        defer { files.remove() }
        let process = try files.process(executable, arguments, environment: environment, input: input)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return files.result(status)
    }

    /// The same, blocking the calling thread: only for `defer` blocks.
    public static func runBlocking(_ executable: String, _ arguments: [String]) throws -> Docker.Result {
        let files = try OutputFiles()
        defer { files.remove() }
        let process = try files.process(executable, arguments, environment: [:], input: nil)
        try process.run()
        process.waitUntilExit()
        return files.result(process.terminationStatus)
    }
}

private struct OutputFiles {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("heph-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func process(_ executable: String, _ arguments: [String], environment: [String: String], input: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("out").path, contents: nil)
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("err").path, contents: nil)
        let inputPath = directory.appendingPathComponent("in").path
        _ = FileManager.default.createFile(atPath: inputPath, contents: Data((input ?? "").utf8))
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("out"))
        process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("err"))
        return process
    }

    func result(_ status: Int32) -> Docker.Result {
        let read = { (name: String) in (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        return Docker.Result(status: status, stdout: read("out"), stderr: read("err"))
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
