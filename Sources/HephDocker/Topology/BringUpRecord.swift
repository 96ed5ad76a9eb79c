import Synchronization

/// What one ``Orchestrator/up(_:progress:)`` has done so far to each service, read from its
/// progress steps: for saying, when it fails or is interrupted, what it leaves behind.
///
/// Feed it every step (``note(_:)``) from the `progress` closure; read it at any time,
/// from any thread.
public final class BringUpRecord: Sendable {
    /// One service, as its steps so far tell it.
    private struct Service {
        /// This bring-up made its container (created, or replaced), and it was not removed again.
        var created = false
        /// Its container runs (started, restarted, or found running and left alone).
        var running = false
        /// Its old container is being replaced.
        var replacing = false
        /// The last step, if there was one.
        var last: ServiceProgress.Step?
    }

    private let services: Mutex<[String: Service]>

    /// A record of a bring-up of the services `names` (as the topology writes them).
    public init(services names: [String]) {
        services = Mutex(Dictionary(names.map { ($0, Service()) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Takes in one step.
    public func note(_ progress: ServiceProgress) {
        services.withLock { services in
            var service = services[progress.service] ?? Service()
            switch progress.step {
            case .created:
                service.created = true
                service.running = false
            case .replacing:
                service.created = false
                service.running = false
                service.replacing = true
            case .started:
                service.running = true
                if service.replacing { service.created = true }
                service.replacing = false
            case .restarting, .unchanged, .ready:
                service.running = true
            case .failed:
                // Created and then failed to start: the bring-up removed it again.
                if service.last == .created { service.created = false }
                service.running = false
                service.replacing = false
            }
            service.last = progress.step
            services[progress.service] = service
        }
    }

    /// The services whose container this bring-up made, by name.
    public var created: [String] { names { $0.created } }
    /// The services whose container runs, by name.
    public var running: [String] { names { $0.running } }
    /// The services the bring-up has not reached yet (no step), by name.
    public var untouched: [String] { names { $0.last == nil } }
    /// The services whose old container was being replaced when it stopped: that one may be
    /// stopped or gone, and its new one not made yet.
    public var replacing: [String] { names { $0.replacing } }

    private func names(_ condition: (Service) -> Bool) -> [String] {
        services.withLock { services in services.filter { condition($0.value) }.keys.sorted() }
    }
}
