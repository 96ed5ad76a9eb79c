import ArgumentParser
import Foundation
import HephDocker

/// `heph ps`: the managed containers.
struct PsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the containers heph manages: name, status, image, ports.",
        discussion: """
            Status is one of created, running, healthy, unhealthy, stopped, error. \
            Ports read HOST→CONTAINER. Containers without the io.heph.managed=true label are \
            never listed.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Print JSON (an array of {id, name, image, status, ports}) instead of a table.
    @Flag(name: .long, help: "Print a JSON array of {id, name, image, status, ports} instead of a table.")
    var json = false

    func run() async throws {
        try await reportingFailures {
            let containers = try await global.withOrchestrator { try await $0.listContainers() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(containers), as: UTF8.self))
                return
            }
            var header = ["NAME", "STATUS", "IMAGE", "PORTS"]
            var rows = containers.map { container in
                [container.name, container.status.rawValue, container.image,
                 container.ports.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value)" }.joined(separator: ", ")]
            }
            if global.swarm {
                header.insert("REPLICAS", at: 2)
                for index in rows.indices {
                    let replicas = containers[index].replicas
                    rows[index].insert(replicas.map { "\($0.running)/\($0.desired)" } ?? "", at: 2)
                }
            }
            print(TextTable(header: header, rows: rows, style: [1: TerminalStyle(for: STDOUT_FILENO).status]).rendered, terminator: "")
        }
    }
}
