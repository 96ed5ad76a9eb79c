import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// `heph check script.lua [args…]`: runs a script against a dry run, never the engine.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a script without touching the engine, and print what it would create.",
        discussion: """
            The script runs as heph run would run it, but against a dry-run orchestrator: \
            every config is validated exactly as the chosen backend validates it (the engine's \
            rules, or a swarm's with --swarm or heph.config.backend = "swarm"), containers "start" at once \
            (healthy when they have a healthcheck), exec runs nothing and logs are empty. \
            The run ends when the main chunk returns (after the on_shutdown handlers); hooks \
            and timers registered by then do not fire. heph.shell still runs host commands \
            and heph.http.request still sends, unless --sandbox is given (as for heph run; \
            with --allow-http, to those hosts).

            Prints the containers and networks the script would create, by the names the \
            engine would give them in the project (-p, HEPH_PROJECT or heph.config.project: \
            heph_P_web in project P). Exit codes: 0 the \
            script ran through; 1 it does not compile, or raised an error (file:line and \
            the message, such as a config field at fault); 130 and 143 after SIGINT and \
            SIGTERM; 124 Lua could not be stopped (a finalizer that loops); 64 the command \
            line is wrong.
            """
    )

    @OptionGroup var sandboxing: SandboxOptions

    /// Check by the swarm backend's rules, as `heph run --swarm` would run the script.
    @Flag(name: .long, help: "Check every config as the swarm backend would (heph run --swarm): replicas, placement and the rest of a Swarm service's spec. Without it the engine backend's rules apply (one container per service), unless the script sets heph.config.backend.")
    var swarm = false

    /// What the script reads as `heph.config.engine_concurrency`, as `heph run` would set
    /// it (a dry run sends nothing, so it bounds nothing here).
    @OptionGroup var engineConcurrency: EngineConcurrencyOption

    @OptionGroup var memory: MemoryLimitOption

    /// The project whose names the dry run gives (`-p`, `HEPH_PROJECT`).
    @OptionGroup var project: ProjectOption

    /// The script's path, or `-` for standard input.
    @Argument(help: ArgumentHelp("The script to check, or - to read it from standard input.", valueName: "script.lua"))
    var script: String

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func run() async throws {
        // The dry run is made on the first engine call, by the rules of the backend chosen by then.
        let record = DryRunRecord()
        let clock = SystemClock()
        let context = RunContext(clock: clock, environment: [:], dryRun: record, engineSlots: engineConcurrency.slots, scope: project.scope)
        let backend = BackendSession(backend: swarm ? .swarm : .engine, context: context, projectChosen: project.isChosen)
        let searchPath = PluginCatalog.hephPath
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: backend, commandName: "check", searchPath: searchPath, executablePath: CommandLine.arguments.first ?? "heph", sandbox: sandboxing.policy,
            memoryLimit: memory.bytes))
        let started = clock.now
        // Ctrl-C stops a script that never returns (the main chunk has no time limit).
        let signals = SignalHandling.shuttingDown { code in runtime.requestShutdown(exitCode: code) }
        let outcome = await runtime.runSession(LuaScript(script == "-" ? .standardInput : .file(script), arguments: arguments)) {
            runtime.requestShutdown(exitCode: 0)
        }
        signals.stop()
        await runtime.close()
        let elapsed = (clock.now - started) / .seconds(1)
        let code = outcome.exitCodeReportingFailure()
        guard code == 0 else { throw ExitCode(code) }
        print(Self.summary(record, script: script, seconds: elapsed, project: backend.project), terminator: "")
    }

    /// What the script would create, by the engine's names in `project`, as `heph ps`
    /// lays out a table.
    static func summary(_ record: DryRunRecord, script: String, seconds: Double, project: Project) -> String {
        var text = "heph check: \(script == "-" ? "the script" : script) ran through in \(formatted((seconds * 100).rounded() / 100)) s without touching the engine\n"
        let containers = record.containers
        let networks = record.networks
        if containers.isEmpty && networks.isEmpty { return text + "it creates nothing\n" }
        text += "\n\(project.isDefault ? "" : "in project \(project.name) ")it would create \(networks.count) network\(networks.count == 1 ? "" : "s"): \(networks.joined(separator: ", "))\n"
        text += "and \(containers.count) container\(containers.count == 1 ? "" : "s"):\n\n"
        let rows = containers.map { container in
            let config = container.config
            return [container.dockerName, config.image,
                    config.ports.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value)" }.joined(separator: ", "),
                    container.volumes.joined(separator: ", "),
                    config.healthcheck == nil ? "" : "yes"]
        }
        return text + TextTable(header: ["NAME", "IMAGE", "PORTS", "VOLUMES", "HEALTHCHECK"], rows: rows).rendered
    }
}
