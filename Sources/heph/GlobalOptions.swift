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

    /// The backend `--swarm` chooses.
    var backend: Backend { swarm ? .swarm : .engine }

    /// heph's bound on its own bulk calls to the engine.
    @OptionGroup var engineConcurrency: EngineConcurrencyOption

    /// The least severe message logged to stderr.
    @Option(name: .long, help: ArgumentHelp("Log messages at this level and above on stderr: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .warning

    /// A wrong `--context` (or `DOCKER_CONTEXT`, or current context), or one with `--host`,
    /// is a command-line error, found before anything runs.
    func validate() throws {
        guard SwarmServiceOptions.endpointModes.contains(endpointMode) else {
            throw ValidationError("--endpoint-mode must be vip or dnsrr, got \(quoted(endpointMode))")
        }
        if context != nil, host != nil {
            throw ValidationError("--host and --context cannot be used together; choose one")
        }
        do {
            _ = try DockerContext.engineEnvironment(context: context, host: host, environment: ProcessInfo.processInfo.environment)
        } catch let error as DockerError {
            throw ValidationError(error.message)
        }
    }

    /// The environment the engine is read from: this process's, with `--host` as
    /// `DOCKER_HOST`, or the chosen context's endpoint (``validate()`` has checked it).
    var engineEnvironment: [String: String] {
        let environment = ProcessInfo.processInfo.environment
        return (try? DockerContext.engineEnvironment(context: context, host: host, environment: environment)) ?? environment
    }

    /// Sends log messages from `--log-level` up to stderr. The logging system can be set
    /// up once per process: later calls change nothing.
    /// `handler` makes the handler of a level instead of text lines on stderr
    /// (`heph run --log-format json`).
    func setUpLogging(handler: (@Sendable (Logger.Level) -> any LogHandler)? = nil) {
        let level = logLevel
        Self.loggingSetUp.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                if let handler { return handler(level) }
                var stream = StreamLogHandler.standardError(label: label)
                stream.logLevel = level
                return stream
            }
        }
    }

    private static let loggingSetUp = Mutex(false)

    /// What a command's orchestrator is made from: the real clock, the engine these options
    /// name, the project, `--endpoint-mode`, `--engine-concurrency`.
    var runContext: RunContext {
        RunContext(environment: engineEnvironment, endpointMode: endpointMode, engineSlots: engineConcurrency.slots, scope: project.scope)
    }

    /// The orchestrator of a script's run, made on first use on the backend `--swarm`
    /// chooses (the script may still choose another with `heph.config.backend`), in the
    /// project `-p` or `HEPH_PROJECT` chooses (else the script may, with `heph.config.project`).
    /// `projectFixed`: the project is `-p`'s, `HEPH_PROJECT`'s or `default`, whatever the
    /// script says (`heph run --lead`).
    /// `onAction` hears each orchestrator call that changes something (`--metrics`).
    func backendSession(projectFixed: Bool = false, onAction: @escaping @Sendable (String) -> Void = { _ in }) -> BackendSession {
        var context = runContext
        context.onAction = onAction
        return BackendSession(backend: backend, context: context, projectChosen: projectFixed || project.isChosen)
    }

    /// Sets up logging, makes the orchestrator of the backend `--swarm` chooses over `scope`
    /// (the project chosen, unless told), runs `body` with it and always closes it; a
    /// ``DockerError`` becomes a ``CommandFailure``.
    func withOrchestrator<T>(scope: ProjectScope? = nil, _ body: (any Orchestrator) async throws -> T) async throws -> T {
        setUpLogging()
        do {
            var context = runContext
            if let scope { context.scope = scope }
            let orchestrator = try backend.makeOrchestrator(context)
            return try await orchestrator.closing { try await body(orchestrator) }
        } catch let error as DockerError {
            throw CommandFailure(error)
        }
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

extension AsyncParsableCommand {
    /// Runs `body`, printing a ``CommandFailure`` as one line on stderr and exiting with its code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("heph: \(failure.description)\n".utf8))
            throw failure.exitCode
        }
    }
}
