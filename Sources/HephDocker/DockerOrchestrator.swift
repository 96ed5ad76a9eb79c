import Foundation
import Logging
import Synchronization

/// The ``Orchestrator`` over a real Docker engine.
///
/// It keeps no record of what it created: ownership lives in the engine as the
/// `io.heph.managed=true` label, so a fresh process (after a crash, say) sees and tears
/// down everything an earlier one made, and never touches anything else.
public final class DockerOrchestrator: Orchestrator, DockerAPI {
    /// The engine connection.
    public let client: Client
    let logger: Logger
    /// Whether this process has seen the managed default network exist, to spare a lookup
    /// per container; cleared whenever this process removes networks.
    let defaultNetworkSeen = Mutex(false)
    /// The network creation in flight, which concurrent callers join: the engine's
    /// `CheckDuplicate` is not atomic, and parallel creates make networks of the same name.
    let networkCreation = Mutex<Task<String, any Error>?>(nil)

    /// An orchestrator over `client` (the spec's `NewDockerOrchestrator`).
    public init(client: Client) {
        self.client = client
        self.logger = client.logger
    }

    /// Pings the engine (``Client/ping()``).
    public func ping() async throws {
        try await client.ping()
    }

    /// Closes the engine connection (``Client/close()``).
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
        let client = try Client(endpoint: endpoint, logger: logger)
        let result: T
        do {
            result = try await body(DockerOrchestrator(client: client))
        } catch {
            try? await client.close()
            throw error
        }
        try await client.close()
        return result
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
        // Only names and ids go into the URL path; anything else cannot name a container.
        guard ContainerName.isWellFormed(reference) else {
            throw DockerError(.notFound, reference.isEmpty ? "no such container: the name is empty" : "no such container: \(reference.debugDescription)")
        }
        var lookups = [ContainerName.full(reference)]
        if ContainerName.isIDPrefix(reference) { lookups.append(reference) }
        for key in lookups {
            let response = try await client.request(.GET, "/containers/\(key)/json")
            if response.status == .notFound { continue }
            guard response.succeeded else { throw response.failure("cannot inspect \(key)") }
            let container = try response.decode(EngineContainerInspect.self)
            guard container.isManaged else {
                throw DockerError(.notFound, "\(container.name) is not managed by heph (it has no \(managedLabel)=true label), so heph leaves it alone")
            }
            return container
        }
        throw DockerError(.notFound, "no such container: \(ContainerName.isIDPrefix(reference) ? reference : ContainerName.full(reference))")
    }

    /// Every managed container as the list reports it (one engine call).
    func managedSummaries() async throws -> [EngineContainerSummary] {
        let response = try await client.request(.GET, "/containers/json", query: [("all", "1"), ("filters", Self.managedFilter())])
        guard response.succeeded else { throw response.failure("cannot list containers") }
        // The engine filtered by label already; checking again costs nothing and keeps the
        // promise even against an engine that ignored the filter.
        return try response.decode([EngineContainerSummary].self).filter(\.isManaged)
    }
}
