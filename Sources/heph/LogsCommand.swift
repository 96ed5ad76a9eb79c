import ArgumentParser
import Foundation
import HephDocker

/// `heph logs NAME [--follow] [--tail N]`: what a managed container wrote.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print what a managed container wrote: its stdout to stdout, its stderr to stderr.",
        discussion: """
            NAME is the short name (web), the full name (heph-web) or an id. With --follow, \
            new output is printed as it comes until the container stops or Ctrl-C. Only \
            containers labelled io.heph.managed=true are shown.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// The container.
    @Argument(help: ArgumentHelp("The container: web, heph-web, or an id.", valueName: "name"))
    var name: String

    /// Keep printing new output.
    @Flag(name: [.short, .long], help: "Keep printing new output until the container stops (or Ctrl-C).")
    var follow = false

    /// Only the last N lines.
    @Option(name: .long, help: ArgumentHelp("Only the last N lines (of both streams together).", valueName: "N"))
    var tail: Int?

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more, got \(tail)") }
        if follow && global.swarm { throw ValidationError("--follow cannot be used with --swarm; without it, heph logs --swarm prints what every task wrote so far") }
    }

    func run() async throws {
        try await reportingFailures {
            try await global.withOrchestrator { orchestrator in
                if follow {
                    try await orchestrator.followLogs(name, tail: tail) { Self.write($0) }
                } else {
                    Self.write(try await orchestrator.logs(name, tail: tail))
                }
            }
        }
    }

    private static func write(_ output: ContainerOutput) {
        if !output.stdout.isEmpty { FileHandle.standardOutput.write(Data(output.stdout)) }
        if !output.stderr.isEmpty { FileHandle.standardError.write(Data(output.stderr)) }
    }
}
