import ArgumentParser
import Foundation
import HephDocker

/// `heph status`: the watchers of every project (or one), found through the engine.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List the running watchers (heph run) of every project, or of one with -p: which leads, and the state's keys.",
        discussion: """
            Every heph run that keeps running registers itself in the engine, whatever host \
            it runs on: an instance id (random per process), its host, pid, since when it \
            runs, and whether it holds the project's lease (heph run --lead, heph.lead()). \
            KEYS are the project's heph.state keys. A watcher killed disappears within a \
            second; a frozen one within 20 s (docs/ha.md).

            --json prints [{"project", "instance", "host", "pid", "since", "leading", \
            "state_keys"}], one entry per watcher. Exit code 0 even when no watcher runs \
            (the list is then empty).
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Print JSON instead of a table.
    @Flag(name: .long, help: "Print a JSON array of {project, instance, host, pid, since, leading, state_keys}.")
    var json = false

    func run() async throws {
        try await reportingFailures {
            let one = global.project.isChosen
            let watchers = try await global.withOrchestrator(scope: one ? nil : .all, direct: true) { try await $0.coordination.watchers(allProjects: !one) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(watchers), as: UTF8.self))
                return
            }
            guard !watchers.isEmpty else {
                print(one ? "no watcher of project \(global.project.scope.project.name) runs" : "no watcher runs")
                return
            }
            let rows = watchers.map { watcher in
                [watcher.project, watcher.instance, watcher.host, String(watcher.pid), watcher.since, watcher.leading ? "yes" : "no",
                 watcher.stateKeys.joined(separator: ", ")]
            }
            print(TextTable(header: ["PROJECT", "INSTANCE", "HOST", "PID", "SINCE", "LEADING", "STATE KEYS"], rows: rows).rendered, terminator: "")
        }
    }
}
