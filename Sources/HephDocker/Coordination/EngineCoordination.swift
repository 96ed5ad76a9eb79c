import Foundation
import Synchronization

/// Coordination through the engine alone (docs/ha.md): no shared file system, so watchers
/// on other hosts talking to the same engine coordinate too.
public final class EngineCoordination: Coordination {
    /// A lease container found in `created` (its maker died between create and start) is
    /// taken for abandoned this long after its creation, by the engine's clock.
    static let abandonedAfter: Double = 10
    /// How long a standby's wait for the lease's end lasts before it looks again.
    static let waitSlice: Duration = .seconds(30)

    public let state: any ProjectStateStore
    private let client: EngineClient
    private let project: Project
    private let identity: WatcherIdentity
    private let lease = Mutex<HeldContainer?>(nil)
    /// The registry entry's upkeep: its task, the entry held now, and whether to stop.
    private let registration = Mutex<(task: Task<Void, Never>?, held: HeldContainer?, stopped: Bool)>((nil, nil, false))

    /// Coordination of `project` through `client`, as `identity` (this process).
    public init(client: EngineClient, project: Project, identity: WatcherIdentity = .current) {
        self.client = client
        self.project = project
        self.identity = identity
        state = EngineStateStore(client: client, project: project)
    }

    private var leaseName: String { RoleObject.lease.engineName(project: project) }

    public func campaign(announce: @escaping @Sendable (String) -> Void) async throws -> any Leadership {
        // A lead this process lost is let go first: its container may still run.
        let previous = lease.withLock { lease in
            defer { lease = nil }
            return lease
        }
        await previous?.release()
        var announced: String?
        var failing: String?
        var seenCreated: [String: ContinuousClock.Instant] = [:]
        while true {
            try Task.checkCancellation()
            do {
                if let held = try await HeldContainer.hold(client, name: leaseName, labels: RoleObject.lease.labels(project: project, identity: identity), timing: .lease) {
                    // Leading means able to prove it: the first heartbeat came back.
                    guard await held.proven() else {
                        await held.release()
                        try Task.checkCancellation()
                        throw DockerError(.engineTimeout, "the lease's container did not echo its first heartbeat in time (a slow engine; or an image whose sh cannot read -t: busybox's or bash, not dash, in HEPH_SYSTEM_IMAGE)")
                    }
                    lease.withLock { $0 = held }
                    return held
                }
                failing = nil
                try await waitForLeaseEnd(seenCreated: &seenCreated) { holder in
                    let line = "standing by: project \(project.name) is led by \(holder)"
                    if line != announced { announce(line) }
                    announced = line
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Unreachable, slow, or refusing for now: stand by and try again. Only what
                // no retry mends ends the campaign (the system image missing, a bad config).
                let error = DockerError(error)
                if error.code == .invalidConfig || error.code == .imagePull { throw error }
                if failing != error.message { announce("standing by: \(error.message); trying again every second") }
                failing = error.message
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Looks at the lease that exists: waits for a running one to end, removes one that
    /// ended or was abandoned, and returns when the name may be free.
    private func waitForLeaseEnd(seenCreated: inout [String: ContinuousClock.Instant], holder: (String) -> Void) async throws {
        try await EngineLane.asControl {
            let inspected = try await client.request(.GET, "/containers/\(leaseName)/json")
            if inspected.status == .notFound { return }  // gone meanwhile
            guard inspected.succeeded else { throw inspected.failure("cannot look at the lease of project \(project.name)") }
            let lease = try inspected.decode(LeaseInspect.self)
            client.logger.debug("the lease \(leaseName) exists: \(lease.Id.prefix(12)) \(lease.State.Status), held by \(lease.Config.Labels?[WatcherLabel.instance] ?? "?")")
            // This process's own, from before (a lost lead, a create whose answer never came):
            // it holds none now, so the container is stale.
            if lease.Config.Labels?[WatcherLabel.instance] == identity.instance {
                try await remove(lease.Id, force: true)
                return
            }
            switch lease.State.Status {
            case "running":
                if let owner = WatcherIdentity(labels: lease.Config.Labels) {
                    holder("\(owner.host) pid \(owner.pid) (instance \(owner.instance))")
                }
                // Returns when the lease's container stops: its holder let go, died, froze
                // or was cut off for longer than the lease.
                do {
                    // Podman 4's compatible wait polls its database without pause, taking a
                    // core for as long as the lease lasts; its own wait looks every 250 ms.
                    let waited = if try await client.kind() == .podman {
                        try await client.request(.POST, "/libpod/containers/\(lease.Id)/wait", query: [("condition", "stopped"), ("condition", "exited"), ("interval", "250ms")], timeout: Self.waitSlice)
                    } else {
                        try await client.request(.POST, "/containers/\(lease.Id)/wait", query: [("condition", "not-running")], timeout: Self.waitSlice)
                    }
                    client.logger.debug("the wait for \(lease.Id.prefix(12)) ended: \(waited.status.code) \(String(buffer: waited.body))")
                    // Anything but the container's end (or its removal): look again (after
                    // a pause) rather than remove it.
                    guard waited.succeeded || waited.status == .notFound else { throw waited.failure("cannot wait for the lease of project \(project.name)") }
                } catch let error as DockerError where error.code == .engineTimeout {
                    return
                }
            case "created":
                // By the engine's clock; without its Date header, by how long this process
                // has seen it so.
                let abandoned: Bool
                if let engineNow = inspected.engineDate, let created = lease.Created.flatMap(EngineTimestamp.unixSeconds) {
                    abandoned = engineNow - created > Self.abandonedAfter
                } else {
                    let first = seenCreated[lease.Id] ?? ContinuousClock.now
                    seenCreated[lease.Id] = first
                    abandoned = ContinuousClock.now - first > .seconds(Self.abandonedAfter)
                }
                guard abandoned else {
                    try await Task.sleep(for: .milliseconds(200))
                    return
                }
            case "removing":
                try await Task.sleep(for: .milliseconds(50))
                return
            default:
                break
            }
            // By id: a lease taken meanwhile under the same name is another container. Not
            // forced (but a paused one, which can never answer): a maker that started it
            // since the look keeps it, as the engine refuses to remove a running container.
            client.logger.debug("removing the ended lease \(lease.Id.prefix(12)) (\(lease.State.Status))")
            try await remove(lease.Id, force: lease.State.Status == "paused")
        }
    }

    /// Removes the container `id`. Gone already is fine; a conflict (the engine removing it
    /// already, as `AutoRemove` does the moment a lease ends, or a maker that started it
    /// since the look) is looked at again after a moment; any other refusal is an error the
    /// campaign waits a second after.
    private func remove(_ id: String, force: Bool) async throws {
        let removed = try await client.request(.DELETE, "/containers/\(id)", query: force ? [("force", "1")] : [])
        if removed.succeeded || removed.status == .notFound { return }
        guard removed.status == .conflict else { throw removed.failure("cannot remove the ended lease of project \(project.name)") }
        try await Task.sleep(for: .milliseconds(50))
    }

    public func registerWatcher() {
        registration.withLock { registration in
            guard registration.task == nil, !registration.stopped else { return }
            registration.task = Task { await keepRegistered() }
        }
    }

    /// Holds this process's registry entry for as long as it runs, and makes it again after
    /// the engine restarts. Never cancelled mid-way (``close()`` asks it to stop): an entry
    /// left half made would stay `created`.
    private func keepRegistered() async {
        let name = RoleObject.watcher.engineName(project: project, instance: identity.instance)
        let labels = RoleObject.watcher.labels(project: project, identity: identity)
        await removeAbandonedEntries()
        var delay: Duration = .milliseconds(500)
        var failures = 0
        while !registration.withLock({ $0.stopped }) {
            do {
                if let held = try await HeldContainer.hold(client, name: name, labels: labels, timing: .registry) {
                    delay = .milliseconds(500)
                    failures = 0
                    let stopped = registration.withLock { registration in
                        if !registration.stopped { registration.held = held }
                        return registration.stopped
                    }
                    if stopped { await held.release() }
                    await held.ended()
                    registration.withLock { $0.held = nil }
                } else {
                    // An entry of this instance from before the engine restarted.
                    _ = try? await EngineLane.asControl { try await client.request(.DELETE, "/containers/\(name)", query: [("force", "1")]) }
                }
            } catch {
                // Unreachable, or refused: try again later; registering never fails a run.
                // Said once it has failed a few times in a row: heph status and attach miss it.
                failures += 1
                if failures == 3 {
                    client.logger.warning("cannot register this process as a watcher of project \(project.name) (heph status and heph attach do not see it until it can): \(error); trying again")
                }
            }
            let until = ContinuousClock.now + delay
            while ContinuousClock.now < until, !registration.withLock({ $0.stopped }) { try? await Task.sleep(for: .milliseconds(100)) }
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Removes the project's registry entries that never started (their process died
    /// between create and start) or ended without going, older than ``abandonedAfter`` by
    /// the engine's clock.
    private func removeAbandonedEntries() async {
        _ = try? await EngineLane.asControl {
            let filters = RoleObject.filter(labels: ["\(roleLabel)=\(RoleObject.watcher.rawValue)", "\(projectLabel)=\(project.name)"])
            let listed = try await client.request(.GET, "/containers/json", query: [("all", "1"), ("filters", filters)])
            guard listed.succeeded, let now = listed.engineDate else { return }
            for entry in try listed.decode([RegistryEntrySummary].self) where entry.State != "running" && now - Double(entry.Created) > Self.abandonedAfter {
                _ = try await client.request(.DELETE, "/containers/\(entry.Id)")  // not forced: a running one stays
            }
        }
    }

    public func watchers(allProjects: Bool) async throws -> [WatcherEntry] {
        try await client.watchers(project: allProjects ? nil : project)
    }

    public func roleObjects(allProjects: Bool) async throws -> [RoleObjectInfo] {
        try await client.roleObjects(project: allProjects ? nil : project)
    }

    public func close() async {
        let held = lease.withLock { lease in
            defer { lease = nil }
            return lease
        }
        await held?.release()
        let (task, entry) = registration.withLock { registration in
            registration.stopped = true
            return (registration.task, registration.held)
        }
        await entry?.release()
        guard let task else { return }  // never registered: nothing to remove
        // The upkeep stops at its next look; a call of its that hangs is not waited for past
        // a few seconds (its entry, if any, ends with this process's connection anyway).
        if await !Self.finishes(task, within: .seconds(3)) { task.cancel() }
        // An entry the upkeep made as it was told to stop.
        _ = try? await EngineLane.asControl {
            try await client.request(.DELETE, "/containers/\(RoleObject.watcher.engineName(project: project, instance: identity.instance))", query: [("force", "1")],
                                     timeout: .seconds(2))
        }
    }
}

extension EngineCoordination {
    /// Waits for `task` at most `limit`: true when it finished by then (else it goes on).
    static func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        let waiter = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            waiter.withLock { $0 = continuation }
            let answer: @Sendable (Bool) -> Void = { finished in waiter.withLock { $0.take() }?.resume(returning: finished) }
            Task {
                await task.value
                answer(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                answer(false)
            }
        }
    }
}

/// One entry of `GET /containers/json`, as the registry's upkeep reads it.
struct RegistryEntrySummary: Decodable, Sendable {
    var Id: String
    var State: String
    /// Unix seconds, by the engine's clock.
    var Created: Int
}

/// `GET /containers/{id}/json`, the part the lease campaign reads.
struct LeaseInspect: Decodable, Sendable {
    struct StateFields: Decodable, Sendable {
        var Status: String
    }

    struct ConfigFields: Decodable, Sendable {
        var Labels: [String: String]?
    }

    var Id: String
    var Created: String?
    var State: StateFields
    var Config: ConfigFields
}
