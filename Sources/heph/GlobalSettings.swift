import ArgumentParser
import Foundation
import HephDocker
import Logging
import Synchronization

/// What ``GlobalOptions`` parses, as plain values: where the engine is, the project, and how
/// much to log. The fast path (``FastPath``) makes one without the argument parser.
struct GlobalSettings: Sendable {
    /// `-p`, else `HEPH_PROJECT`.
    var project = ProjectChoice()
    /// `--host`: overrides `DOCKER_HOST`.
    var host: String?
    /// `--context`: the Docker CLI context to take the engine from.
    var context: String?
    /// `--swarm`: drive a Docker Swarm (services) rather than one engine (containers).
    var swarm = false
    /// `--endpoint-mode`: how a Swarm service's name resolves when its config does not say.
    var endpointMode = "vip"
    /// `--engine-concurrency`: heph's bound on its own bulk calls to the engine.
    var engineConcurrency = EngineSlots.defaultCapacity
    /// `--log-level`: the least severe message logged to stderr.
    var logLevel: Logger.Level = .warning

    /// The backend `--swarm` chooses.
    var backend: Backend { swarm ? .swarm : .engine }

    /// A wrong project, `--endpoint-mode`, `--engine-concurrency` or `--context` (or
    /// `DOCKER_CONTEXT`, or current context), or `--context` with `--host`, is a command-line
    /// error, found before anything runs.
    func validate() throws {
        _ = try project.chosen()
        guard SwarmServiceOptions.endpointModes.contains(endpointMode) else {
            throw ValidationError("--endpoint-mode must be vip or dnsrr, got \(quoted(endpointMode))")
        }
        try EngineConcurrencyOption.validate(engineConcurrency)
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

    /// What a command's orchestrator is made from: the real clock, the engine these settings
    /// name, the project, `--endpoint-mode`, `--engine-concurrency`.
    var runContext: RunContext {
        RunContext(environment: engineEnvironment, endpointMode: endpointMode, engineSlots: EngineSlots(capacity: engineConcurrency), scope: project.scope)
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
    /// `direct`: `body` makes its calls one after another (``RunContext/directCalls``).
    func withOrchestrator<T>(scope: ProjectScope? = nil, direct: Bool = false, _ body: (any Orchestrator) async throws -> T) async throws -> T {
        setUpLogging()
        do {
            var context = runContext
            context.directCalls = direct
            if let scope { context.scope = scope }
            let orchestrator = try backend.makeOrchestrator(context)
            return try await orchestrator.closing { try await body(orchestrator) }
        } catch let error as DockerError {
            throw CommandFailure(error)
        }
    }
}
