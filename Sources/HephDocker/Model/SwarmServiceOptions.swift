/// How a service is deployed on a swarm: the fields of a config that only the Swarm backend
/// reads (``ContainerConfig/replicas`` aside, which the engine backend checks too).
///
/// Every field is optional; nil keeps Swarm's default. Durations are seconds and may be
/// fractional.
public struct SwarmServiceOptions: Sendable, Hashable {
    /// Where tasks may run.
    public var placement: Placement?
    /// How a changed service rolls out.
    public var update: UpdatePolicy?
    /// How Swarm replaces a task that ended; its condition comes from ``ContainerConfig/restart``.
    public var restartPolicy: RestartPolicy?
    /// How the service's name resolves: `vip` (one virtual address, load-balanced by the
    /// kernel's IPVS; ports published on every node through the routing mesh) or `dnsrr`
    /// (the name resolves to every task's address; ports published on the nodes that run a
    /// task). Nil: the orchestrator's default (`vip`, or `heph --endpoint-mode`).
    public var endpointMode: String?

    /// Makes the options.
    public init(placement: Placement? = nil, update: UpdatePolicy? = nil, restartPolicy: RestartPolicy? = nil, endpointMode: String? = nil) {
        self.placement = placement
        self.update = update
        self.restartPolicy = restartPolicy
        self.endpointMode = endpointMode
    }

    /// The endpoint modes Swarm knows.
    public static let endpointModes = ["vip", "dnsrr"]

    /// Swarm placement: `constraints` as `docker service create --constraint` takes them
    /// (`node.role == manager`, `node.labels.zone != b`), `preferences` as spread descriptors
    /// (`node.labels.zone`), and at most `maxReplicas` tasks on one node.
    public struct Placement: Sendable, Hashable {
        public var constraints: [String]
        public var preferences: [String]
        public var maxReplicas: Int?

        /// Makes a placement.
        public init(constraints: [String] = [], preferences: [String] = [], maxReplicas: Int? = nil) {
            self.constraints = constraints
            self.preferences = preferences
            self.maxReplicas = maxReplicas
        }
    }

    /// How Swarm rolls out a change: `parallelism` tasks at a time (0 = all), `delay` seconds
    /// between batches, `order` `stop-first` or `start-first`, `failureAction` `pause`,
    /// `continue` or `rollback`, and `monitor` seconds to watch each new task for failure.
    public struct UpdatePolicy: Sendable, Hashable {
        public var parallelism: Int?
        public var delay: Double?
        public var order: String?
        public var failureAction: String?
        public var monitor: Double?

        /// Makes an update policy.
        public init(parallelism: Int? = nil, delay: Double? = nil, order: String? = nil, failureAction: String? = nil, monitor: Double? = nil) {
            self.parallelism = parallelism
            self.delay = delay
            self.order = order
            self.failureAction = failureAction
            self.monitor = monitor
        }
    }

    /// How Swarm restarts: `delay` seconds before a new task, at most `maxAttempts` new tasks
    /// (0 = no limit) within `window` seconds (0 = ever).
    public struct RestartPolicy: Sendable, Hashable {
        public var delay: Double?
        public var maxAttempts: Int?
        public var window: Double?

        /// Makes a restart policy.
        public init(delay: Double? = nil, maxAttempts: Int? = nil, window: Double? = nil) {
            self.delay = delay
            self.maxAttempts = maxAttempts
            self.window = window
        }
    }
}
