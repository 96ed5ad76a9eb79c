import Crypto
import Foundation
import Synchronization

/// A project's `heph.state`: keys and values as bytes (the Lua side encodes values), and
/// the statuses the leading watcher last saw.
public protocol ProjectStateStore: Sendable {
    /// The value of `key`; nil when it has none.
    func get(_ key: [UInt8]) async throws -> [UInt8]?
    /// Sets `key` (nil deletes it); returns once the value is durable. `order` is when the
    /// script asked (``StateWriteOrder/next()``, taken on the Lua thread): a write that was
    /// asked for before one already applied to the key is superseded, so the key ends as
    /// the last call set it whatever order the engine answers in.
    func set(_ key: [UInt8], _ value: [UInt8]?, order: UInt64) async throws
    /// Every key that has a value, sorted.
    func keys() async throws -> [[UInt8]]
    /// What the leader last saw of each container (``StatusJournal``); nil when nothing.
    func loadStatuses() async throws -> [UInt8]?
    /// Keeps what the leader saw.
    func saveStatuses(_ bytes: [UInt8]) async throws
}

/// The order in which scripts asked for `heph.state` writes, across the process.
public enum StateWriteOrder {
    private static let counter = Atomic<UInt64>(0)

    /// The next number: larger than every one handed out before.
    public static func next() -> UInt64 {
        counter.add(1, ordering: .relaxed).newValue
    }
}

/// `heph test`'s and `heph check`'s state: in memory, gone with the process.
public final class MemoryStateStore: ProjectStateStore {
    private let values = Mutex<(keys: [[UInt8]: [UInt8]], applied: [[UInt8]: UInt64], statuses: [UInt8]?)>(([:], [:], nil))

    /// An empty store.
    public init() {}

    public func get(_ key: [UInt8]) async throws -> [UInt8]? { values.withLock { $0.keys[key] } }
    public func set(_ key: [UInt8], _ value: [UInt8]?, order: UInt64) async throws {
        values.withLock { values in
            guard order > values.applied[key, default: 0] else { return }
            values.applied[key] = order
            values.keys[key] = value
        }
    }
    public func keys() async throws -> [[UInt8]] { values.withLock { $0.keys.keys.sorted { $0.lexicographicallyPrecedes($1) } } }
    public func loadStatuses() async throws -> [UInt8]? { values.withLock { $0.statuses } }
    public func saveStatuses(_ bytes: [UInt8]) async throws { values.withLock { $0.statuses = bytes } }
}

/// The state kept in the engine: one volume per key, labelled `io.heph.role=state`, whose
/// labels hold the key and its value (base64). A volume is created and removed in about a
/// millisecond and never mounted; the archive API, which mounts a container's layers on
/// every call, took 45 ms a call here and seconds under load.
///
/// A write creates a new version of the key (`heph-.state.P.HASH.VERSION`) and then removes
/// every other version, so a key has one volume but for a moment, or after a crash between
/// the two steps: a read then takes the highest version. Deleting a key removes its
/// versions. The engine has the volume when the create returns, so a heph killed right
/// after loses nothing.
public final class EngineStateStore: ProjectStateStore {
    /// The label naming which key a volume holds (40 hex digits of the key's SHA-256, or
    /// `statuses` for the leader's journal).
    static let keyLabel = "io.heph.state-key"
    /// The key itself, base64.
    static let keyTextLabel = "io.heph.key"
    /// The value, base64.
    static let valueLabel = "io.heph.value"
    /// The version: a write's own order, larger than every earlier one of this process.
    static let versionLabel = "io.heph.version"
    static let statusesKey = "statuses"

    private let client: EngineClient
    private let project: Project
    /// One write at a time, so each key's last write is the last asked for.
    private let writes = SerialGate()
    /// The order of the last write applied to each key.
    private let applied = Mutex<[[UInt8]: UInt64]>([:])

    /// The state of `project` on the engine `client` talks to.
    public init(client: EngineClient, project: Project) {
        self.client = client
        self.project = project
    }

    public func get(_ key: [UInt8]) async throws -> [UInt8]? {
        try await latest(Self.hash(key)).flatMap { Self.decode($0.Labels?[Self.valueLabel]) }
    }

    public func set(_ key: [UInt8], _ value: [UInt8]?, order: UInt64) async throws {
        try await writes.run {
            guard order > applied.withLock({ $0[key, default: 0] }) else { return }  // superseded
            try await write(Self.hash(key), key: key, value: value)
            applied.withLock { $0[key] = order }
        }
    }

    public func keys() async throws -> [[UInt8]] {
        let keys = try await versions(nil).filter { $0.Labels?[Self.keyLabel] != Self.statusesKey }.compactMap { Self.decode($0.Labels?[Self.keyTextLabel]) }
        return Set(keys).sorted { $0.lexicographicallyPrecedes($1) }
    }

    public func loadStatuses() async throws -> [UInt8]? {
        try await latest(Self.statusesKey).flatMap { Self.decode($0.Labels?[Self.valueLabel]) }
    }

    public func saveStatuses(_ bytes: [UInt8]) async throws {
        try await write(Self.statusesKey, key: Array(Self.statusesKey.utf8), value: bytes)
    }

    // MARK: Volumes

    /// Creates the new version of `hash` (unless deleting), then removes the others.
    private func write(_ hash: String, key: [UInt8], value: [UInt8]?) async throws {
        try await EngineLane.asControl {
            let existing = try await versions(hash)
            var mine: String?
            if let value {
                // Sortable: the version of the writer's clock, then a random tail; the older
                // versions go right after, so the order only matters after a crash.
                let version = String(format: "%020llu-%08x", UInt64(Date().timeIntervalSince1970 * 1e9), UInt32.random(in: 0...UInt32.max))
                let name = "\(RoleObject.state.engineName(project: project)).\(hash.prefix(12)).\(version)"
                var labels = RoleObject.state.labels(project: project)
                labels[Self.keyLabel] = hash
                labels[Self.keyTextLabel] = Data(key).base64EncodedString()
                labels[Self.valueLabel] = Data(value).base64EncodedString()
                labels[Self.versionLabel] = version
                let created = try await client.request(.POST, "/volumes/create", json: StateVolumeCreate(Name: name, Labels: labels))
                guard created.succeeded else { throw created.failure("cannot write the state of project \(project.name)") }
                mine = name
            }
            for old in existing where old.Name != mine {
                let removed = try await client.request(.DELETE, "/volumes/\(old.Name)")
                guard removed.succeeded || removed.status == .notFound else { throw removed.failure("cannot remove an old value of the state of project \(project.name)") }
            }
        }
    }

    /// The highest version of `hash`.
    private func latest(_ hash: String) async throws -> EngineVolumeList.Volume? {
        try await versions(hash).max { ($0.Labels?[Self.versionLabel] ?? "") < ($1.Labels?[Self.versionLabel] ?? "") }
    }

    /// The state volumes of the project: of one key, or all.
    private func versions(_ hash: String?) async throws -> [EngineVolumeList.Volume] {
        var labels = ["\(roleLabel)=\(RoleObject.state.rawValue)", "\(projectLabel)=\(project.name)"]
        if let hash { labels.append("\(Self.keyLabel)=\(hash)") }
        let filters = RoleObject.filter(labels: labels)
        let response = try await EngineLane.asControl { try await client.request(.GET, "/volumes", query: [("filters", filters)]) }
        guard response.succeeded else { throw response.failure("cannot read the state of project \(project.name)") }
        // The engine filters by label; the project is checked again (older engines ignore
        // a filter they do not know).
        return (try response.decode(EngineVolumeList.self).Volumes ?? []).filter {
            $0.Labels?[roleLabel] == RoleObject.state.rawValue && $0.Labels?[projectLabel] == project.name && (hash == nil || $0.Labels?[Self.keyLabel] == hash)
        }
    }

    static func hash(_ key: [UInt8]) -> String {
        SHA256.hash(data: key).prefix(20).map { String(format: "%02x", $0) }.joined()
    }

    private static func decode(_ base64: String?) -> [UInt8]? {
        base64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }
}

/// `POST /volumes/create` for a state volume.
struct StateVolumeCreate: Encodable, Sendable {
    var Name: String
    var Labels: [String: String]
}
