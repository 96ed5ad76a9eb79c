import ArgumentParser
import Foundation
import HephDocker
import Logging

/// Options every command takes: where the engine is and how much to log.
struct GlobalOptions: ParsableArguments {
    /// Overrides `DOCKER_HOST` for this run.
    @Option(name: .long, help: ArgumentHelp("The Docker engine to use, as DOCKER_HOST takes it (unix:///path or tcp://HOST:PORT).", valueName: "url"))
    var host: String?

    /// The least severe message logged to stderr.
    @Option(name: .long, help: ArgumentHelp("Log messages at this level and above on stderr: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .warning

    /// The environment the engine is read from: this process's, with `--host` as `DOCKER_HOST`.
    var engineEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["DOCKER_HOST"] = host }
        return environment
    }

    /// Sends log messages from `--log-level` up to stderr. Call once per process.
    func setUpLogging() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Sets up logging, connects, runs `body` with an orchestrator and always closes the
    /// connection; a ``DockerError`` becomes a ``CommandFailure``.
    func withOrchestrator<T>(_ body: (DockerOrchestrator) async throws -> T) async throws -> T {
        setUpLogging()
        do {
            return try await DockerOrchestrator.withOrchestrator(endpoint: EngineEndpoint(environment: engineEnvironment), body)
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

    var description: String { error.message }

    var exitCode: ExitCode {
        error.code == .engineUnreachable ? ExitCode(69) : .failure
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
