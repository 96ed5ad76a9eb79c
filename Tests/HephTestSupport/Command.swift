import Foundation

/// Runs programs for tests. Output goes to temporary files rather than pipes, so a chatty
/// program can never fill a pipe and hang waiting for a reader.
public enum Command {
    /// Runs `executable` with `arguments` (and `environment` added to this process's own,
    /// `input` on its stdin, in `directory`), awaiting its exit without blocking a pool thread.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil, directory: String? = nil
    ) async throws -> Docker.Result {
        let files = try OutputFiles(input: input)
        defer { files.remove() }
        let pid = try Spawn.start(executable, arguments, streams: files.streams,
                                  environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new }, directory: directory)
        return files.result(await Spawn.exitStatus(of: pid))
    }

    /// The same, blocking the calling thread: only for `defer` blocks.
    public static func runBlocking(_ executable: String, _ arguments: [String]) throws -> Docker.Result {
        let files = try OutputFiles(input: nil)
        defer { files.remove() }
        let pid = try Spawn.start(executable, arguments, streams: files.streams)
        return files.result(Spawn.waitForExit(pid))
    }
}

private struct OutputFiles {
    let directory: URL

    init(input: String?) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("heph-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("in").path, contents: Data((input ?? "").utf8))
    }

    var streams: Spawn.Streams {
        Spawn.Streams(input: directory.appendingPathComponent("in").path, output: directory.appendingPathComponent("out").path,
                      error: directory.appendingPathComponent("err").path)
    }

    func result(_ status: Int32) -> Docker.Result {
        let read = { (name: String) in (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        return Docker.Result(status: status, stdout: read("out"), stderr: read("err"))
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
