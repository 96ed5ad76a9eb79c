/// The orchestrator: every operation heph performs on containers and the network.
///
/// Methods that take a container accept its short name (`web`), its full name
/// (`heph-web`) or its id (full, or a unique prefix of at least 12 hex digits), and act
/// only on containers labelled `io.heph.managed=true`; any other container is
/// ``DockerError/Code/notFound``. Every method throws only ``DockerError`` (or
/// `CancellationError` when its task is cancelled).
///
/// This protocol is the one extension point of the engine layer: the engine backend
/// (``DockerOrchestrator``), the swarm backend (``SwarmOrchestrator``) and the dry run
/// (``DryRunOrchestrator``) implement every requirement themselves (none has a default), and
/// ``Backend/makeOrchestrator(_:)`` is the one place that chooses among them.
public protocol Orchestrator: Sendable {
    /// The clock every wait of this orchestrator reads (the run's).
    var clock: any HephClock { get }
    /// Succeeds when the engine answers; throws ``DockerError/Code/engineUnreachable`` when
    /// it cannot be reached.
    func ping() async throws
    /// Releases the connection. Calling it twice is not an error.
    func close() async throws

    /// Validates `config` completely, then creates the container (pulling its image only when
    /// it is missing locally) and returns its id. Does not start it.
    func createContainer(_ config: ContainerConfig) async throws -> String
    /// Starts a container; starting a running one is not an error.
    func startContainer(_ containerID: String) async throws
    /// Stops a container gracefully within `timeout` (whole seconds, rounded up), then kills
    /// it; stopping a stopped one is not an error.
    func stopContainer(_ containerID: String, timeout: Duration) async throws
    /// Removes a container, stopping it first when it runs.
    func removeContainer(_ containerID: String) async throws
    /// Every managed container, sorted by name.
    func listContainers() async throws -> [ContainerInfo]
    /// One managed container, with ``ContainerInfo/details`` filled in.
    func inspectContainer(_ containerID: String) async throws -> ContainerInfo
    /// Creates the managed ``networkName`` bridge network, or returns the existing one's id.
    @discardableResult
    func createNetwork() async throws -> String
    /// Removes the managed network; no error when it does not exist.
    func removeNetwork() async throws
    /// A container's status; a container that does not exist (or is not managed) is
    /// ``ContainerStatus/error``, not an error.
    func healthCheck(_ containerID: String) async throws -> ContainerStatus
    /// Stops and removes every managed container, then the managed network, then (only when
    /// `removingVolumes`) the named volumes heph created.
    @discardableResult
    func teardownAll(removingVolumes: Bool) async throws -> TeardownReport

    // Beyond the spec's interface: what `heph.restart_container`, `heph.logs`, `heph.exec`
    // and the recovery plugins need.

    /// Restarts a container under the same id: a graceful stop within `timeout` (then a
    /// kill), then a start. A stopped container is just started.
    func restartContainer(_ containerID: String, timeout: Duration) async throws
    /// Sends `signal` (a name such as `SIGKILL`, or a number) to the container's main process.
    func killContainer(_ containerID: String, signal: String) async throws
    /// Freezes every process of a running container.
    func pauseContainer(_ containerID: String) async throws
    /// Thaws a paused container.
    func unpauseContainer(_ containerID: String) async throws
    /// What the container wrote, its standard output and error apart; only the last `tail`
    /// lines when given.
    func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput
    /// Calls `onOutput` with what the container writes, from the last `tail` lines (all when
    /// nil), until it stops.
    func followLogs(_ containerID: String, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws
    /// Runs `command` (exec form) in the running container and waits for it to end.
    func exec(_ containerID: String, command: [String]) async throws -> ExecResult

    // Coordination.

    /// The project's lease, `heph.state` and watcher registry (docs/ha.md).
    var coordination: any Coordination { get }

    // Watching.

    /// A watcher over this backend's managed containers (not started), reporting each
    /// transition once and in order; nil when there is nothing to watch (the dry run).
    func makeWatcher(
        pollInterval: Duration,
        onTransition: @escaping @Sendable (ContainerTransition) -> Void,
        onNotice: @escaping @Sendable (ContainerWatcher.Notice) -> Void
    ) throws -> ContainerWatcher?

    // How ``up(_:progress:)`` brings a topology up on this backend.

    /// Throws ``DockerError/Code/invalidConfig`` when this backend cannot run `config` as
    /// written, before anything reaches the engine. Assumes `config` passed ``ContainerConfig/validate()``.
    func checkSupported(_ config: ContainerConfig) throws
    /// The value of ``configHashLabel`` on what this backend makes of `config`: `heph.up`
    /// compares it to tell a changed service from an unchanged one.
    func fingerprint(of config: ContainerConfig) throws -> String
    /// Replaces `existing`, whose config changed, with one made from `config`, started;
    /// returns its id.
    func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String
    /// Whether the engine itself starts a container of `config` again after it stops, so a
    /// stop during `heph.up` is not yet a failure.
    func restartsAfterExit(_ config: ContainerConfig) -> Bool

    // Readiness (operations.md §5).

    /// Probes of `probe` on the container `containerID`, one after another, until closed.
    func readinessSession(_ containerID: String, probe: ReadinessProbe) -> any ReadinessSession
}

extension Orchestrator {
    /// Stops with the default ``stopTimeout``.
    public func stopContainer(_ containerID: String) async throws {
        try await stopContainer(containerID, timeout: stopTimeout)
    }

    /// Restarts with the default ``stopTimeout``.
    public func restartContainer(_ containerID: String) async throws {
        try await restartContainer(containerID, timeout: stopTimeout)
    }

    /// Runs `body`, then closes this orchestrator, whether `body` returns or throws.
    public func closing<T>(after body: () async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body()
        } catch {
            try? await close()
            throw error
        }
        try await close()
        return result
    }

    /// Tears down, keeping named volumes.
    @discardableResult
    public func teardownAll() async throws -> TeardownReport {
        try await teardownAll(removingVolumes: false)
    }
}

/// What a teardown removed.
public struct TeardownReport: Sendable, Hashable {
    /// Full names of the containers removed, sorted.
    public var containers: [String]
    /// Names of the networks removed.
    public var networks: [String]
    /// Names of the named volumes removed (only when asked to remove volumes).
    public var volumes: [String]
    /// The projects whose `heph.state` went (with volumes only).
    public var states: [String] = []

    /// Makes a report.
    public init(containers: [String] = [], networks: [String] = [], volumes: [String] = []) {
        self.containers = containers
        self.networks = networks
        self.volumes = volumes
    }
}
