/// Everything needed to create one managed container.
///
/// The first seven fields are those of the orchestrator spec's Go struct (and keep its JSON
/// names); the rest are the extensions the Lua API adds. Nothing here is checked until
/// ``validate()`` (which ``DockerOrchestrator/createContainer(_:)`` calls before it sends
/// anything to the engine).
public struct ContainerConfig: Sendable, Hashable {
    /// Image reference, such as `heph/busybox:latest`. Pulled only when missing locally.
    public var image: String
    /// Short or full name: `web` becomes `heph-web`; `heph-web` stays as it is.
    public var name: String
    /// Environment variables, name → value.
    public var env: [String: String]
    /// Published ports, HOST → CONTAINER: `"8080": "80"`, `"127.0.0.1:8080": "80/udp"`.
    public var ports: [String: String]
    /// Mounts, HOST → CONTAINER: an absolute host path (a bind mount; it must exist) or a
    /// named volume, mapped to an absolute container path with an optional `:ro`/`:rw`.
    public var volumes: [String: String]
    /// The container's hostname; the engine's default (the short id) when nil.
    public var hostname: String?
    /// The network to join; ``networkName`` (`heph-network`) when nil.
    public var networkName: String?
    /// The command (exec form); the image's own when nil.
    public var cmd: [String]?
    /// The entrypoint (exec form); the image's own when nil.
    public var entrypoint: [String]?
    /// The working directory, an absolute path.
    public var workdir: String?
    /// Labels added beside `io.heph.managed=true`. Keys under `io.heph.` are reserved.
    public var labels: [String: String]
    /// Memory limit: bytes (`"268435456"`) or a number with `k`, `m` or `g` (`"256m"`).
    public var memory: String?
    /// CPU limit in CPUs, such as `0.5`.
    public var cpus: Double?
    /// Engine restart policy: `no`, `on-failure`, `on-failure:N`, `always`, `unless-stopped`.
    public var restart: String?
    /// A Docker healthcheck.
    public var healthcheck: Healthcheck?
    /// How heph itself tells the container serves (operations.md §5); `heph.up` waits for it.
    public var ready: ReadinessProbe? = nil
    /// How many tasks of the service a swarm runs (default 1). The engine backend runs one
    /// container per config and accepts only 1.
    public var replicas: Int? = nil
    /// Placement, update and restart policy on a swarm; the engine backend ignores them.
    public var swarm = SwarmServiceOptions()

    /// Makes a config; only `image` and `name` are required.
    public init(
        image: String,
        name: String,
        env: [String: String] = [:],
        ports: [String: String] = [:],
        volumes: [String: String] = [:],
        hostname: String? = nil,
        networkName: String? = nil,
        cmd: [String]? = nil,
        entrypoint: [String]? = nil,
        workdir: String? = nil,
        labels: [String: String] = [:],
        memory: String? = nil,
        cpus: Double? = nil,
        restart: String? = nil,
        healthcheck: Healthcheck? = nil
    ) {
        self.image = image
        self.name = name
        self.env = env
        self.ports = ports
        self.volumes = volumes
        self.hostname = hostname
        self.networkName = networkName
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.workdir = workdir
        self.labels = labels
        self.memory = memory
        self.cpus = cpus
        self.restart = restart
        self.healthcheck = healthcheck
    }
}

/// A Docker healthcheck: a probe the engine runs inside the container.
///
/// Durations are seconds and may be fractional. Nil or zero leaves the engine's default
/// (interval 30 s, timeout 30 s, 3 retries, no start period). The first probe runs one full
/// interval after the container starts; it turns `unhealthy` after `retries` failures in a row.
public struct Healthcheck: Sendable, Hashable {
    /// How the probe is run.
    public enum Test: Sendable, Hashable {
        /// Run by the container's shell (`CMD-SHELL`): `"wget -q -O- http://127.0.0.1/ || exit 1"`.
        case shell(String)
        /// Run directly (`CMD`): `["cat", "/tmp/ready"]`.
        case exec([String])
    }

    /// The probe.
    public var test: Test
    /// Seconds between probes.
    public var interval: Double?
    /// Seconds a probe may take before it counts as failed.
    public var timeout: Double?
    /// Failures in a row that make the container unhealthy.
    public var retries: Int?
    /// Seconds after start during which failures do not count.
    public var startPeriod: Double?

    /// Makes a healthcheck.
    public init(test: Test, interval: Double? = nil, timeout: Double? = nil, retries: Int? = nil, startPeriod: Double? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.startPeriod = startPeriod
    }
}
