import ArgumentParser
import HephDocker

/// `heph down`: tear down everything heph manages.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop and remove every container heph manages, then its network.",
        discussion: """
            Acts on the engine's state, not on any one script: everything labelled \
            io.heph.managed=true goes, whichever heph process made it; nothing else is \
            touched. Containers get a graceful stop (10 s) before removal, all in parallel. \
            Named volumes are kept unless --volumes is given. With --swarm: every managed \
            Swarm service, then the overlay network.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Also remove named volumes heph created.
    @Flag(name: .long, help: "Also remove the named volumes heph created (their data is lost).")
    var volumes = false

    func validate() throws {
        if volumes && global.swarm {
            throw ValidationError("--volumes cannot be used with --swarm: a service's named volumes live on each node it ran on; remove them there (docker volume rm)")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let report = try await global.withOrchestrator { try await $0.teardownAll(removingVolumes: volumes) }
            var removed: [String] = []
            if !report.containers.isEmpty {
                let noun = global.swarm ? "service" : "container"
                removed.append("\(report.containers.count) \(noun)\(report.containers.count == 1 ? "" : "s") (\(report.containers.joined(separator: ", ")))")
            }
            removed += report.networks.map { "network \($0)" }
            removed += report.volumes.map { "volume \($0)" }
            print(removed.isEmpty ? "nothing to remove" : "removed " + removed.joined(separator: ", "))
        }
    }
}
