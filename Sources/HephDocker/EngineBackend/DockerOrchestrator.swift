import Foundation
import Logging
import Synchronization

/// The ``Orchestrator`` over a real Docker engine.
///
/// It keeps no record of what it created: ownership lives in the engine as the
/// `io.heph.managed=true` label, so a fresh process (after a crash, say) sees and tears
/// down everything an earlier one made, and never touches anything else.
public final class DockerOrchestrator: Orchestrator {
    /// The engine connection.
    public let client: EngineClient
    public let clock: any HephClock
    let logger: Logger
    /// Whether this process has seen the managed default network exist, to spare a lookup
    /// per container; cleared whenever this process removes networks.
    let defaultNetworkSeen = Mutex(false)
    /// The network creation in flight, which concurrent callers join: the engine's
    /// `CheckDuplicate` is not atomic, and parallel creates make networks of the same name.
    let networkCreation = Mutex<Task<String, any Error>?>(nil)

    /// An orchestrator over `client` (the spec's `NewDockerOrchestrator`), waiting by `clock`.
    public init(client: EngineClient, clock: any HephClock = SystemClock()) {
        self.client = client
        self.clock = clock
        self.logger = client.logger
    }

    /// Pings the engine (``EngineClient/ping()``).
    public func ping() async throws {
        try await client.ping()
    }

    /// Closes the engine connection (``EngineClient/close()``).
    public func close() async throws {
        try await client.close()
    }

    /// Runs `body` with an orchestrator for `endpoint` and closes the connection afterwards,
    /// whether `body` returns or throws.
    public static func withOrchestrator<T>(
        endpoint: EngineEndpoint,
        logger: Logger = Logger(label: "heph.docker"),
        _ body: (DockerOrchestrator) async throws -> T
    ) async throws -> T {
        let orchestrator = DockerOrchestrator(client: try EngineClient(endpoint: endpoint, logger: logger))
        return try await orchestrator.closing { try await body(orchestrator) }
    }

    /// The `filters` query value selecting managed resources (plus `extra` filters).
    static func managedFilter(_ extra: [String: [String]] = [:]) -> String {
        let filters = extra.merging(["label": ["\(managedLabel)=true"]]) { mine, _ in mine }
        let data = (try? JSONSerialization.data(withJSONObject: filters, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Inspects the managed container `reference` names: short name, full name, or id
    /// (prefix of ≥ 12 hex digits).
    ///
    /// - Throws: ``DockerError/Code/notFound`` when no container matches, or when the one
    ///   that matches lacks the managed label (heph leaves such containers alone).
    func managedContainer(_ reference: String) async throws -> EngineContainerInspect {
        let keys = [ContainerName.full(reference)] + (ContainerName.isIDPrefix(reference) ? [reference] : [])
        guard let container: EngineContainerInspect = try await inspectManaged("container", reference, keys: keys, path: { "/containers/\($0)/json" }, isManaged: \.isManaged, name: \.name) else {
            throw DockerError(.notFound, "no such container: \(ContainerName.isIDPrefix(reference) ? reference : ContainerName.full(reference))")
        }
        return container
    }

    /// The managed object of this `kind` (`container`, `service`) at the first of `keys`
    /// the engine knows; nil when it knows none.
    ///
    /// - Throws: ``DockerError/Code/notFound`` when `reference` cannot name one (only names
    ///   and ids go into a URL path), or when the one found lacks the managed label.
    func inspectManaged<Object: Decodable>(
        _ kind: String, _ reference: String, keys: [String], path: (String) -> String, query: [(String, String)] = [],
        isManaged: (Object) -> Bool, name: (Object) -> String
    ) async throws -> Object? {
        guard ContainerName.isWellFormed(reference) else {
            throw DockerError(.notFound, reference.isEmpty ? "no such \(kind): the name is empty" : "no such \(kind): \(reference.debugDescription)")
        }
        for key in keys {
            let response = try await client.request(.GET, path(key), query: query)
            if response.status == .notFound { continue }
            guard response.succeeded else { throw response.failure("cannot inspect \(kind == "container" ? "" : kind + " ")\(key)") }
            let object = try response.decode(Object.self)
            guard isManaged(object) else {
                throw DockerError(.notFound, "\(kind == "container" ? "" : kind + " ")\(name(object)) is not managed by heph (it has no \(managedLabel)=true label), so heph leaves it alone")
            }
            return object
        }
        return nil
    }

    /// Every managed container as the list reports it (one engine call).
    func managedSummaries() async throws -> [EngineContainerSummary] {
        try await managedSummariesDated().containers
    }

    /// The managed containers (only those of `ids` when given), and the engine's time as
    /// its answer's `Date` header gives it (Unix seconds, to the second).
    func managedSummariesDated(ids: Set<String>? = nil) async throws -> (containers: [EngineContainerSummary], engineDate: Double?) {
        let filter = Self.managedFilter(ids.map { ["id": $0.sorted()] } ?? [:])
        let response = try await client.request(.GET, "/containers/json", query: [("all", "1"), ("filters", filter)])
        guard response.succeeded else { throw response.failure("cannot list containers") }
        // The engine filtered by label already; checking again costs nothing and keeps the
        // promise even against an engine that ignored the filter.
        let containers = try response.decode([EngineContainerSummary].self).filter(\.isManaged)
        return (containers, response.engineDate)
    }
}
