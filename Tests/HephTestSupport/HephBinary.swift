import Foundation

/// The built `heph` executable, run as a user runs it.
public enum HephBinary {
    /// `.build/<triple>/debug/heph`, beside the test bundle that `swift test` runs; or
    /// `HEPH_BINARY` when set (scripts/soak hostile runs the suites against a heph built
    /// with AddressSanitizer).
    public static var path: String {
        if let chosen = ProcessInfo.processInfo.environment["HEPH_BINARY"], !chosen.isEmpty { return chosen }
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent("heph").path
    }

    /// Runs `heph arguments…` with `environment` added to this process's, in `directory`.
    public static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil, directory: String? = nil) async throws -> Docker.Result {
        try await Command.run(path, arguments, environment: environment, input: input, directory: directory)
    }

    /// The checkout this test binary was built from (for `examples/`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
