import Foundation
import Logging
import Synchronization

/// The ``Orchestrator`` over a Docker Swarm: each config is a Swarm service, run as
/// ``ContainerConfig/replicas`` tasks spread over the swarm's nodes, on an attachable
/// overlay network (the project's: ``Project/networkEngineName``).
///
/// A "container" in the protocol's words is a service here: methods take its short name,
/// full name or id, `listContainers` reports one entry per service (its ``ContainerInfo/replicas``
/// and the worst status of its tasks), and `createContainer` makes a service that runs no
/// task until `startContainer` (a stop scales it to 0). Swarm owns restarts: it replaces a
/// task that ends or fails its healthcheck, by the config's restart policy.
///
/// A task's status: `created` until it starts; `running` while it starts (Swarm holds a
/// task with a healthcheck in `starting` until its first healthy probe); then `healthy` (or
/// `running` without a healthcheck); `stopped` once it ended; `error` when Swarm rejected
/// it. A service's status is the worst of the tasks it wants (error, stopped, unhealthy,
/// created, running, healthy, in that order), `created` while it has fewer than it wants,
/// and `stopped` (or `created`, never started) at 0 replicas.
///
/// The engine it talks to must be a swarm manager. What acts on one task's container
/// (`kill`, `pause`, `unpause`, `exec`) reaches only tasks on that manager's node.
public final class SwarmOrchestrator: Orchestrator {
    /// The engine connection, also used for the task containers on the manager's own node.
    public let manager: DockerOrchestrator
    var client: EngineClient { manager.client }
    var logger: Logger { manager.logger }
    /// The manager's node id, once checked.
    private let managerNode = Mutex<String?>(nil)
    /// Node hostnames by id, learnt as tasks name new nodes.
    private let nodeNames = Mutex<[String: String]>([:])
    /// The endpoint mode of a service whose config names none.
    public let endpointMode: String

    /// An orchestrator over the swarm whose manager `engine` talks to. Services get
    /// `endpointMode` (`vip` or `dnsrr`) unless their config says otherwise: `dnsrr` where the
    /// kernel has no IPVS, which the virtual addresses need.
    public init(manager: DockerOrchestrator, endpointMode: String = "vip") {
        self.manager = manager
        self.endpointMode = endpointMode
    }

    public var clock: any HephClock { manager.clock }
    /// The project's lease, state and registry: in the manager's engine.
    public var coordination: any Coordination { manager.coordination }

    public func ping() async throws {
        try await manager.ping()
    }

    public func close() async throws {
        try await manager.close()
    }

    /// The id of the node heph talks to, after checking once that it is a swarm manager.
    ///
    /// - Throws: ``DockerError/Code/conflict`` saying how to make it one.
    func managerNodeID() async throws -> String {
        if let id = managerNode.withLock({ $0 }) { return id }
        let response = try await client.request(.GET, "/info")
        guard response.succeeded else { throw response.failure("cannot ask the engine about its swarm") }
        let swarm = try response.decode(EngineSwarmInfo.self).Swarm
        let endpoint = client.endpoint.description
        guard let swarm, swarm.LocalNodeState == "active" else {
            throw DockerError(.conflict, "the engine at \(endpoint) is not part of a swarm (its state is \(swarm?.LocalNodeState ?? "unknown")); make one with `docker swarm init --advertise-addr ADDRESS`", remedy: .useBackend(.engine))
        }
        guard swarm.ControlAvailable == true, let id = swarm.NodeID else {
            throw DockerError(.conflict, "the engine at \(endpoint) is a swarm worker; heph needs a manager: promote this node with `docker node promote`", remedy: .pointAtManager)
        }
        managerNode.withLock { $0 = id }
        return id
    }

    /// Every managed service, sorted by name.
    func managedServices() async throws -> [EngineService] {
        _ = try await managerNodeID()
        let response = try await client.request(.GET, "/services", query: [("filters", manager.managedFilter())])
        guard response.succeeded else { throw response.failure("cannot list services") }
        return try response.decode([EngineService].self).filter { manager.owns($0.labels) }.sorted { $0.name < $1.name }
    }

    /// The managed service `reference` names: short name, script name, the project's engine
    /// name, or id (prefix of ≥ 12 hex digits, or Swarm's own 25-character ids).
    ///
    /// - Throws: ``DockerError/Code/notFound`` when none of the project matches, or when the
    ///   one that matches lacks the managed label.
    func managedService(_ reference: String) async throws -> EngineService {
        let fullName = manager.engineName(of: reference)
        if ContainerName.isWellFormed(reference) { _ = try await managerNodeID() }
        let keys = [fullName] + (reference == fullName ? [] : [reference])
        guard let service: EngineService = try await manager.inspectManaged("service", reference, keys: keys, path: { "/services/\($0)" }, labels: \.labels, name: \.name) else {
            throw manager.notFound("service", reference, engineName: fullName)
        }
        return service
    }

    /// Every task of the services `serviceIDs` (the engine keeps a few ended ones per slot
    /// as history). The engine's `service` filter fails for a service removed a moment ago
    /// (waiting for a removal asks about exactly those): then every task is listed, and
    /// filtered here.
    func tasks(of serviceIDs: Set<String>) async throws -> [EngineTask] {
        guard !serviceIDs.isEmpty else { return [] }
        let filter = (try? JSONSerialization.data(withJSONObject: ["service": serviceIDs.sorted()])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        var response = try await client.request(.GET, "/tasks", query: [("filters", filter)])
        if response.status == .notFound { response = try await client.request(.GET, "/tasks") }
        guard response.succeeded else { throw response.failure("cannot list tasks") }
        return try response.decode([EngineTask].self).filter { serviceIDs.contains($0.ServiceID) }
    }

    /// Where `task` runs, with its node's hostname (looked up once per node).
    func placement(of task: EngineTask) async -> TaskPlacement {
        let nodeID = task.NodeID ?? ""
        guard !nodeID.isEmpty else { return TaskPlacement(slot: task.Slot ?? 0, node: "", nodeID: "") }
        if let name = nodeNames.withLock({ $0[nodeID] }) {
            return TaskPlacement(slot: task.Slot ?? 0, node: name, nodeID: nodeID)
        }
        var name = nodeID
        if let response = try? await client.request(.GET, "/nodes/\(nodeID)"), response.succeeded,
           let hostname = (try? response.decode(EngineNode.self))?.Description?.Hostname {
            name = hostname
            nodeNames.withLock { $0[nodeID] = hostname }
        }
        return TaskPlacement(slot: task.Slot ?? 0, node: name, nodeID: nodeID)
    }
}
