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
        userPluginDirectory: String? = nil,
        sandbox: SandboxPolicy? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        engineSlots: EngineSlots = EngineSlots()
    ) async -> Result {
        await run(LuaScript(.code(code, name: name), arguments: arguments), searchPath: searchPath, userPluginDirectory: userPluginDirectory,
                  sandbox: sandbox, environment: environment, engineSlots: engineSlots)
    }

    /// Runs `script`.
    static func run(
        _ script: LuaScript,
        searchPath: [String] = [],
        userPluginDirectory: String? = nil,
        sandbox: SandboxPolicy? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        engineSlots: EngineSlots = EngineSlots()
    ) async -> Result {
        let output = Recorder<String>()
        let diagnostics = Recorder<String>()
        let backend = BackendSession(context: RunContext(environment: environment, engineSlots: engineSlots))
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: backend,
            output: { output.append(String(decoding: $0, as: UTF8.self)) },
            diagnostics: { diagnostics.append($0) },
            searchPath: searchPath,
            userPluginDirectory: userPluginDirectory,
            sandbox: sandbox
        ))
        let outcome = await runtime.run(script)
        let calls = await runtime.checkedBridgeCalls()
        let depth = await runtime.mainStackDepth()
        await runtime.close()
        try? await backend.close()
        return Result(outcome: outcome, output: output.all.joined(), diagnostics: diagnostics.all.joined(), bridgeCalls: calls, mainStackDepth: depth)
    }
}

/// A script running in the background while the test acts on the engine from outside.
final class LuaSession: Sendable {
    let output = Recorder<String>()
    let diagnostics = Recorder<String>()
    private let backend: BackendSession
    private let runtime: LuaRuntime
    private let task: Task<LuaRunOutcome, Never>

    /// Starts `code` (named `test.lua`) with `arguments`.
    init(_ code: String, arguments: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment) {
        backend = BackendSession(context: RunContext(environment: environment))
        let output = self.output
        let diagnostics = self.diagnostics
        runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: backend, output: { output.append(String(decoding: $0, as: UTF8.self)) }, diagnostics: { diagnostics.append($0) }, userPluginDirectory: nil))
        let runtime = self.runtime
        task = Task { await runtime.run(LuaScript(.code(code, name: "test.lua"), arguments: arguments)) }
    }

    /// How many expectations of stops and removals the runtime keeps now.
    func expectationCount() async -> Int {
        await runtime.expectationCount()
    }

    /// The printed lines so far.
    var lines: [String] {
        output.all.joined().split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Waits until a printed line satisfies `condition` (or `timeout` passes); returns whether one did.
    func waitForLine(timeout: Duration = .seconds(20), _ condition: @escaping (String) -> Bool) async -> Bool {
        await Fixtures.eventually(timeout: timeout) { self.lines.contains(where: condition) }
    }

    /// Waits for the run to end (asking it to, after `timeout`), then closes everything.
    func finish(timeout: Duration = .seconds(30)) async -> LuaRunOutcome {
        let runtime = self.runtime
        let deadline = Task {
            // Not a wait for something to happen: the deadline itself, after which the run is
            // asked to end as a signal would (a shutdown from outside is what some tests test).
            try? await Task.sleep(for: timeout)
            runtime.requestShutdown(exitCode: 124)
        }
        let outcome = await task.value
        deadline.cancel()
        await runtime.close()
        try? await backend.close()
        return outcome
    }
}
