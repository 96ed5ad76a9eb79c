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

/// Limits of keys and values.
public enum StateLimits {
    /// Longest key, in bytes.
    public static let maximumKeyBytes = 1024
    /// Largest encoded value, in bytes.
    public static let maximumValueBytes = 8 << 20
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

/// The state kept in the engine: files in a container that is never started
/// (`heph-.state.P`, labelled `io.heph.role=state`), written and read with the archive API.
///
/// Each key is the file `/heph-state/k` + 40 hex digits of its SHA-256, holding the key's
/// length (4 bytes, big-endian), the key and the value; a deleted key is an empty file (the
/// archive API cannot delete). A write returns once the engine has the file in the
/// container's layer on disk, so a heph killed right after loses nothing.
public final class EngineStateStore: ProjectStateStore {
    static let directory = "heph-state"
    static let statusesFile = "statuses"

    private let client: EngineClient
    private let project: Project
    /// The state container's id, once known.
    private let containerID = Mutex<String?>(nil)
    /// One write at a time, so each key's last write is the last asked for.
    private let writes = SerialGate()
    /// The order of the last write applied to each key.
    private let applied = Mutex<[[UInt8]: UInt64]>([:])

    /// The state of `project` on the engine `client` talks to.
    public init(client: EngineClient, project: Project) {
        self.client = client
        self.project = project
    }

    private var name: String { RoleObject.state.engineName(project: project) }

    public func get(_ key: [UInt8]) async throws -> [UInt8]? {
        guard let contents = try await read(Self.fileName(key)) else { return nil }
        return Self.value(of: key, in: contents)
    }

    public func set(_ key: [UInt8], _ value: [UInt8]?, order: UInt64) async throws {
        var contents: [UInt8] = []
        if let value {
            let length = UInt32(key.count)
            contents = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + key + value
        }
        try await writes.run {
            guard order > applied.withLock({ $0[key, default: 0] }) else { return }  // superseded
            try await write(Self.fileName(key), contents)
            applied.withLock { $0[key] = order }
        }
    }

    public func keys() async throws -> [[UInt8]] {
        guard let id = try await container(creating: false) else { return [] }
        let entries = try await archive(id, path: "/\(Self.directory)") ?? []
        return entries.compactMap { entry in
            guard !entry.isDirectory, entry.name.split(separator: "/").last?.hasPrefix("k") == true else { return nil }
            return Self.key(in: entry.contents)
        }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    public func loadStatuses() async throws -> [UInt8]? {
        try await read(Self.statusesFile).flatMap { $0.isEmpty ? nil : $0 }
    }

    public func saveStatuses(_ bytes: [UInt8]) async throws {
        try await write(Self.statusesFile, bytes)
    }

    // MARK: Files

    private func read(_ file: String) async throws -> [UInt8]? {
        guard let id = try await container(creating: false) else { return nil }
        return try await archive(id, path: "/\(Self.directory)/\(file)")?.first { !$0.isDirectory }?.contents
    }

    private func write(_ file: String, _ contents: [UInt8]) async throws {
        let tar = TarArchive.make([
            TarArchive.Entry(name: Self.directory + "/", contents: [], isDirectory: true),
            TarArchive.Entry(name: "\(Self.directory)/\(file)", contents: contents),
        ])
        for attempt in 0..<2 {
            guard let id = try await container(creating: true) else { continue }
            let response = try await EngineLane.asControl { try await client.request(.PUT, "/containers/\(id)/archive", query: [("path", "/")], tar: tar) }
            if response.status == .notFound, attempt == 0 {
                // Removed meanwhile (heph down --volumes): make it again.
                containerID.withLock { $0 = nil }
                continue
            }
            guard response.succeeded else { throw response.failure("cannot write the state of project \(project.name)") }
            return
        }
    }

    /// The entries of the archive of `path` in the container; nil when the path is not there.
    private func archive(_ id: String, path: String) async throws -> [TarArchive.Entry]? {
        let response = try await EngineLane.asControl { try await client.request(.GET, "/containers/\(id)/archive", query: [("path", path)]) }
        if response.status == .notFound {
            if response.engineMessage.contains("No such container") { containerID.withLock { $0 = nil } }
            return nil
        }
        guard response.succeeded else { throw response.failure("cannot read the state of project \(project.name)") }
        guard let entries = TarArchive.entries(Array(response.body.readableBytesView)) else {
            throw DockerError(.engine, "the engine's archive of \(name):\(path) is not a tar archive")
        }
        return entries
    }

    /// The state container's id; made when `creating` and absent (nil when absent and not).
    private func container(creating: Bool) async throws -> String? {
        if let id = containerID.withLock({ $0 }) { return id }
        return try await EngineLane.asControl {
            var pulled = false
            while true {
                let inspected = try await client.request(.GET, "/containers/\(name)/json")
                if inspected.succeeded {
                    let id = try inspected.decode(EngineCreated.self).Id
                    containerID.withLock { $0 = id }
                    return id
                }
                guard inspected.status == .notFound else { throw inspected.failure("cannot find the state of project \(project.name)") }
                guard creating else { return nil }
                let body = StateContainerCreate(Image: SystemImage.name, Labels: RoleObject.state.labels(project: project))
                let created = try await client.request(.POST, "/containers/create", query: [("name", name)], json: body)
                if created.status == .conflict { continue }  // made by another process meanwhile
                if created.status == .notFound, !pulled {
                    pulled = true
                    try await SystemImage.pull(client)
                    continue
                }
                guard created.succeeded else { throw created.failure("cannot make the state container of project \(project.name)") }
                let id = try created.decode(EngineCreated.self).Id
                containerID.withLock { $0 = id }
                return id
            }
        }
    }

    // MARK: Encoding

    static func fileName(_ key: [UInt8]) -> String {
        "k" + SHA256.hash(data: key).prefix(20).map { String(format: "%02x", $0) }.joined()
    }

    /// The key a file's contents hold; nil for a deleted key.
    static func key(in contents: [UInt8]) -> [UInt8]? {
        guard contents.count >= 4 else { return nil }
        let length = contents[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard contents.count >= 4 + length else { return nil }
        return Array(contents[4..<4 + length])
    }

    /// The value in a file's contents when it holds `key`.
    static func value(of key: [UInt8], in contents: [UInt8]) -> [UInt8]? {
        guard let stored = self.key(in: contents), stored == key else { return nil }
        return Array(contents[(4 + key.count)...])
    }
}

/// `POST /containers/create` for the state container: never started, so it runs nothing.
struct StateContainerCreate: Encodable, Sendable {
    var Image: String
    var Cmd = ["true"]
    var Labels: [String: String]
    var HostConfig = ["NetworkMode": "none"]
}
