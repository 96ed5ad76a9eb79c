import ArgumentParser
import Foundation
import HephDocker
import HephLua
import HephServe

/// `heph run --metrics HOST:PORT`: Prometheus metrics of the run (docs/operations.md,
/// "Watching it from Prometheus").
struct MetricsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics (127.0.0.1:9464 for this host alone; 0.0.0.0:9464 for a Prometheus elsewhere). The names are in docs/operations.md.",
        valueName: "host:port"))
    var metrics: String?

    func validate() throws {
        if let metrics { _ = try Self.parse(metrics) }
    }

    /// `HOST:PORT` split, or a ValidationError naming what is wrong.
    static func parse(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("--metrics \(text): give HOST:PORT, for example 127.0.0.1:9464")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--metrics \(text): the host is missing; 127.0.0.1:PORT serves this host alone, 0.0.0.0:PORT every address") }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--metrics \(text): the port must be a number from 0 to 65535")
        }
        return (host, port)
    }

    /// The metrics and their server, listening; nil without --metrics. When the address
    /// cannot be listened on (taken, not this host's), says so on stderr and exits 1.
    static func start(_ metrics: String?) throws -> (WatcherMetrics, MetricsServer)? {
        guard let metrics, let (host, port) = try? Self.parse(metrics) else { return nil }
        let collected = WatcherMetrics()
        do {
            return (collected, try MetricsServer(host: host, port: port, metrics: collected))
        } catch {
            FileHandle.standardError.write(Data("heph: --metrics \(metrics): cannot listen there: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension WatcherMetrics {
    /// Counts what the process's watcher reports: transitions (by their new status) and
    /// whether the event stream is up.
    func observe(_ item: TransitionFeed.Item, project: String) {
        switch item {
        case .transition(let transition, _):
            switch transition.kind {
            case .status(let status): self.transition(project: project, container: transition.name, status: status.rawValue)
            case .removed: self.transition(project: project, container: transition.name, status: "removed")
            case .exited: break  // its `stopped` is counted
            }
        case .notice(.streamConnected), .notice(.streamRestored): engineConnected(true)
        case .notice(.streamLost): engineConnected(false)
        case .notice(.found(let containers)):
            for container in containers { seed(project: project, container: container.name, status: container.status.rawValue) }
        case .notice(.pollFailed): break
        case .stopped: engineConnected(false)
        }
    }
}
