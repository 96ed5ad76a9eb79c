import ArgumentParser
import Foundation
import HephDocker

/// `heph ps`: the managed containers of a project, or of every project.
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the containers heph manages in a project: name, status, image, ports.",
        discussion: """
            Lists the project's containers (-p, else HEPH_PROJECT, else default) by the \
            engine's names: heph-web in the default project, heph_P_web in project P. With \
            --all, every project's, with a PROJECT column. Status is one of created, running, \
            healthy, unhealthy, stopped, error; error shows the engine's state beside it \
            (error (paused), error (restarting), error (removing), error (dead)), and --json \
            has that state in "state" for every container. Ports read HOST→CONTAINER. Containers without \
            the io.heph.managed=true label are never listed, except that --all also lists \
            heph's own coordination objects (lease, state, watcher registry: docs/ha.md) \
            with their role in a ROLE column ("role" with --json).
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Every project's containers.
    @Flag(name: .long, help: "List the containers of every project, with a PROJECT column (a \"project\" field with --json), and heph's lease, state and registry objects with their ROLE.")
    var all = false

    /// Print JSON instead of a table.
    @Flag(name: .long, help: "Print a JSON array of {id, name, image, status, state, ports} instead of a table (name is the engine's; with --all, each entry has a project too).")
    var json = false

    func validate() throws {
        if all, global.project.project != nil {
            throw ValidationError("--all and --project cannot be used together: --all lists every project")
        }
    }

    func run() async throws {
        try await PsListing(global: global.settings, all: all, json: json).run()
    }
}

/// A `heph ps`, as plain values: what ``PsCommand`` parses, or what ``FastPath`` reads from
/// `heph ps [--all] [--json]`.
struct PsListing {
    var global = GlobalSettings()
    /// `--all`: every project's containers, and the coordination objects.
    var all = false
    /// `--json`: a JSON array instead of a table.
    var json = false

    /// Lists; an engine failure is one line on stderr and its exit code.
    func run() async throws {
        try await reportingFailures {
            let (containers, roleObjects) = try await global.withOrchestrator(scope: all ? .all : nil, direct: true) { orchestrator in
                (try await orchestrator.listContainers().sorted { ($0.project, $0.dockerName) < ($1.project, $1.dockerName) },
                 all ? try await orchestrator.coordination.roleObjects(allProjects: true) : [])
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(containers.map { Entry($0, withProject: all) } + roleObjects.map(Entry.init)), as: UTF8.self))
                return
            }
            var header = ["NAME", "STATUS", "IMAGE", "PORTS"]
            var rows = containers.map { container in
                [container.dockerName, Self.statusText(container), container.image,
                 container.ports.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value)" }.joined(separator: ", ")]
            }
            var statusColumn = 1
            if global.swarm {
                header.insert("REPLICAS", at: 2)
                for index in rows.indices {
                    let replicas = containers[index].replicas
                    rows[index].insert(replicas.map { "\($0.running)/\($0.desired)" } ?? "", at: 2)
                }
            }
            if all {
                header.insert("PROJECT", at: 0)
                for index in rows.indices { rows[index].insert(containers[index].project, at: 0) }
                statusColumn += 1
                header.append("ROLE")
                for index in rows.indices { rows[index].append("") }
                rows += roleObjects.map { [$0.project, $0.name, $0.state] + (global.swarm ? [""] : []) + [$0.image, "", $0.role.rawValue] }
            }
            print(TextTable(header: header, rows: rows, style: [statusColumn: TerminalStyle(for: STDOUT_FILENO).status]).rendered, terminator: "")
        }
    }

    /// The status, with the engine's state beside `error` (what `error` alone hides: paused,
    /// restarting, removing, dead): `error (paused)`.
    static func statusText(_ container: ContainerInfo) -> String {
        container.status == .error ? "error (\(container.state.rawValue))" : container.status.rawValue
    }

    /// One container in `--json`: the engine's name, and the project with `--all`.
    private struct Entry: Encodable {
        var id: String
        var name: String
        var image: String
        var status: String
        /// The engine's own state (`paused`, `restarting`, …); for a role object, nil.
        var state: String?
        var ports: [String: String]
        var replicas: ReplicaCount?
        var project: String?
        /// A coordination object's role (`lease`, `state`, `watcher`); nil for a service.
        var role: String?

        init(_ object: RoleObjectInfo) {
            id = object.id
            name = object.name
            image = object.image
            // The engine's word: running (a lease, a registry entry), volume (a state key).
            status = object.state
            ports = [:]
            project = object.project
            role = object.role.rawValue
        }

        init(_ info: ContainerInfo, withProject: Bool) {
            id = info.id
            name = info.dockerName
            image = info.image
            status = info.status.rawValue
            state = info.state.rawValue
            ports = info.ports
            replicas = info.replicas
            project = withProject ? info.project : nil
        }
    }
}
