import Foundation
import HephDocker
import HephLua
import HephTestSupport

/// Runs Lua code through a real runtime (with the real engine behind it), capturing what
/// it prints and what it reports.
struct LuaHarness {
    /// What a run produced.
    struct Result {
        var outcome: LuaRunOutcome
        var output: String
        var diagnostics: String
        var bridgeCalls: UInt64
        var mainStackDepth: Int32

        /// The printed lines.
        var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

        /// The failure message, or nil when the run finished.
        var failure: String? {
            if case .failed(let failure) = outcome { return failure.message }
            return nil
        }
    }

    /// Runs `code` (named `name` in messages) with `arguments`.
    static func run(
        _ code: String,
        name: String = "test.lua",
        arguments: [String] = [],
        searchPath: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async -> Result {
        await run(LuaScript(.code(code, name: name), arguments: arguments), searchPath: searchPath, environment: environment)
    }

    /// Runs `script`.
    static func run(
        _ script: LuaScript,
        searchPath: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async -> Result {
        let output = Recorder<String>()
        let diagnostics = Recorder<String>()
        let engine = LazyDockerOrchestrator(environment: environment)
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            engine: engine,
            output: { output.append($0) },
            diagnostics: { diagnostics.append($0) },
            searchPath: searchPath
        ))
        let outcome = await runtime.run(script)
        let calls = await runtime.checkedBridgeCalls()
        let depth = await runtime.mainStackDepth()
        await runtime.close()
        try? await engine.close()
        return Result(outcome: outcome, output: output.all.joined(), diagnostics: diagnostics.all.joined(), bridgeCalls: calls, mainStackDepth: depth)
    }
}
