import ArgumentParser
import Foundation
import HephDocker
import HephLua
import Synchronization

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
            the run; a second SIGINT ends it at once. SIGHUP does not end it: it reloads \
            the script file in a fresh Lua state (as heph reload does; see heph reload \
            --help). A script that never calls the engine does not need one.

            Exit codes: 0 the script ended normally; the code given to heph.exit(code); \
            1 the script could not be read or compiled (one line on stderr), or raised an \
            error (the message with file:line and a traceback on stderr), or --down failed; \
            130 after SIGINT; 143 after SIGTERM; 124 Lua could not be stopped (a finalizer \
            that loops, or a C call such as string.find that runs past the time limit: \
            heph ends rather than hang, and says what ran); 75 a script read from standard \
            input lost the lead it took with heph.lead() (it cannot be run again to stand \
            by); 64 the command line is wrong.

            --lead: the process is a leader candidate for its project (-p, HEPH_PROJECT \
            or default; the script cannot choose another). While another process leads, it \
            stands by and runs none of the script; when the leader ends, one standby takes \
            over within seconds and runs the script from the start. A leader that can no \
            longer prove it leads runs no further hook, says so, and stands by again \
            (docs/ha.md). heph.lead() in the script does the same from that line.

            Script code is not trusted: a callback that computes for more than \
            heph.config.hook_timeout (5 s) is stopped, pcall or not; Ctrl-C stops the main \
            chunk the same way. --memory-limit caps the Lua heap (1024 MiB by default).
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Tear down every managed container (and the network) when the run ends.
    @Flag(name: .long, help: "When the run ends, however it ends, stop and remove every container heph manages in the run's project, and its network (as heph down).")
    var down = false

    /// Lead the project: run the script only while no other process does.
    @Flag(name: .long, help: "Run the script only while this process leads its project; until then stand by (another process leads), and take over when the leader ends. The project is -p's, HEPH_PROJECT's or default (docs/ha.md).")
    var lead = false

    @OptionGroup var sandboxing: SandboxOptions

    @OptionGroup var memory: MemoryLimitOption

    @OptionGroup var metrics: MetricsOption

    /// How heph's own output on stderr is written.
    @Option(name: .long, help: ArgumentHelp("text (default): lines for people; json: one JSON object per line on stderr for every transition, hook run, action, notice, heph.up progress line and script print (print goes there too). Fields: docs/operations.md.", valueName: "format"))
    var logFormat: LogFormat = .text

    /// Progress lines of long calls: on by default, on a terminal or not (a log keeps them).
    @Flag(inversion: .prefixedNo, help: "Show a line on stderr per service as heph.up creates, replaces, starts and readies it, with the seconds since it began, whether or not stderr is a terminal (default: on; --no-progress silences them).")
    var progress = true

    /// The script's path, or `-` for standard input.
    @Argument(help: ArgumentHelp("The script to run, or - to read it from standard input.", valueName: "script.lua"))
    var script: String

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        if lead, script == "-" {
            throw ValidationError("--lead needs a script file, not standard input: a process that loses the lead and leads again runs the script from the start")
        }
    }

    func run() async throws {
        let log = logFormat == .json ? StructuredLog() : nil
        if let log {
            global.setUpLogging { level in StructuredLogHandler(log: log, logLevel: level) }
        } else {
            global.setUpLogging()
        }
        let say: @Sendable (String) -> Void = { line in if let log { log.notice(line) } else { LuaRuntime.standardError(line) } }
        let served = try metrics.start()
        defer { served?.1.close() }
        if let server = served?.1 { say("heph: metrics at http://\(server.address)/metrics\n") }
        let counted = served?.0
        let backend = global.backendSession(projectFixed: lead, onAction: { op in
            counted?.action(op)
            log?.action(op)
        })
        log?.follow { backend.project.name }
        let searchPath = PluginCatalog.hephPath
        var configuration = LuaRuntime.Configuration(
            backend: backend, searchPath: searchPath, executablePath: CommandLine.arguments.first ?? "heph",
            progress: progress ? LuaRuntime.standardError : nil,
            sandbox: sandboxing.policy,
            memoryLimit: memory.bytes)
        configuration.registersWatcher = true
        if counted != nil || log != nil {
            configuration.hookRuns = { run in
                counted?.hookRan(event: run.event, seconds: run.seconds, failed: run.error != nil)
                log?.hook(run)
            }
        }
        let observe: @Sendable (TransitionFeed.Item) -> Void = { [backend] item in
            counted?.observe(item, project: backend.project.name)
            log?.observe(item)
        }
        if let log {
            configuration.output = { bytes in log.printed(bytes) }
            configuration.errorOutput = { bytes in log.wroteToStandardError(bytes) }
            configuration.diagnostics = { text in log.notice(text) }
            if progress { configuration.progress = { line in log.progress(line) } }
        }
        let project = backend.project.name
        let stage = RunStage { [down, say] code in
            // A standby runs nothing and holds nothing but connections, which end with it.
            if down { say("heph: --down left project \(project) alone: this process does not lead it (another process may)\n") }
            Foundation.exit(code)
        }
        let reloader = ScriptReloader(stage: stage, path: script == "-" ? nil : script, arguments: arguments, project: project, say: say)
        let signals = SignalHandling.shuttingDown(say: say) { code in stage.signal(code) }
        let hangUps = SignalHandling([(SIGHUP, { @Sendable in Task { _ = await reloader.reload() } })])
        // `heph attach` and `heph reload` reach the run through its control socket.
        let control = WatcherControl.listen(stage: stage, project: project, reloader: reloader, say: say)
        let (outcome, mayTearDown) = await runLeading(configuration, stage: stage, say: say, observe: observe)
        control?.close()
        hangUps.stop()
        signals.stop()
        var code = outcome.exitCodeReportingFailure(say)
        if down {
            if !mayTearDown {
                say("heph: --down left project \(backend.project.name) alone: this process does not lead it (another process may)\n")
            } else if await !tearDown(backend, say: say) {
                code = code == 0 ? 1 : code
            }
        }
        try? await backend.close()
        if code != 0 { throw ExitCode(code) }
    }

    /// Runs the script, and with `--lead` (or `heph.lead()` in it) stands by first and
    /// again each time the lead is lost: a new runtime each time, so nothing of a lost
    /// lead's run survives into the next.
    /// Returns how the last run ended, and whether its project is this process's to tear
    /// down (``LuaRuntime/mayTearDown()``).
    private func runLeading(_ configuration: LuaRuntime.Configuration, stage: RunStage, say: @Sendable (String) -> Void,
                            observe: @escaping @Sendable (TransitionFeed.Item) -> Void) async -> (LuaRunOutcome, mayTearDown: Bool) {
        // The instance's start time is the process's.
        _ = WatcherIdentity.current
        while true {
            // One engine watcher and one book of expectations for the run and its reloads.
            var configuration = configuration
            configuration.expectations = SharedExpectations()
            configuration.transitionFeed = TransitionFeed.claiming(from: configuration.expectations, clock: configuration.clock, observe: observe)
            let runtime = LuaRuntime(configuration: configuration)
            if lead {
                let (backend, diagnostics) = (configuration.backend, configuration.diagnostics)
                let campaign = Task { try await LuaRuntime.campaign(backend, diagnostics: diagnostics) }
                stage.standingBy(campaign)
                do {
                    runtime.adopt(try await campaign.value)
                } catch {
                    await runtime.close()
                    if let code = stage.signalled { return (.exited(code), false) }
                    return (.failed(LuaFailure(kind: .cannotOpen, message: "--lead: \(LuaRuntime.describe(error))")), false)
                }
            }
            // A signal that came as the lead was won (or between two runs) ends it here.
            if let code = stage.signalled {
                let mayTearDown = await runtime.mayTearDown()
                await runtime.close()
                return (.exited(code), mayTearDown)
            }
            stage.running(runtime)
            var active = runtime
            var outcome = await runtime.run(LuaScript(script == "-" ? .standardInput : .file(script), arguments: arguments))
            // A reload gave the run to a new state (it closed this one): follow that.
            while case .reloaded = outcome, let successor = stage.successor(of: active) {
                active = successor.runtime
                outcome = await successor.run.value
            }
            stage.running(nil)
            let mayTearDown = await active.mayTearDown()
            await active.close()
            configuration.transitionFeed?.stop()
            guard case .lostLead = outcome else { return (outcome, mayTearDown) }
            // A signal ends the process, even when the lead was lost meanwhile.
            if let code = stage.signalled { return (.exited(code), false) }
            if script == "-" {
                say("heph: a script read from standard input cannot stand by again; ending\n")
                return (outcome, false)
            }
        }
    }

    /// `--down`: tears down, reports on stderr, and says whether it succeeded.
    private func tearDown(_ backend: BackendSession, say: @Sendable (String) -> Void) async -> Bool {
        do {
            let report = try await backend.orchestrator().teardownAll()
            say("heph: --down removed \(report.containers.count) container\(report.containers.count == 1 ? "" : "s")\(report.networks.isEmpty ? "" : " and the network")\n")
            return true
        } catch {
            say("heph: --down failed: \(LuaRuntime.describe(error))\n")
            return false
        }
    }
}
