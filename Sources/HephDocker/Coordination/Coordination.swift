import Synchronization

/// What heph keeps in the engine beside a project's containers: who leads it, its
/// `heph.state`, and which watchers run (docs/ha.md).
public protocol Coordination: Sendable {
    /// The project's `heph.state`.
    var state: any ProjectStateStore { get }

    /// Returns once this process leads the project. `announce` hears what a person should
    /// (who leads while this process stands by; the engine unreachable).
    func campaign(announce: @escaping @Sendable (String) -> Void) async throws -> any Leadership

    /// Registers this process as a watcher of the project, in the background (retrying
    /// while the engine is unreachable), until ``close()``. Calling it again does nothing.
    func registerWatcher()

    /// Lets go of the lease and the registry entry.
    func close() async

    /// The running watchers of this project (of every project with `allProjects`).
    func watchers(allProjects: Bool) async throws -> [WatcherEntry]

    /// The lease, state and registry objects of this project (of every project with `allProjects`).
    func roleObjects(allProjects: Bool) async throws -> [RoleObjectInfo]
}

/// This process's lead of a project.
public protocol Leadership: Sendable {
    /// Whether the process may still act as the leader: its lease is held and its last
    /// proof is recent enough that no other process can lead yet.
    var isValid: Bool { get }
    /// Calls `listener` (from any task) once the lead is lost, at once if it has been.
    func whenLost(_ listener: @escaping @Sendable (String) -> Void)
    /// Gives the lead up at once (a standby takes over).
    func release() async
}

/// A lead that is never lost: `heph test` (there is one process) and `heph check`.
public struct PermanentLeadership: Leadership {
    public init() {}
    public var isValid: Bool { true }
    public func whenLost(_ listener: @escaping @Sendable (String) -> Void) {}
    public func release() async {}
}

extension HeldContainer: Leadership {}

/// The coordination of `heph test` and `heph check`: one process, so it leads at once; state in memory.
public final class LocalCoordination: Coordination {
    public let state: any ProjectStateStore

    /// A coordination with an empty state.
    public init(state: any ProjectStateStore = MemoryStateStore()) {
        self.state = state
    }

    public func campaign(announce: @escaping @Sendable (String) -> Void) async throws -> any Leadership { PermanentLeadership() }
    public func registerWatcher() {}
    public func close() async {}
    public func watchers(allProjects: Bool) async throws -> [WatcherEntry] { [] }
    public func roleObjects(allProjects: Bool) async throws -> [RoleObjectInfo] { [] }
}
