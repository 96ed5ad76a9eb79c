import Foundation
import Synchronization

/// Runs the healthchecks of Podman's containers, which Podman itself runs only from systemd
/// timers: without systemd a container's health stays `starting` forever (docs/engines.md).
///
/// heph runs each check through Podman's own endpoint (`GET /libpod/containers/ID/healthcheck`),
/// which keeps the container's health as Podman would (retries, start period, the log),
/// every `interval`, for each running managed container with a healthcheck that this
/// process started, saw start on its event stream, or (while it follows the stream: a
/// watcher) found running in a list. A one-shot command (`heph ps`) runs none: it reads the
/// health Podman last recorded. A verdict that changes reaches this process's event streams as dockerd's
/// `health_status` event would. Podman's own `health_status` events are not used: each is
/// written as a check starts, with the verdict of the one before.
///
/// Inert on dockerd: nothing calls it there.
final class PodmanHealthchecks: Sendable {
    /// A container whose healthcheck heph runs.
    struct Tracked: Sendable {
        var name: String
        var dockerName: String
        var interval: Duration
        var timeout: Duration
        var due: ContinuousClock.Instant
        /// `starting`, `healthy` or `unhealthy`, as the last inspect after a check said.
        var health: String
        var checking = false
    }

    private struct State {
        var tracked: [String: Tracked] = [:]
        /// Running containers seen without a healthcheck: not inspected again.
        var withoutCheck: Set<String> = []
        var listeners: [Int: @Sendable (ContainerEvent) -> Void] = [:]
        var nextListener = 0
        var loop: Task<Void, Never>?
        /// The checks running now, cancelled by ``close()``.
        var checks: [String: Task<Void, Never>] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Docker's defaults for a healthcheck's zero interval and timeout.
    static let defaultPeriod: Duration = .seconds(30)
    /// The longest the loop sleeps: a container tracked meanwhile is checked that late at most.
    static let longestSleep: Duration = .seconds(1)

    /// The health heph last saw of container `id`; nil when it runs no check of it.
    func health(of id: String) -> String? {
        state.withLock { $0.tracked[id]?.health }
    }

    /// `summaries` with the health of the running ones in their `Status` text, as dockerd
    /// writes it (`Up 3 seconds (healthy)`). A running container not seen before is
    /// inspected for it; while this process follows the event stream, one with a
    /// healthcheck is checked from then on.
    func annotate(_ summaries: [EngineContainerSummary], orchestrator: DockerOrchestrator) async -> [EngineContainerSummary] {
        var annotated: [EngineContainerSummary] = []
        let watching = state.withLock { !$0.listeners.isEmpty }
        for var summary in summaries {
            if summary.State == "running" {
                let seen = state.withLock { $0.tracked[summary.Id] != nil || $0.withoutCheck.contains(summary.Id) }
                var health = health(of: summary.Id)
                if !seen {
                    if watching {
                        await track(summary.Id, orchestrator: orchestrator)
                        health = self.health(of: summary.Id)
                    } else {
                        health = try? await Self.inspect(summary.Id, orchestrator.client).State.Health?.Status
                    }
                }
                if let health, health == "healthy" || health == "unhealthy" {
                    summary.Status += " (\(health))"
                }
            } else {
                forget(summary.Id)
            }
            annotated.append(summary)
        }
        return annotated
    }

    /// Starts checking container `id` if it runs and has a healthcheck: its first check
    /// one interval from now, as the engine would after a start.
    func track(_ id: String, orchestrator: DockerOrchestrator) async {
        guard let container = try? await Self.inspect(id, orchestrator.client), container.State.Status == "running" else { return }
        guard let check = container.Config.Healthcheck, let test = check.Test?.first, test != "NONE" else {
            state.withLock { _ = $0.withoutCheck.insert(container.Id) }
            return
        }
        let interval = check.Interval.flatMap { $0 > 0 ? Duration.nanoseconds($0) : nil } ?? Self.defaultPeriod
        let timeout = check.Timeout.flatMap { $0 > 0 ? Duration.nanoseconds($0) : nil } ?? Self.defaultPeriod
        let dockerName = String(container.Name.drop { $0 == "/" })
        let tracked = Tracked(name: Project.scriptName(dockerName, labels: container.Config.Labels), dockerName: dockerName, interval: interval, timeout: timeout,
                              due: ContinuousClock.now + interval, health: container.State.Health?.Status ?? "starting")
        let start = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if state.tracked[container.Id] == nil { state.tracked[container.Id] = tracked }
            guard state.loop == nil else { return false }
            return true
        }
        if start {
            let loop = Task { await self.run(orchestrator: orchestrator) }
            state.withLock { state in
                if state.loop == nil, !state.closed { state.loop = loop } else { loop.cancel() }
            }
        }
    }

    /// Container `id` as the engine has it now (control traffic: it never waits for a slot).
    static func inspect(_ id: String, _ client: EngineClient) async throws -> EngineContainerInspect {
        try await EngineLane.asControl { try await client.request(.GET, "/containers/\(id)/json").decode(EngineContainerInspect.self) }
    }

    /// Stops checking container `id` (it stopped, or is gone).
    func forget(_ id: String) {
        state.withLock { state in
            state.tracked[id] = nil
            state.withoutCheck.remove(id)
        }
    }

    /// Hears every verdict that changes, until ``stopListening(_:)``.
    func listen(_ listener: @escaping @Sendable (ContainerEvent) -> Void) -> Int {
        state.withLock { state in
            defer { state.nextListener += 1 }
            state.listeners[state.nextListener] = listener
            return state.nextListener
        }
    }

    func stopListening(_ token: Int) {
        _ = state.withLock { $0.listeners.removeValue(forKey: token) }
    }

    /// Stops every check; for the orchestrator's close.
    func close() {
        let (loop, checks) = state.withLock { state in
            state.closed = true
            defer { state.loop = nil; state.checks = [:] }
            return (state.loop, Array(state.checks.values))
        }
        loop?.cancel()
        for check in checks { check.cancel() }
    }

    /// Runs each check as it falls due, each container's one at a time.
    private func run(orchestrator: DockerOrchestrator) async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let due = state.withLock { state -> [String] in
                let ids = state.tracked.filter { !$0.value.checking && $0.value.due <= now }.map(\.key)
                for id in ids { state.tracked[id]?.checking = true }
                return ids
            }
            for id in due {
                let check = Task { await self.check(id, orchestrator: orchestrator) }
                state.withLock { state in
                    if state.closed { check.cancel() } else { state.checks[id] = check }
                }
            }
            let next = state.withLock { $0.tracked.values.filter { !$0.checking }.map(\.due).min() } ?? now + Self.longestSleep
            let wake = min(max(next, now + .milliseconds(10)), now + Self.longestSleep)
            try? await Task.sleep(until: wake, clock: .continuous)
        }
    }

    /// One check of container `id`, then its health as Podman now keeps it.
    private func check(_ id: String, orchestrator: DockerOrchestrator) async {
        defer { _ = state.withLock { $0.checks.removeValue(forKey: id) } }
        guard let timeout = state.withLock({ $0.tracked[id]?.timeout }) else { return }
        let client = orchestrator.client
        // nil: unanswered, tried again next interval. Otherwise the container's state (nil:
        // gone) and health after the check.
        let verdict = try? await EngineLane.asControl { () async throws -> (state: String?, health: String?) in
            // Podman waits for the check however long it takes: its own timeout is not kept.
            // Its answer is 409 for a paused or stopped container: the inspect tells which.
            _ = try await client.request(.GET, "/libpod/containers/\(id)/healthcheck", timeout: timeout + .seconds(10))
            let inspected = try await client.request(.GET, "/containers/\(id)/json")
            if inspected.status == .notFound { return (nil, nil) }
            let container = try inspected.decode(EngineContainerInspect.self)
            return (container.State.Status, container.State.Health?.Status)
        }
        let event = state.withLock { state -> (ContainerEvent, [@Sendable (ContainerEvent) -> Void])? in
            guard var tracked = state.tracked[id] else { return nil }
            guard let verdict, verdict.state == "running" else {
                if let verdict, verdict.state != "paused" {
                    // Stopped or gone: checked again once it starts (a start event, a list).
                    state.tracked[id] = nil
                } else {
                    tracked.checking = false
                    tracked.due = ContinuousClock.now + tracked.interval
                    state.tracked[id] = tracked
                }
                return nil
            }
            let before = tracked.health
            tracked.health = verdict.health ?? before
            tracked.checking = false
            tracked.due = ContinuousClock.now + tracked.interval
            state.tracked[id] = tracked
            guard tracked.health != before, tracked.health == "healthy" || tracked.health == "unhealthy" else { return nil }
            let event = ContainerEvent(action: .health(healthy: tracked.health == "healthy"), id: id, name: tracked.name, dockerName: tracked.dockerName,
                                       timeNano: Int64(Date().timeIntervalSince1970 * 1e9))
            return (event, Array(state.listeners.values))
        }
        if let (event, listeners) = event {
            for listener in listeners { listener(event) }
        }
    }
}
