/// A change of a managed container that hooks react to.
public struct ContainerTransition: Sendable, Hashable {
    /// What changed.
    public enum Kind: Sendable, Hashable {
        /// The status became this one.
        case status(ContainerStatus)
        /// The container's process ended (the `stopped` status comes with it).
        case exited(code: Int, oomKilled: Bool)
        /// The container is gone.
        case removed
    }

    /// How the watcher learnt of it.
    public enum Source: Sendable, Hashable {
        /// From the engine's event stream, as it happened.
        case events
        /// From a poll, because the stream missed it (dropped, reconnecting, or behind).
        case poll
    }

    public var kind: Kind
    /// The container's full id.
    public var id: String
    /// The script's name, `heph-web` (the same in every project).
    public var name: String
    /// The engine's name: `heph-web`, or `heph_P_web` in project `P`.
    public var dockerName: String
    /// The status before; nil when the container is new to the watcher.
    public var previous: ContainerStatus?
    /// When it happened: the engine's time of the event, or when the poll saw it (Unix seconds).
    public var at: Double
    public var source: Source
    /// On a swarm, the task this transition is of (`id` is then the task's id and `name`
    /// its service's); nil for a container.
    public var task: TaskPlacement?
    /// Why it changed, as far as the engine told (``TransitionCause/heph`` is decided where
    /// this process's own calls are known, not here).
    public var cause: TransitionCause
    /// The engine's own state of the container after the change.
    public var state: ContainerState

    public init(kind: Kind, id: String, name: String, dockerName: String? = nil, previous: ContainerStatus?, at: Double, source: Source,
                task: TaskPlacement? = nil, cause: TransitionCause = .unknown, state: ContainerState? = nil) {
        self.kind = kind
        self.cause = cause
        self.state = state ?? Self.likelyState(kind)
        self.id = id
        self.name = name
        self.dockerName = dockerName ?? name
        self.previous = previous
        self.at = at
        self.source = source
        self.task = task
    }

    /// The engine's state a change to `kind` implies when nothing said more.
    static func likelyState(_ kind: Kind) -> ContainerState {
        switch kind {
        case .status(.created): .created
        case .status(.running), .status(.healthy), .status(.unhealthy): .running
        case .status(.stopped), .exited: .exited
        case .status(.error): .dead
        case .removed: .gone
        }
    }
}

/// Where a Swarm task runs: its slot in the service and its node.
public struct TaskPlacement: Sendable, Hashable {
    /// The replica slot, from 1: task `heph-web.2` has slot 2.
    public var slot: Int
    /// The node's hostname (its id when the node is gone).
    public var node: String
    /// The node's id.
    public var nodeID: String

    /// Makes a placement.
    public init(slot: Int, node: String, nodeID: String) {
        self.slot = slot
        self.node = node
        self.nodeID = nodeID
    }
}

/// What a watcher last saw of one container: what a new leader compares with the engine.
public struct WatchedStatus: Sendable, Hashable, Codable {
    /// The script's name.
    public var name: String
    /// The engine's name.
    public var dockerName: String
    public var status: ContainerStatus

    /// Makes one.
    public init(name: String, dockerName: String, status: ContainerStatus) {
        self.name = name
        self.dockerName = dockerName
        self.status = status
    }
}
