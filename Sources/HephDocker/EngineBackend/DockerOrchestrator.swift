import Foundation
import Logging
import Synchronization

/// The ``Orchestrator`` over a real Docker engine.
///
/// It keeps no record of what it created: ownership lives in the engine as the
/// `io.heph.managed=true` and `io.heph.project=P` labels, so a fresh process (after a
/// crash, say) sees and tears down everything an earlier one made in its project, and never
/// touches anything else.
public final class DockerOrchestrator: Orchestrator {
    /// The engine connection.
    public let client: EngineClient
    public let clock: any HephClock
    /// The project's lease, state and registry, in the engine.
    public let coordination: any Coordination
    /// The projects it sees; what it creates takes ``project``'s names.
    public let scope: ProjectScope
    let logger: Logger
    /// Whether this process has seen the managed default network exist, to spare a lookup
    /// per container; cleared whenever this process removes networks.
    let defaultNetworkSeen = Mutex(false)
    /// The network creation in flight, which concurrent callers join: the engine's
    /// `CheckDuplicate` is not atomic, and parallel creates make networks of the same name.
    let networkCreation = Mutex<Task<String, any Error>?>(nil)
    /// Hears the Lua name of each call that changes something, as it is made
    /// (``RunContext/onAction``).
    let onAction: @Sendable (String) -> Void
    /// The containers readiness probes run from where heph cannot reach an address itself.
    let probeContainers = ProbeContainerPool()
    /// On Podman: the healthchecks heph runs itself (docs/engines.md).
    let podmanHealth = PodmanHealthchecks()

    /// An orchestrator over `client` (the spec's `NewDockerOrchestrator`), waiting by
    /// `clock`, acting on the containers of `scope` (the default project unless told);
    /// `onAction` hears each call that changes something.
    public init(client: EngineClient, clock: any HephClock = SystemClock(), scope: ProjectScope = .project(.default),
                onAction: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.onAction = onAction
        coordination = EngineCoordination(client: client, project: scope.project)
        self.clock = clock
        self.scope = scope
        self.logger = client.logger
    }

    /// The project whose names new objects take.
    public var project: Project { scope.project }

    /// Pings the engine (``EngineClient/ping()``).
    public func ping() async throws {
        try await client.ping()
    }

    /// Closes the engine connection (``EngineClient/close()``).
    public func close() async throws {
        podmanHealth.close()
        await probeContainers.releaseAll()
        await coordination.close()
        try await client.close()
    }

    /// Runs `body` with an orchestrator for `endpoint` and closes the connection afterwards,
    /// whether `body` returns or throws. `direct`: `body` makes its calls one after another
    /// (``RunContext/directCalls``).
    public static func withOrchestrator<T>(
        endpoint: EngineEndpoint,
        logger: Logger = Logger(label: "heph.docker"),
        direct: Bool = false,
        _ body: (DockerOrchestrator) async throws -> T
    ) async throws -> T {
        let orchestrator = DockerOrchestrator(client: try EngineClient(endpoint: endpoint, logger: logger, direct: direct))
        return try await orchestrator.closing { try await body(orchestrator) }
    }

    /// The `filters` query value selecting the managed resources of ``scope`` (plus `extra`
    /// filters); ``owns(_:)`` checks each answer, as the engine cannot select the absence of
    /// a label.
    func managedFilter(_ extra: [String: [String]] = [:]) -> String {
        let filters = extra.merging(["label": scope.labelFilters]) { mine, _ in mine }
        let data = (try? JSONSerialization.data(withJSONObject: filters, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether an object with these labels is heph's and in ``scope``.
    func owns(_ labels: [String: String]?) -> Bool {
        labels?[managedLabel] == "true" && scope.includes(labels)
    }

    /// The engine's name a reference to a container or service stands for: the project's
    /// engine name of a short or script name (`web`, `heph-web`), or the project's own
    /// engine name as given (`heph_P_web`, as `heph ps` shows it).
    func engineName(of reference: String) -> String {
        let project = project
        if !project.isDefault, reference.hasPrefix(project.enginePrefix) { return reference }
        return project.engineName(reference)
    }

    /// Inspects the managed container `reference` names: short name, script name, the
    /// project's engine name, or id (prefix of ≥ 12 hex digits).
    ///
    /// - Throws: ``DockerError/Code/notFound`` when no container of the project matches, or
    ///   when the one that matches lacks the managed label (heph leaves such containers alone).
    func managedContainer(_ reference: String) async throws -> EngineContainerInspect {
        let name = engineName(of: reference)
        let keys = [name] + (ContainerName.isIDPrefix(reference) ? [reference] : [])
        guard let container: EngineContainerInspect = try await inspectManaged("container", reference, keys: keys, path: { "/containers/\($0)/json" }, labels: \.Config.Labels, name: \.name) else {
            throw notFound("container", reference, engineName: name)
        }
        return container
    }

    /// "no such container: heph-web" in the default project (as before projects); in
    /// another, or for another project's engine name, the project and the reference as
    /// given: "no such container in project staging: heph_review_web".
    func notFound(_ kind: String, _ reference: String, engineName: String) -> DockerError {
        if scope == .project(.default), !reference.hasPrefix(ContainerName.projectPrefix) {
            return DockerError(.notFound, "no such \(kind): \(ContainerName.isIDPrefix(reference) ? reference : engineName)")
        }
        return DockerError(.notFound, "no such \(kind) in \(scope): \(reference)")
    }

    /// The managed object of ``scope`` of this `kind` (`container`, `service`) at the first
    /// of `keys` the engine knows; nil when it knows none.
    ///
    /// - Throws: ``DockerError/Code/notFound`` when `reference` cannot name one (only names
    ///   and ids go into a URL path), when the one found lacks the managed label, or when it
    ///   is another project's (to which this one is blind).
    func inspectManaged<Object: Decodable>(
        _ kind: String, _ reference: String, keys: [String], path: (String) -> String, query: [(String, String)] = [],
        labels: (Object) -> [String: String]?, name: (Object) -> String
    ) async throws -> Object? {
        guard ContainerName.isWellFormed(reference) else {
            throw DockerError(.notFound, reference.isEmpty ? "no such \(kind): the name is empty" : "no such \(kind): \(reference.debugDescription)")
        }
        for key in keys {
            let response = try await client.request(.GET, path(key), query: query)
            if response.status == .notFound { continue }
            guard response.succeeded else { throw response.failure("cannot inspect \(kind == "container" ? "" : kind + " ")\(key)") }
            let object = try response.decode(Object.self)
            guard labels(object)?[managedLabel] == "true" else {
                throw DockerError(.notFound, "\(kind == "container" ? "" : kind + " ")\(name(object)) is not managed by heph (it has no \(managedLabel)=true label), so heph leaves it alone")
            }
            guard scope.includes(labels(object)) else { throw notFound(kind, reference, engineName: key) }
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
        let filter = managedFilter(ids.map { ["id": $0.sorted()] } ?? [:])
        let response = try await client.request(.GET, "/containers/json", query: [("all", "1"), ("filters", filter)])
        guard response.succeeded else { throw response.failure("cannot list containers") }
        // The engine filtered by label already; checking again keeps the default project
        // apart (the engine cannot select a missing label) and keeps the promise even against
        // an engine that ignored the filter.
        let containers = try response.decode([EngineContainerSummary].self).filter { owns($0.Labels) }
        // Podman's list says nothing of health: heph's own checks do.
        guard try await client.kind() == .podman else { return (containers, response.engineDate) }
        return (await podmanHealth.annotate(containers, orchestrator: self), response.engineDate)
    }
}
