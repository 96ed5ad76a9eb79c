import ArgumentParser
import Foundation
import HephDocker
import HephLua
import Synchronization

/// `heph repl [script.lua [args…]]`: an interactive Lua prompt with the `heph` module.
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "An interactive Lua prompt with the heph module, against a live engine.",
        discussion: """
            Works like lua5.4's own prompt: an input is tried first as `return <input>`, so \
            an expression prints its value; an unfinished statement continues on a second \
            prompt (_PROMPT and _PROMPT2 set them). Tables print nested with sorted keys; \
            lists of containers print as a table. Tab completes globals and fields \
            (heph.st<Tab>). History is kept in ~/.heph_history.

            Hooks, timers and pollers registered at the prompt keep firing while it waits; \
            what they print appears above the prompt. Ctrl-C stops the statement running \
            (a computation or a wait such as heph.sleep) and returns to the prompt, or drops \
            the line being typed. Ctrl-D leaves, after the heph.on_shutdown handlers.

            With a script, the script runs first (with its arguments), then the prompt opens \
            with everything it defined. When standard input is not a terminal, statements \
            are read from it without prompts or colours.

            Exit codes: 0 after Ctrl-D or end of input; the code given to heph.exit(code); \
            1 when the script fails; 143 after SIGTERM; 124 Lua could not be stopped (a \
            finalizer that loops); 64 the command line is wrong.
            """
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var memory: MemoryLimitOption

    /// A script to run before the prompt opens.
    @Argument(help: ArgumentHelp("A script to run first; its globals are there at the prompt.", valueName: "script.lua"))
    var script: String?

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func run() async throws {
        global.setUpLogging()
        let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let terminal = ReplTerminal(interactive: interactive)
        let backend = global.backendSession()
        let searchPath = PluginCatalog.hephPath
        let toStderr: @Sendable (String) -> Void = { terminal.write($0, to: STDERR_FILENO) }
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: backend,
            output: { terminal.write($0, to: STDOUT_FILENO) },
            diagnostics: toStderr,
            searchPath: searchPath,
            executablePath: CommandLine.arguments.first ?? "heph",
            progress: interactive ? toStderr : nil,
            memoryLimit: memory.bytes
        ))
        if interactive { terminal.attachEditor(complete: { runtime.completions(for: $0) }) }

        let project = backend.project.isDefault ? "" : backend.project.name
        let loop = ReplLoop(evaluator: LocalEvaluator(runtime: runtime), terminal: terminal, project: project)
        // Ctrl-C interrupts the statement at the prompt, never the REPL.
        let interrupt: @Sendable () -> Void = { loop.interrupt() }
        let terminate: @Sendable () -> Void = { runtime.requestShutdown(exitCode: 143); terminal.endInput() }
        let signals = SignalHandling([(SIGINT, interrupt), (SIGTERM, terminate)])
        let source: LuaScript.Source = script.map { .file($0) } ?? .code("", name: "repl")
        let outcome = await Self.runSession(LuaScript(source, arguments: arguments), in: runtime, loop: loop, terminal: terminal)
        signals.stop()
        await runtime.close()
        try? await backend.close()
        let code = outcome.exitCodeReportingFailure()
        if code != 0 { throw ExitCode(code) }
    }

    /// Runs `script`, then reads, evaluates and prints until the input ends or the session
    /// does; returns how the session ended.
    static func runSession(_ script: LuaScript, in runtime: LuaRuntime, loop: ReplLoop, terminal: ReplTerminal) async -> LuaRunOutcome {
        let (ready, readiness) = AsyncStream<Void>.makeStream()
        let session = Task {
            let outcome = await runtime.runSession(script) { readiness.finish() }
            loop.end()
            readiness.finish()
            terminal.endInput()  // a prompt still waiting (heph.exit from a hook) gives way
            return outcome
        }
        for await _ in ready {}
        await loop.readEvaluatePrint()
        runtime.requestShutdown(exitCode: 0)
        return await session.value
    }
}

/// Where the REPL's statements run: this process's own runtime (`heph repl`), or a running
/// watcher's, over its control socket (`heph attach`).
protocol ReplEvaluator: Sendable {
    /// Runs one statement (or expression), as ``LuaRuntime/evaluate(_:)`` does.
    func evaluate(_ source: String) async -> Evaluation
    /// Stops the statement being evaluated (Ctrl-C).
    func interrupt()
    /// The global `name`'s text (`_PROMPT`, `_PROMPT2`), nil when it is not a string.
    func globalText(_ name: String) async -> String?
}

/// `heph repl`'s statements: in the REPL's own session.
struct LocalEvaluator: ReplEvaluator {
    let runtime: LuaRuntime
    func evaluate(_ source: String) async -> Evaluation { await runtime.evaluate(source) }
    func interrupt() { runtime.interruptEvaluation() }
    func globalText(_ name: String) async -> String? { await runtime.globalText(name) }
}

/// The read-evaluate-print loop over a session.
final class ReplLoop: Sendable {
    private let evaluator: any ReplEvaluator
    private let terminal: ReplTerminal
    /// The project the statements act on, named in the prompt unless it is the default ("").
    private let project: String
    /// Whether a statement is being evaluated (Ctrl-C then interrupts it).
    private let evaluating = Mutex(false)
    /// Whether the session has ended (`heph.exit`, SIGTERM, a failing script, the watcher gone).
    private let ended = Mutex(false)

    init(evaluator: any ReplEvaluator, terminal: ReplTerminal, project: String) {
        self.evaluator = evaluator
        self.terminal = terminal
        self.project = project
    }

    /// Ctrl-C: stops the statement being evaluated, or drops the line being typed.
    func interrupt() {
        if evaluating.withLock({ $0 }) { evaluator.interrupt() } else { terminal.interrupt() }
    }

    /// The session ended: the loop reads no further line.
    func end() {
        ended.withLock { $0 = true }
    }

    /// Reads, evaluates and prints until the input ends or the session does.
    func readEvaluatePrint() async {
        var buffer = ""
        while !ended.withLock({ $0 }) {
            // `staging> `: which project the statements act on, when it is not the default.
            let prompt = buffer.isEmpty ? await evaluator.globalText("_PROMPT") ?? "\(project)> " : await evaluator.globalText("_PROMPT2") ?? "\(project)>> "
            switch await terminal.read(prompt: prompt) {
            case .end:
                return
            case .interrupted:
                buffer = ""
            case .line(let line):
                if buffer.isEmpty && line.allSatisfy(\.isWhitespace) { continue }
                buffer = buffer.isEmpty ? line : buffer + "\n" + line
                evaluating.withLock { $0 = true }
                let evaluation = await evaluator.evaluate(buffer)
                evaluating.withLock { $0 = false }
                switch evaluation {
                case .incomplete:
                    continue
                case .values(let text):
                    if let text { terminal.write(text + "\n", to: STDOUT_FILENO) }
                case .failed(let message):
                    terminal.writeError(message)
                case .ended:
                    end()
                    return
                }
                buffer = ""
            }
        }
    }
}
