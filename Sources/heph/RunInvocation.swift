import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// A `heph run`, as plain values: what ``RunCommand`` parses, or what ``FastPath`` reads
/// from a command line with no options (`heph run FILE [ARGS…]`).
struct RunInvocation: Sendable {
    var global = GlobalSettings()
    /// `--down`: tear down the project when the run ends.
    var down = false
    /// `--lead`: run the script only while this process leads its project.
    var lead = false
    /// `--sandbox` and its allowances; nil without `--sandbox`.
    var sandbox: SandboxPolicy?
    /// `--memory-limit`, in bytes; nil: no limit.
    var memoryLimit: Int? = LuaRuntime.memoryLimit(mebibytes: nil)
    /// `--metrics HOST:PORT`.
    var metrics: String?
    /// `--log-format`.
    var logFormat: LogFormat = .text
    /// `--progress` (the default) or `--no-progress`.
    var progress = true
    /// The script's path, or `-` for standard input.
    var script: String
    /// Everything after the script, passed to it untouched.
    var arguments: [String] = []

    func run() async throws {
        let log = logFormat == .json ? StructuredLog() : nil
        if let log {
            global.setUpLogging { level in StructuredLogHandler(log: log, logLevel: level) }
        } else {
            global.setUpLogging()
        }
        let say: @Sendable (String) -> Void = { line in if let log { log.notice(line) } else { LuaRuntime.standardError(line) } }
        let served = try MetricsOption.start(metrics)
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
            sandbox: sandbox,
            memoryLimit: memoryLimit)
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
