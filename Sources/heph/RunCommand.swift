import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// `heph run script.lua [args…]`: runs a Lua script with the `heph` module.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script with the heph module.",
        discussion: """
            The script sees its arguments as arg[1], arg[2], … and as `...`; arg[0] is the \
            script. `heph` is a global, and require("heph") returns it. require looks next \
            to the script first, then in HEPH_PATH (';'-separated ?.lua templates), then in \
            Lua's own paths (so Debian's lua-cjson loads).

            heph run keeps running after the main chunk returns while anything is \
            registered: a hook (heph.on), a timer (heph.every, heph.after) or a health \
            poller. SIGINT or SIGTERM runs the script's heph.on_shutdown handlers and ends \
            the run; a second SIGINT ends it at once. A script that never calls the engine \
            does not need one.

            Exit codes: 0 the script ended normally; the code given to heph.exit(code); \
            1 the script could not be read or compiled (one line on stderr), or raised an \
            error (the message with file:line and a traceback on stderr), or --down failed; \
            130 after SIGINT; 143 after SIGTERM; 124 Lua could not be stopped (a finalizer \
            that loops, or a C call such as string.find that runs past the time limit: \
            heph ends rather than hang, and says what ran); 64 the command line is wrong.

            Script code is not trusted: a callback that computes for more than \
            heph.config.hook_timeout (5 s) is stopped, pcall or not; Ctrl-C stops the main \
            chunk the same way. --memory-limit caps the Lua heap (1024 MiB by default).
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Tear down every managed container (and the network) when the run ends.
    @Flag(name: .long, help: "When the run ends, however it ends, stop and remove every container heph manages in the run's project, and its network (as heph down).")
    var down = false

    @OptionGroup var sandboxing: SandboxOptions

    @OptionGroup var memory: MemoryLimitOption

    /// Progress lines of long calls; on by default when standard error is a terminal.
    @Flag(inversion: .prefixedNo, help: "Show a line on stderr per service as heph.up creates, starts and readies it (default: only when stderr is a terminal).")
    var progress: Bool?

    /// The script's path, or `-` for standard input.
    @Argument(help: ArgumentHelp("The script to run, or - to read it from standard input.", valueName: "script.lua"))
    var script: String

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func run() async throws {
        global.setUpLogging()
        let backend = global.backendSession()
        let searchPath = PluginCatalog.hephPath
        let showProgress = progress ?? (isatty(STDERR_FILENO) == 1)
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: backend, searchPath: searchPath, executablePath: CommandLine.arguments.first ?? "heph",
            progress: showProgress ? LuaRuntime.standardError : nil,
            sandbox: sandboxing.policy,
            memoryLimit: memory.bytes))
        let signals = SignalHandling.shuttingDown { code in runtime.requestShutdown(exitCode: code) }
        let outcome = await runtime.run(LuaScript(script == "-" ? .standardInput : .file(script), arguments: arguments))
        signals.stop()
        await runtime.close()
        var code = outcome.exitCodeReportingFailure()
        if down, await !tearDown(backend) { code = code == 0 ? 1 : code }
        try? await backend.close()
        if code != 0 { throw ExitCode(code) }
    }

    /// `--down`: tears down, reports on stderr, and says whether it succeeded.
    private func tearDown(_ backend: BackendSession) async -> Bool {
        do {
            let report = try await backend.orchestrator().teardownAll()
            FileHandle.standardError.write(Data("heph: --down removed \(report.containers.count) container\(report.containers.count == 1 ? "" : "s")\(report.networks.isEmpty ? "" : " and the network")\n".utf8))
            return true
        } catch {
            FileHandle.standardError.write(Data("heph: --down failed: \(LuaRuntime.describe(error))\n".utf8))
            return false
        }
    }
}
