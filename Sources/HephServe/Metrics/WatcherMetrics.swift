import Prometheus
import Synchronization

/// What `heph run --metrics` exposes (§3 of the operations spec), in Prometheus's text
/// format: transitions, hook runs and their errors and durations, the orchestrator calls
/// made, each container's current status, and whether the event stream is up. Every family
/// is listed with HELP and TYPE from the first scrape, before it has a series.
public final class WatcherMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// Each family, for the HELP and TYPE lines of those without a series yet.
    private static var families: [(descriptor: MetricNameDescriptor, type: String)] {
        [
        (transitions, "counter"), (hookRuns, "counter"), (hookErrors, "counter"), (hookDuration, "histogram"),
        (actions, "counter"), (containerStatus, "gauge"), (engineConnected, "gauge"),
        ]
    }
    static var transitions: MetricNameDescriptor { descriptor("transitions", "total", "Container transitions heph saw, by project, container and new status.") }
    static var hookRuns: MetricNameDescriptor { descriptor("hook_runs", "total", "Hook runs, by the event the hook is registered on.") }
    static var hookErrors: MetricNameDescriptor { descriptor("hook_errors", "total", "Hook runs that raised an error, by event.") }
    static var hookDuration: MetricNameDescriptor { descriptor("hook_duration", "seconds", "How long hook runs took, waits included, by event.") }
    static var actions: MetricNameDescriptor { descriptor("actions", "total", "Orchestrator calls that change something (the script's, heph.up's and plugins'), by operation.") }
    static var containerStatus: MetricNameDescriptor { descriptor("container_status", "", "1 for each container's current status (the others 0), by project, container and status.") }
    static var engineConnected: MetricNameDescriptor { descriptor("engine_connected", "", "1 while heph follows the engine's event stream, else 0.") }

    /// Hook durations: from a quick hook (milliseconds) to one that waits out a backoff.
    static let durationBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]

    private static func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "heph", metricName: name, unitName: unit, helpText: help)
    }

    /// The statuses of each container with a series in ``containerStatus``.
    private let statuses = Mutex<[ContainerKey: Set<String>]>([:])
    private let connected: Gauge

    private struct ContainerKey: Hashable {
        var project: String
        var container: String
    }

    /// Metrics with nothing counted yet; not connected.
    public init() {
        connected = registry.makeGauge(descriptor: Self.engineConnected)
        connected.set(to: 0)
    }

    /// `container` of `project` changed to `status` (`removed` when it went).
    public func transition(project: String, container: String, status: String) {
        registry.makeCounter(descriptor: Self.transitions, labels: [("project", project), ("container", container), ("status", status)]).increment()
        let key = ContainerKey(project: project, container: container)
        let known = statuses.withLock { statuses in
            defer { if status != "removed" { statuses[key, default: []].insert(status) } }
            return statuses[key, default: []]
        }
        for other in known where other != status {
            gauge(key, other).set(to: 0)
        }
        if status != "removed" { gauge(key, status).set(to: 1) }
    }

    /// `container` of `project` is `status` as heph begins to watch: its status series
    /// starts there (no transition is counted), unless a transition made it already.
    public func seed(project: String, container: String, status: String) {
        let key = ContainerKey(project: project, container: container)
        let fresh = statuses.withLock { statuses in
            guard statuses[key] == nil else { return false }
            statuses[key] = [status]
            return true
        }
        if fresh { gauge(key, status).set(to: 1) }
    }

    private func gauge(_ key: ContainerKey, _ status: String) -> Gauge {
        registry.makeGauge(descriptor: Self.containerStatus, labels: [("project", key.project), ("container", key.container), ("status", status)])
    }

    /// A hook registered on `event` ran for `seconds`, and failed or not.
    public func hookRan(event: String, seconds: Double, failed: Bool) {
        let labels = [("event", event)]
        registry.makeCounter(descriptor: Self.hookRuns, labels: labels).increment()
        if failed { registry.makeCounter(descriptor: Self.hookErrors, labels: labels).increment() }
        registry.makeValueHistogram(descriptor: Self.hookDuration, labels: labels, buckets: Self.durationBuckets).record(seconds)
    }

    /// An orchestrator call `op` (`restart_container`, …) was made.
    public func action(_ op: String) {
        registry.makeCounter(descriptor: Self.actions, labels: [("op", op)]).increment()
    }

    /// The event stream is up (or not).
    public func engineConnected(_ up: Bool) {
        connected.set(to: up ? 1 : 0)
    }

    /// The exposition: every family, HELP and TYPE first, with its series.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        for (descriptor, type) in Self.families where !text.contains("# TYPE \(descriptor.name) ") {
            buffer += Array("# HELP \(descriptor.name) \(descriptor.helpText ?? "")\n# TYPE \(descriptor.name) \(type)\n".utf8)
        }
        return buffer
    }
}
