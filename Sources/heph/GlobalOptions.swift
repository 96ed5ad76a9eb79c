import ArgumentParser
import Foundation
import HephDocker
import Logging
import Synchronization

/// Options every command takes: where the engine is, the project, and how much to log.
struct GlobalOptions: ParsableArguments {
    /// `-p/--project`, else `HEPH_PROJECT`.
    @OptionGroup var project: ProjectOption

    /// Overrides `DOCKER_HOST` for this run.
    @Option(name: .long, help: ArgumentHelp("The Docker engine to use, as DOCKER_HOST takes it (unix:///path, tcp://HOST:PORT or ssh://USER@HOST).", valueName: "url"))
    var host: String?

    /// A Docker CLI context to take the engine from.
    @Option(name: .long, help: ArgumentHelp("The Docker CLI context whose engine to use (as `docker --context`; `docker context ls` lists them). Default: DOCKER_CONTEXT, then the CLI's current context, unless DOCKER_HOST is set.", valueName: "name"))
    var context: String?

    /// Drive a Docker Swarm (services) rather than one engine (containers).
    @Flag(name: .long, help: "Drive a Docker Swarm through the engine, which must be a swarm manager: each service is a Swarm service with replicas, on an overlay network (docs/scaling.md). The same as heph.config.backend = \"swarm\".")
    var swarm = false

    /// How a Swarm service's name resolves when its config does not say.
    @Option(name: .long, help: ArgumentHelp("With --swarm: how a service's name resolves when its config has no endpoint_mode: vip (a virtual address, ports on every node; needs the kernel's IPVS) or dnsrr (every task's address, ports on the nodes running a task).", valueName: "mode"))
    var endpointMode = "vip"

    /// heph's bound on its own bulk calls to the engine.
    @OptionGroup var engineConcurrency: EngineConcurrencyOption

    /// The least severe message logged to stderr.
    @Option(name: .long, help: ArgumentHelp("Log messages at this level and above on stderr: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .warning

    func validate() throws {
        try settings.validate()
    }

    /// These options as plain values, which every command's work is done from.
    var settings: GlobalSettings {
        GlobalSettings(project: project.choice, host: host, context: context, swarm: swarm, endpointMode: endpointMode,
                       engineConcurrency: engineConcurrency.engineConcurrency, logLevel: logLevel)
    }

    /// See ``GlobalSettings/engineEnvironment``.
    var engineEnvironment: [String: String] { settings.engineEnvironment }

    /// See ``GlobalSettings/setUpLogging(handler:)``.
    func setUpLogging(handler: (@Sendable (Logger.Level) -> any LogHandler)? = nil) {
        settings.setUpLogging(handler: handler)
    }

    /// See ``GlobalSettings/backendSession(projectFixed:onAction:)``.
    func backendSession(projectFixed: Bool = false, onAction: @escaping @Sendable (String) -> Void = { _ in }) -> BackendSession {
        settings.backendSession(projectFixed: projectFixed, onAction: onAction)
    }

    /// See ``GlobalSettings/withOrchestrator(scope:_:)``.
    func withOrchestrator<T>(scope: ProjectScope? = nil, direct: Bool = false, _ body: (any Orchestrator) async throws -> T) async throws -> T {
        try await settings.withOrchestrator(scope: scope, direct: direct, body)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A ``DockerError`` on its way out of a command: printed as `heph: message`, with the
/// exit code the command-line reference documents.
struct CommandFailure: Error, CustomStringConvertible {
    let error: DockerError

    init(_ error: DockerError) {
        self.error = error
    }

    var description: String { error.explained }

    var exitCode: ExitCode {
        switch error.code {
        case .engineUnreachable: ExitCode(69)
        // EX_TEMPFAIL: the engine or heph's queue was slow; the same command may work later.
        case .engineTimeout, .queueTimeout: ExitCode(75)
        default: .failure
        }
    }
}

/// Runs `body`, printing a ``CommandFailure`` as one line on stderr and exiting with its code.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        FileHandle.standardError.write(Data("heph: \(failure.description)\n".utf8))
        throw failure.exitCode
    }
}
