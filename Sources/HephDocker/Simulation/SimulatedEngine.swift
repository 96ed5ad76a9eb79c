import Synchronization

/// A Docker engine simulated in memory, on an injected clock: the world `heph test` runs
/// scripts in (``SimulatedOrchestrator`` is the orchestrator over it).
///
/// It keeps containers and networks and tells of every change as the real engine's event
/// stream does, in the same order, so the watcher and the transition tracker turn them into
/// the same transitions: a start is `start`; a kill from outside is `kill`, then `die`; a
/// `docker stop` is `kill`, `die`, `stop`; an OOM kill is `oom`, then `die`; a removal of a
/// running container `kill`, `die`, `destroy`. A container with a healthcheck is probed
/// every `interval` (the engine's default, 30 s, when the config has none): healthy at the
/// first passing probe, unhealthy after `retries` failing ones (``setHealth(_:healthy:)``
/// decides what the probes find); a restart policy starts it again 100 ms after
/// it exits on its own (a stop or a kill is manual: the policy leaves it). Faults from outside (``kill(_:exitCode:)``, ``crash(_:exitCode:)``,
/// ``oom(_:)``, ``stop(_:)``, ``pause(_:_:)``, ``remove(_:)``, ``down(for:restarting:)``)
/// act as done behind heph's back. Later capabilities extend it here (one method per fault, one
/// event per change), not in the orchestrator.
public final class SimulatedEngine: Sendable {
    /// One container as the engine keeps it.
    public struct Container: Sendable {
        /// Its id.
        public internal(set) var id: String
        /// Its name on the engine.
        public internal(set) var name: String
        /// What it was created from.
        public internal(set) var config: ContainerConfig
        /// Its labels (the project's among them).
        public internal(set) var labels: [String: String]
        /// `created`, `running`, `paused` or `exited`.
        public internal(set) var state = "created"
        /// The healthcheck's verdict while running: nil without a healthcheck.
        var health: String?
        /// What ``setHealth(_:healthy:)`` decided the probes see, which outlives restarts.
        var healthDecided: Bool?
        /// What ``setReady(_:ready:)`` decided heph's readiness probes see (outlives
        /// restarts); nil: ready whenever it runs.
        var readyDecided: Bool?
        /// Failing probes in a row (the engine's `FailingStreak`).
        var failingStreak = 0
        var exitCode = 0
        var oomKilled = false
        var restartCount = 0
        var startedAt: Double?
        var finishedAt: Double?
        /// Counts starts, so a health check or restart scheduled for an earlier run does
        /// nothing to a later one.
        var generation = 0
        /// Stopped by a request (a stop or a kill, heph's or from outside): the restart policy leaves it.
        var stoppedOnPurpose = false
        /// What its logs hold (``setOutput(_:stdout:stderr:)``).
        var output = ContainerOutput()
    }

    private struct World {
        var containers: [String: Container] = [:]
        var networks: [String: String] = [:]
        var nextID = 1
        /// Who follows the events, and of which project's containers.
        var subscribers: [Int: Subscription] = [:]
        var nextSubscriber = 0
        /// While the engine is down: when it comes back.
        var downUntil: ContinuousClock.Instant?
    }

    private let world = Mutex(World())
    /// The clock everything in the simulated world waits by.
    public let clock: any HephClock

    /// An empty engine on `clock`.
    public init(clock: any HephClock) {
        self.clock = clock
    }

    // MARK: What heph asks (through ``SimulatedOrchestrator``)

    /// Throws ``DockerError/Code/engineUnreachable`` while the engine is down.
    func checkReachable() throws {
        let down = world.withLock { $0.downUntil.map { clock.now < $0 } ?? false }
        if down { throw DockerError(.engineUnreachable, "the simulated engine is down (sim.engine_down)") }
    }

    /// Creates a container named `name` (the engine's name) with `labels`; returns its id.
    func createContainer(name: String, config: ContainerConfig, labels: [String: String]) throws -> String {
        try checkReachable()
        return try world.withLock { world in
            guard !world.containers.values.contains(where: { $0.name == name }) else {
                throw DockerError(.conflict, "a container named \(name) already exists; remove it first or choose another name")
            }
            let id = Self.id(world.nextID)
            world.nextID += 1
            let container = Container(id: id, name: name, config: config, labels: labels)
            world.containers[id] = container
            emit(.create, container, to: world)
            return id
        }
    }

    /// Every container, by id.
    func containers() throws -> [Container] {
        try checkReachable()
        return world.withLock { Array($0.containers.values) }
    }

    /// The container `id`, or nil.
    func container(_ id: String) throws -> Container? {
        try checkReachable()
        return world.withLock { $0.containers[id] }
    }

    /// Starts a created or exited container; a running one is left alone.
    func startContainer(_ id: String) throws {
        try checkReachable()
        start(id, restarting: false)
    }

    /// Stops a running container as `docker stop` does (its process exits on SIGTERM: 0).
    func stopContainer(_ id: String) throws {
        try checkReachable()
        stop(id)
    }

    /// Sends `signal` to the container's process: it dies with 128 + the signal's number.
    /// The engine counts a kill as a manual stop: its restart policy leaves it.
    func signalContainer(_ id: String, signal: Int) throws {
        try checkReachable()
        end(id, exitCode: 128 + signal, events: [.kill(signal: signal), .die(exitCode: 128 + signal)], onPurpose: true)
    }

    /// Freezes or thaws a running container.
    func pauseContainer(_ id: String, _ paused: Bool) throws {
        try checkReachable()
        world.withLock { world in
            guard var container = world.containers[id], container.state == (paused ? "running" : "paused") else { return }
            container.state = paused ? "paused" : "running"
            world.containers[id] = container
            emit(paused ? .pause : .unpause, container, to: world)
        }
    }

    /// Removes a container, killing it first when it runs.
    func removeContainer(_ id: String) throws {
        try checkReachable()
        guard let container = world.withLock({ $0.containers[id] }) else { return }
        if container.state == "running" || container.state == "paused" {
            end(id, exitCode: 137, events: [.kill(signal: 9), .die(exitCode: 137)], onPurpose: true)
        }
        world.withLock { world in
            if let removed = world.containers.removeValue(forKey: id) { emit(.destroy, removed, to: world) }
        }
    }

    /// The network `name`'s id, creating it when missing.
    func network(_ name: String) throws -> String {
        try checkReachable()
        return world.withLock { world in
            if let id = world.networks[name] { return id }
            let id = Self.id(world.nextID)
            world.nextID += 1
            world.networks[name] = id
            return id
        }
    }

    /// Removes the network `name`; true when it was there.
    @discardableResult
    func removeNetwork(_ name: String) throws -> Bool {
        try checkReachable()
        return world.withLock { $0.networks.removeValue(forKey: name) != nil }
    }

    /// The events of `project`'s containers from now on, until the engine goes down (the
    /// stream then fails) or the caller stops reading. On a ``VirtualClock`` each event
    /// holds the clock until the reader acknowledges it (``Subscription/acknowledge()``):
    /// the clock never moves past an event on its way.
    func events(of project: Project) throws -> (events: AsyncThrowingStream<ContainerEvent, any Error>, subscription: Subscription) {
        try checkReachable()
        let (stream, continuation) = AsyncThrowingStream<ContainerEvent, any Error>.makeStream()
        let subscription = Subscription(project: project.name, continuation: continuation, clock: clock as? VirtualClock)
        // Checked again with the subscription, so an outage that begins between the two
        // cannot leave a stream that never fails.
        let key = try world.withLock { world in
            if let until = world.downUntil, clock.now < until {
                throw DockerError(.engineUnreachable, "the simulated engine is down (sim.engine_down)")
            }
            defer { world.nextSubscriber += 1 }
            world.subscribers[world.nextSubscriber] = subscription
            return world.nextSubscriber
        }
        continuation.onTermination = { [weak self] termination in
            // Finished (the engine went down), the events already sent are still read and
            // acknowledged: the reader ends the subscription after the last. Cancelled,
            // they never will be.
            if case .cancelled = termination { subscription.end() }
            _ = self?.world.withLock { $0.subscribers.removeValue(forKey: key) }
        }
        return (stream, subscription)
    }

    /// Returns once every event sent so far has been read by its reader (on a virtual
    /// clock; at once on another): an engine call's answer then reaches the script after
    /// the hooks its events set off, every time. Bounded: a reader that never reads is
    /// given up on.
    func drained() async {
        for _ in 0..<10_000 {
            guard world.withLock({ $0.subscribers.values.contains { $0.hasUnread } }) else { return }
            await Task.yield()
        }
    }

    /// One reader of the events: its stream, and the clock holds of events not yet read.
    final class Subscription: Sendable {
        let project: String
        let continuation: AsyncThrowingStream<ContainerEvent, any Error>.Continuation
        private let clock: VirtualClock?
        /// Events sent and not yet acknowledged; nil once the stream ended.
        private let pending = Mutex<Int?>(0)

        init(project: String, continuation: AsyncThrowingStream<ContainerEvent, any Error>.Continuation, clock: VirtualClock?) {
            self.project = project
            self.continuation = continuation
            self.clock = clock
        }

        /// Sends `event`, holding the clock until it is acknowledged.
        func send(_ event: ContainerEvent) {
            if let clock, pending.withLock({ count in count.map { count = $0 + 1 } != nil }) { clock.hold() }
            continuation.yield(event)
        }

        /// Whether events sent are still unread.
        var hasUnread: Bool { pending.withLock { ($0 ?? 0) > 0 } }

        /// A hold for the stream's end (the engine went down), released when the reader
        /// ends the subscription: the reader's reconnection is work the clock waits for.
        func holdUntilRead() {
            if let clock, pending.withLock({ count in count.map { count = $0 + 1 } != nil }) { clock.hold() }
        }

        /// The reader is done with one event.
        func acknowledge() {
            let held = pending.withLock { count in
                guard let current = count, current > 0 else { return false }
                count = current - 1
                return true
            }
            if held { clock?.release() }
        }

        /// The reader is done (or gone): what it did not read holds the clock no more.
        func end() {
            let unread = pending.withLock { count in
                defer { count = nil }
                return count ?? 0
            }
            for _ in 0..<unread { clock?.release() }
        }
    }

    // MARK: Faults from outside heph

    /// The container's main process killed from outside (`docker kill`), with `exitCode`:
    /// a manual stop, which the restart policy leaves alone (as moby's does).
    public func kill(_ id: String, exitCode: Int = 137) {
        end(id, exitCode: exitCode, events: [.kill(signal: 9), .die(exitCode: exitCode)], onPurpose: true)
    }

    /// The container's process exits on its own with `exitCode`.
    public func crash(_ id: String, exitCode: Int = 1) {
        end(id, exitCode: exitCode, events: [.die(exitCode: exitCode)], onPurpose: false)
    }

    /// The kernel kills the container's process for its memory: `oom`, then `die` (137).
    public func oom(_ id: String) {
        end(id, exitCode: 137, events: [.oom, .die(exitCode: 137)], onPurpose: false, oomKilled: true)
    }

    /// `docker stop` from outside.
    public func stop(_ id: String) {
        end(id, exitCode: 0, events: [.kill(signal: 15), .die(exitCode: 0), .stop], onPurpose: true)
    }

    /// What the container's healthcheck probes find from now on (and after restarts): the
    /// status follows at the probes, as the engine's does (healthy at the first passing
    /// probe; unhealthy after `retries` failing ones in a row).
    public func setHealth(_ id: String, healthy: Bool) {
        world.withLock { $0.containers[id]?.healthDecided = healthy }
    }

    /// What heph's readiness probes (`ready`) of the container see from now on: `false`
    /// until told `true`, whether it runs or not.
    public func setReady(_ id: String, ready: Bool) {
        world.withLock { $0.containers[id]?.readyDecided = ready }
    }

    /// What a readiness probe of the container sees: ready when it runs, unless
    /// ``setReady(_:ready:)`` said otherwise.
    func probesReady(_ id: String) -> Bool {
        world.withLock { world in
            guard let container = world.containers[id] else { return false }
            return container.state == "running" && container.readyDecided != false
        }
    }

    /// What the container's logs hold from now on: its standard output and error.
    public func setOutput(_ id: String, stdout: [UInt8], stderr: [UInt8]) {
        world.withLock { world in world.containers[id]?.output = ContainerOutput(stdout: stdout, stderr: stderr) }
    }

    /// `docker pause` / `docker unpause` from outside.
    public func pause(_ id: String, _ paused: Bool) {
        try? pauseContainer(id, paused)
    }

    /// `docker rm -f` from outside.
    public func remove(_ id: String) {
        try? removeContainer(id)
    }

    /// The engine unreachable for `duration`: calls fail, the event stream ends. With
    /// `restarting`, it comes back having stopped every container (a dockerd restarted
    /// without live-restore; each process exits on SIGTERM, 0), with no event heph could
    /// have heard.
    public func down(for duration: Duration, restarting: Bool) {
        let subscribers = world.withLock { world in
            world.downUntil = clock.now + duration
            if restarting {
                let now = clock.epochSeconds
                for (id, var container) in world.containers where container.state == "running" || container.state == "paused" {
                    container.state = "exited"
                    container.exitCode = 0
                    container.health = nil
                    container.finishedAt = now
                    container.generation += 1
                    world.containers[id] = container
                }
            }
            defer { world.subscribers = [:] }
            return Array(world.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.holdUntilRead()
            subscriber.continuation.finish(throwing: DockerError(.engineUnreachable, "the simulated engine went down (sim.engine_down)"))
        }
    }

    /// The container `id` as it is now, whether or not the engine is up (what a fault from
    /// outside acts on).
    public func peek(_ id: String) -> Container? {
        world.withLock { $0.containers[id] }
    }

    /// The id of the container a name (the engine's) or id prefix names, or nil.
    public func id(of reference: String) -> String? {
        world.withLock { world in
            if let byName = world.containers.values.first(where: { $0.name == reference }) { return byName.id }
            guard ContainerName.isIDPrefix(reference) else { return nil }
            return world.containers.keys.first { $0.hasPrefix(reference) }
        }
    }

    // MARK: How things change

    private func start(_ id: String, restarting: Bool) {
        let started: Container? = world.withLock { world in
            guard var container = world.containers[id], container.state == "created" || container.state == "exited" else { return nil }
            container.state = "running"
            container.generation += 1
            container.startedAt = clock.epochSeconds
            container.stoppedOnPurpose = false
            container.oomKilled = false
            if restarting { container.restartCount += 1 }
            container.health = container.config.healthcheck == nil ? nil : "starting"
            container.failingStreak = 0
            world.containers[id] = container
            emit(.start, container, to: world)
            return container
        }
        if let started { scheduleProbes(started) }
    }

    /// The healthcheck's probes, every `interval` from the start (the engine's default,
    /// 30 s, when the config has none) while this run of the container lasts: a passing
    /// probe (unless ``setHealth(_:healthy:)`` decided otherwise) makes it healthy and ends
    /// the streak; `retries` failing ones in a row (default 3; failures within
    /// `start_period` of a starting container do not count) make it unhealthy. A paused
    /// container is not probed.
    private func scheduleProbes(_ container: Container) {
        guard let healthcheck = container.config.healthcheck else { return }
        let interval = Duration.milliseconds(Int64(((healthcheck.interval.flatMap { $0 > 0 ? $0 : nil } ?? 30) * 1000).rounded()))
        let retries = max(healthcheck.retries ?? 3, 1)
        let startPeriodEnds = clock.now + .milliseconds(Int64(((healthcheck.startPeriod ?? 0) * 1000).rounded()))
        // Due from the start (not from when the task runs), and the world's own wait,
        // registered before a virtual clock can move.
        let due = clock.now
        clock.task { [self, due] in
            var due = due
            while true {
                due += interval
                // A clock stopped (the test is over) ends the probes.
                guard (try? await clock.sleep(until: due)) != nil else { return }
                let lasts = world.withLock { world in
                    guard var current = world.containers[container.id], current.generation == container.generation,
                          current.state == "running" || current.state == "paused" else { return false }
                    guard current.state == "running" else { return true }
                    let passes = current.healthDecided ?? true
                    current.failingStreak = passes ? 0 : current.failingStreak + (current.health == "starting" && clock.now < startPeriodEnds ? 0 : 1)
                    let verdict = passes ? "healthy" : current.failingStreak >= retries ? "unhealthy" : current.health
                    let changed = verdict != current.health
                    current.health = verdict
                    world.containers[container.id] = current
                    if changed { emit(.health(healthy: passes), current, to: world) }
                    return true
                }
                guard lasts else { return }
            }
        }
    }

    /// The process ends with `exitCode`: the container exits, `events` are told, and the
    /// restart policy may start it again.
    private func end(_ id: String, exitCode: Int, events: [ContainerEvent.Action], onPurpose: Bool, oomKilled: Bool = false) {
        let ended: Container? = world.withLock { world in
            guard var container = world.containers[id], container.state == "running" || container.state == "paused" else { return nil }
            container.state = "exited"
            container.exitCode = exitCode
            container.oomKilled = oomKilled
            container.health = nil
            container.finishedAt = clock.epochSeconds
            container.stoppedOnPurpose = onPurpose
            world.containers[id] = container
            for action in events { emit(action, container, to: world) }
            return container
        }
        guard let ended else { return }
        if !onPurpose, Self.restartsAfter(exitCode: exitCode, policy: ended.config.restart) { scheduleRestart(ended) }
    }

    private func scheduleRestart(_ container: Container) {
        let deadline = clock.now + .milliseconds(100)
        clock.task { [self] in
            guard (try? await clock.sleep(until: deadline)) != nil else { return }
            let due = world.withLock { world in
                world.containers[container.id].map { $0.generation == container.generation && $0.state == "exited" && !$0.stoppedOnPurpose } ?? false
            }
            if due { start(container.id, restarting: true) }
        }
    }

    /// Whether the engine's restart policy starts a container again after this exit.
    static func restartsAfter(exitCode: Int, policy: String?) -> Bool {
        switch policy {
        case "always", "unless-stopped": true
        case let policy? where policy.hasPrefix("on-failure"): exitCode != 0
        default: false
        }
    }

    /// Tells the subscribers of the container's project of `action`. Called with the world
    /// locked, in the same step as the change, so the events are one sequence, as the
    /// engine's log is.
    private func emit(_ action: ContainerEvent.Action, _ container: Container, to world: World) {
        let event = ContainerEvent(action: action, id: container.id, name: Project.scriptName(container.name, labels: container.labels),
                                   dockerName: container.name, timeNano: Int64(clock.epochSeconds * 1e9))
        let project = Project.named(by: container.labels)
        for subscriber in world.subscribers.values where subscriber.project == project {
            subscriber.send(event)
        }
    }

    /// Ids as the engine makes them: 64 hex digits, different in their first 12.
    private static func id(_ number: Int) -> String {
        let hex = String(number, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex + String(repeating: "5", count: 52)
    }
}
