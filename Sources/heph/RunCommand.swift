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
            the run; a second SIGINT ends it at once. A script that never calls the engine \
            does not need one.

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

    /// Progress lines of long calls; on by default when standard error is a terminal.
    @Flag(inversion: .prefixedNo, help: "Show a line on stderr per service as heph.up creates, starts and readies it (default: only when stderr is a terminal).")
    var progress: Bool?

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
        global.setUpLogging()
        let backend = global.backendSession(projectFixed: lead)
        let searchPath = PluginCatalog.hephPath
        let showProgress = progress ?? (isatty(STDERR_FILENO) == 1)
        var configuration = LuaRuntime.Configuration(
            backend: backend, searchPath: searchPath, executablePath: CommandLine.arguments.first ?? "heph",
            progress: showProgress ? LuaRuntime.standardError : nil,
            sandbox: sandboxing.policy,
            memoryLimit: memory.bytes)
        configuration.registersWatcher = true
        let project = backend.project.name
        let stage = RunStage { [down] code in
            // A standby runs nothing and holds nothing but connections, which end with it.
            if down { FileHandle.standardError.write(Data("heph: --down left project \(project) alone: this process does not lead it (another process may)\n".utf8)) }
            Foundation.exit(code)
        }
        let signals = SignalHandling.shuttingDown { code in stage.signal(code) }
        let (outcome, mayTearDown) = await runLeading(configuration, stage: stage)
        signals.stop()
        var code = outcome.exitCodeReportingFailure()
        if down {
            if !mayTearDown {
                FileHandle.standardError.write(Data("heph: --down left project \(backend.project.name) alone: this process does not lead it (another process may)\n".utf8))
            } else if await !tearDown(backend) {
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
    private func runLeading(_ configuration: LuaRuntime.Configuration, stage: RunStage) async -> (LuaRunOutcome, mayTearDown: Bool) {
        // The instance's start time is the process's.
        _ = WatcherIdentity.current
        while true {
            let runtime = LuaRuntime(configuration: configuration)
            if lead {
                let campaign = Task { try await LuaRuntime.campaign(configuration.backend, diagnostics: configuration.diagnostics) }
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
            let outcome = await runtime.run(LuaScript(script == "-" ? .standardInput : .file(script), arguments: arguments))
            stage.running(nil)
            let mayTearDown = await runtime.mayTearDown()
            await runtime.close()
            guard case .lostLead = outcome else { return (outcome, mayTearDown) }
            // A signal ends the process, even when the lead was lost meanwhile.
            if let code = stage.signalled { return (.exited(code), false) }
            if script == "-" {
                FileHandle.standardError.write(Data("heph: a script read from standard input cannot stand by again; ending\n".utf8))
                return (outcome, false)
            }
        }
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

/// Where a `heph run` is, for its signal handler: standing by for the lead (a signal ends
/// the wait), or running a script (a signal asks it to shut down).
final class RunStage: Sendable {
    private let state = Mutex<(runtime: LuaRuntime?, campaign: Task<LeadGrant, any Error>?, signalled: Int32?)>((nil, nil, nil))
    /// Ends the process for a signal that came while it stood by.
    private let endStandby: @Sendable (Int32) -> Void

    /// `endStandby` ends the process for a signal that comes while it stands by: nothing
    /// is to be shut down then, and no engine call must hold the exit back.
    init(endStandby: @escaping @Sendable (Int32) -> Void) {
        self.endStandby = endStandby
    }

    /// The exit code of the signal received, if one was.
    var signalled: Int32? { state.withLock { $0.signalled } }

    /// A signal came.
    func signal(_ code: Int32) {
        let (runtime, campaign) = state.withLock { state in
            state.signalled = state.signalled ?? code
            return (state.runtime, state.campaign)
        }
        if let campaign, runtime == nil {
            campaign.cancel()
            endStandby(code)
        }
        runtime?.requestShutdown(exitCode: code)
    }

    /// The process stands by.
    func standingBy(_ campaign: Task<LeadGrant, any Error>) {
        let signalled = state.withLock { state in
            state.campaign = campaign
            return state.signalled != nil
        }
        if signalled { campaign.cancel() }
    }

    /// The script runs in `runtime` (nil: it ended).
    func running(_ runtime: LuaRuntime?) {
        let signalled = state.withLock { state in
            state.campaign = nil
            state.runtime = runtime
            return state.signalled
        }
        if let signalled, let runtime { runtime.requestShutdown(exitCode: signalled) }
    }
}
