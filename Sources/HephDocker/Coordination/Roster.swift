import Foundation

/// One coordination object as `heph ps --all` lists it.
public struct RoleObjectInfo: Sendable, Hashable {
    public var id: String
    /// The engine's name: `heph-.lease.P`, `heph-.state.P.HASH.VERSION`, `heph-.watcher.P.INSTANCE`.
    public var name: String
    public var role: RoleObject
    public var project: String
    /// The engine's state of a container: `running` (a lease, a registry entry); `volume`
    /// for a state volume (one per key).
    public var state: String
    public var image: String
    /// The process behind a lease or a registry entry.
    public var identity: WatcherIdentity?
}

/// One running watcher, as `heph status` shows it.
public struct WatcherEntry: Sendable, Hashable, Encodable {
    public var project: String
    public var instance: String
    public var host: String
    public var pid: Int
    public var since: String
    /// Whether it holds the project's lease.
    public var leading: Bool
    /// The keys of the project's `heph.state` (as text; bytes that are not UTF-8 replaced).
    public var stateKeys: [String]

    enum CodingKeys: String, CodingKey {
        case project, instance, host, pid, since, leading
        case stateKeys = "state_keys"
    }
}

extension RoleObject {
    /// The engine's `filters` query value selecting objects that carry all of `labels`
    /// (`key` or `key=value` each).
    static func filter(labels: [String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: ["label": labels], options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension EngineClient {
    /// The coordination objects of `project` (every project's when nil): the lease and
    /// registry containers, and the state's volumes.
    public func roleObjects(project: Project?) async throws -> [RoleObjectInfo] {
        var labels = [roleLabel]
        if let project { labels.append("\(projectLabel)=\(project.name)") }
        let filters = RoleObject.filter(labels: labels)
        let (containers, volumes) = try await EngineLane.asControl {
            (try await request(.GET, "/containers/json", query: [("all", "1"), ("filters", filters)]), try await request(.GET, "/volumes", query: [("filters", filters)]))
        }
        guard containers.succeeded else { throw containers.failure("cannot list heph's coordination objects") }
        guard volumes.succeeded else { throw volumes.failure("cannot list heph's state volumes") }
        let held = try containers.decode([EngineContainerSummary].self).compactMap { summary -> RoleObjectInfo? in
            guard let role = summary.Labels?[roleLabel].flatMap(RoleObject.init(rawValue:)), project.map({ Project.named(by: summary.Labels) == $0.name }) ?? true else { return nil }
            return RoleObjectInfo(id: summary.Id, name: summary.Names.first.map { String($0.drop { $0 == "/" }) } ?? summary.Id,
                                  role: role, project: Project.named(by: summary.Labels), state: summary.State, image: summary.Image,
                                  identity: WatcherIdentity(labels: summary.Labels))
        }
        let state = (try volumes.decode(EngineVolumeList.self).Volumes ?? []).compactMap { volume -> RoleObjectInfo? in
            guard volume.Labels?[roleLabel] == RoleObject.state.rawValue, project.map({ Project.named(by: volume.Labels) == $0.name }) ?? true else { return nil }
            return RoleObjectInfo(id: volume.Name, name: volume.Name, role: .state, project: Project.named(by: volume.Labels), state: "volume", image: "", identity: nil)
        }
        return (held + state).sorted { ($0.project, $0.role.rawValue, $0.name) < ($1.project, $1.role.rawValue, $1.name) }
    }

    /// The running watchers of `project` (every project's when nil), with whether each leads
    /// and its project's state keys.
    public func watchers(project: Project?) async throws -> [WatcherEntry] {
        let objects = try await roleObjects(project: project)
        let leaders = Set(objects.filter { $0.role == .lease && $0.state == "running" }.compactMap { $0.identity.map { "\($0.instance)" } })
        var keys: [String: [String]] = [:]
        for project in Set(objects.filter { $0.role == .state }.map(\.project)) {
            keys[project] = try await EngineStateStore(client: self, project: Project(unchecked: project)).keys().map { String(decoding: $0, as: UTF8.self) }
        }
        return objects.filter { $0.role == .watcher && $0.state == "running" }.compactMap { object in
            guard let identity = object.identity else { return nil }
            return WatcherEntry(project: object.project, instance: identity.instance, host: identity.host, pid: identity.pid,
                                since: identity.since, leading: leaders.contains(identity.instance), stateKeys: keys[object.project] ?? [])
        }.sorted { ($0.project, $0.leading ? 0 : 1, $0.since, $0.instance) < ($1.project, $1.leading ? 0 : 1, $1.since, $1.instance) }
    }

    /// Removes the state volumes of `project` (every project's when nil); returns the
    /// projects whose state went.
    func removeStates(project: Project?) async throws -> [String] {
        var removed: Set<String> = []
        for state in try await roleObjects(project: project) where state.role == .state {
            let response = try await request(.DELETE, "/volumes/\(state.name)")
            guard response.succeeded || response.status == .notFound else { throw response.failure("cannot remove the state of project \(state.project)") }
            removed.insert(state.project)
        }
        return removed.sorted()
    }
}
