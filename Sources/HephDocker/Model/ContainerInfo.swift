/// What heph reports about one managed container.
///
/// `ports` maps HOST → CONTAINER as in ``ContainerConfig/ports``: `"8080": "80"`,
/// `"127.0.0.1:8080": "80"`, `"5353": "53/udp"`. A list reports the ports bound now (none
/// while stopped); inspect reports the ports configured.
public struct ContainerInfo: Sendable, Hashable {
    /// The full container id.
    public var id: String
    /// The script's name, `heph-web`, the same in every project.
    public var name: String
    /// The engine's name: `heph-web` in the default project, `heph_P_web` in project `P`.
    public var dockerName: String
    /// The project it belongs to (``Project/default`` when it has no project label).
    public var project: String
    /// The image as it was named at creation.
    public var image: String
    /// The status by the six-value mapping of ``ContainerStatus``.
    public var status: ContainerStatus
    /// The engine's own state beside it: what tells a paused container from a restarting,
    /// a removing or a dead one, all `error` by status. On a swarm, `running` while any of
    /// the service's tasks runs, else `exited` (``TaskInfo/state`` has each task's).
    public var state: ContainerState
    /// Published ports, HOST → CONTAINER.
    public var ports: [String: String]
    /// The fields only inspect reports; nil in a list.
    public var details: ContainerDetails?
    /// On a swarm, the service's tasks: how many run and how many it wants; nil for a container.
    public var replicas: ReplicaCount?

    /// Makes an info value.
    public init(id: String, name: String, dockerName: String? = nil, project: String = Project.default.name, image: String, status: ContainerStatus,
                state: ContainerState? = nil, ports: [String: String] = [:], details: ContainerDetails? = nil, replicas: ReplicaCount? = nil) {
        self.state = state ?? ContainerTransition.likelyState(.status(status))
        self.id = id
        self.name = name
        self.dockerName = dockerName ?? name
        self.project = project
        self.image = image
        self.status = status
        self.ports = ports
        self.details = details
        self.replicas = replicas
    }
}

/// The inspect-only part of ``ContainerInfo``.
public struct ContainerDetails: Sendable, Hashable {
    /// The last exit code of the container's process (0 while it has never exited).
    public var exitCode: Int
    /// Whether the kernel killed the process for exceeding its memory limit.
    public var oomKilled: Bool
    /// How many times the engine's restart policy restarted it.
    public var restartCount: Int
    /// When it last started, Unix seconds; nil if it never started.
    public var startedAt: Double?
    /// When it last finished, Unix seconds; nil if it never finished.
    public var finishedAt: Double?
    /// Every label, `io.heph.managed` included.
    public var labels: [String: String]
    /// The container's hostname.
    public var hostname: String
    /// The healthcheck's state; nil without a healthcheck.
    public var health: HealthDetails?
    /// The engine's own state: `created`, `running`, `paused`, `restarting`, `exited`, …
    /// (on a swarm, the service's update state: `updating`, `completed`, `paused`, …, or
    /// empty when it never updated).
    public var engineState: String
    /// On a swarm, the service's tasks: those it wants now, then the recent ended ones,
    /// newest first; nil for a container.
    public var tasks: [TaskInfo]? = nil

    /// Makes a details value.
    public init(exitCode: Int, oomKilled: Bool, restartCount: Int, startedAt: Double?, finishedAt: Double?, labels: [String: String], hostname: String, health: HealthDetails?, engineState: String = "") {
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.restartCount = restartCount
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.labels = labels
        self.hostname = hostname
        self.health = health
        self.engineState = engineState
    }
}

/// A healthcheck's state as the engine keeps it.
public struct HealthDetails: Sendable, Hashable {
    /// `healthy`, `unhealthy` or `starting`.
    public var status: String
    /// Consecutive failed probes.
    public var failingStreak: Int
    /// The last probes (the engine keeps five), oldest first.
    public var log: [HealthProbe]

    /// Makes a health value.
    public init(status: String, failingStreak: Int, log: [HealthProbe]) {
        self.status = status
        self.failingStreak = failingStreak
        self.log = log
    }
}

/// One healthcheck probe.
public struct HealthProbe: Sendable, Hashable {
    /// The probe's exit code: 0 passed.
    public var exitCode: Int
    /// What the probe printed.
    public var output: String
    /// When it started, Unix seconds.
    public var at: Double

    /// Makes a probe value.
    public init(exitCode: Int, output: String, at: Double) {
        self.exitCode = exitCode
        self.output = output
        self.at = at
    }
}

/// How many tasks a Swarm service runs.
public struct ReplicaCount: Sendable, Hashable, Codable {
    /// Tasks in the `running` state.
    public var running: Int
    /// Tasks the service wants (0 while stopped).
    public var desired: Int

    /// Makes a count.
    public init(running: Int, desired: Int) {
        self.running = running
        self.desired = desired
    }
}

/// One task of a Swarm service, as inspect reports it.
public struct TaskInfo: Sendable, Hashable {
    /// The task's id.
    public var id: String
    /// Where it runs.
    public var placement: TaskPlacement
    /// Its status by the six-value mapping (see ``SwarmOrchestrator``).
    public var status: ContainerStatus
    /// Swarm's own state: `pending`, `starting`, `running`, `failed`, `shutdown`, …
    public var state: String
    /// Whether Swarm still wants it (false for one it stopped or keeps as history).
    public var current: Bool
    /// Swarm's message, or its error when the task failed.
    public var message: String
    /// The exit code of its container, once it ended.
    public var exitCode: Int?
    /// When it last changed state, Unix seconds.
    public var at: Double?

    /// Makes a task value.
    public init(id: String, placement: TaskPlacement, status: ContainerStatus, state: String, current: Bool, message: String, exitCode: Int?, at: Double?) {
        self.id = id
        self.placement = placement
        self.status = status
        self.state = state
        self.current = current
        self.message = message
        self.exitCode = exitCode
        self.at = at
    }
}
