import ArgumentParser
import HephDocker

/// `heph down`: tear down everything heph manages in a project, or in every project.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop and remove every container heph manages in a project, then its network.",
        discussion: """
            Acts on the engine's state, not on any one script: everything of the project \
            (-p, else HEPH_PROJECT, else default) labelled io.heph.managed=true goes, \
            whichever heph process made it; other projects and everything unlabelled are \
            not touched (with no project named, heph down says what it left alone). --all \
            acts on every project. Containers get a graceful stop (10 s) before removal, all \
            in parallel. Named volumes are kept unless --volumes is given (then only the \
            projects' acted on go, and with them each project's heph.state). heph's lease \
            and watcher registry are never touched; a watcher of the project still running \
            is named (it sees its containers go: stop it first for maintenance). With --swarm: every managed Swarm service of the \
            project, then its overlay network.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Every project.
    @Flag(name: .long, help: "Tear down every project's containers and networks (and volumes, with --volumes).")
    var all = false

    /// Also remove named volumes heph created.
    @Flag(name: .long, help: "Also remove the named volumes heph created and the project's heph.state (their data is lost).")
    var volumes = false

    func validate() throws {
        if all, global.project.project != nil {
            throw ValidationError("--all and --project cannot be used together: --all tears down every project")
        }
        if volumes && global.swarm {
            throw ValidationError("--volumes cannot be used with --swarm: a service's named volumes live on each node it ran on; remove them there (docker volume rm)")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let report = try await global.withOrchestrator(scope: all ? .all : nil) { try await $0.teardownAll(removingVolumes: volumes) }
            var removed: [String] = []
            if !report.containers.isEmpty {
                let noun = global.swarm ? "service" : "container"
                removed.append("\(report.containers.count) \(noun)\(report.containers.count == 1 ? "" : "s") (\(report.containers.joined(separator: ", ")))")
            }
            removed += report.networks.map { "network \($0)" }
            removed += report.volumes.map { "volume \($0)" }
            removed += report.states.map { "the heph.state of project \($0)" }
            print(removed.isEmpty ? "nothing to remove" : "removed " + removed.joined(separator: ", "))
            if !all, !global.project.isChosen { try await reportOthers() }
            try await reportWatchers()
        }
    }

    /// Watchers of the projects acted on that still run: they see their containers go, and
    /// an operator doing maintenance should know.
    private func reportWatchers() async throws {
        let watchers = try await global.withOrchestrator(scope: all ? .all : nil) { try await $0.coordination.watchers(allProjects: all) }
        guard !watchers.isEmpty else { return }
        let named = watchers.map { "\($0.project): \($0.host) pid \($0.pid)\($0.leading ? " (leading)" : "")" }
        print("still running: \(watchers.count) watcher\(watchers.count == 1 ? "" : "s") (\(named.joined(separator: ", "))); it sees its containers go and its hooks react: stop it first for maintenance (heph status lists watchers)")
    }

    /// With no project named, the other projects' containers, left alone: an operator used
    /// to `heph down` removing everything learns why some remain.
    private func reportOthers() async throws {
        let others = try await global.withOrchestrator(scope: .all) { try await $0.listContainers() }.filter { $0.project != Project.default.name }
        guard !others.isEmpty else { return }
        let counts = Dictionary(grouping: others, by: \.project).map { "\($0.key) (\($0.value.count))" }.sorted()
        let noun = global.swarm ? "service" : "container"
        print("left alone: \(others.count) \(noun)\(others.count == 1 ? "" : "s") of other projects: \(counts.joined(separator: ", ")); heph down -p NAME removes one project's, heph down --all every project's")
    }
}
