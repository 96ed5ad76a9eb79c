/// What one readiness probe found.
public enum ProbeAnswer: Sendable, Equatable {
    case ready
    /// Not yet, and why: `connection refused`, `answered 503`.
    case notReady(String)
}

/// A series of probes of one container (``Orchestrator/readinessSession(_:probe:)``), one
/// at a time: what a probe needs to keep between tries (the container's address, how to
/// reach it, the output seen so far) lives here.
public protocol ReadinessSession: Sendable {
    /// One probe, within the probe's timeout.
    func probe() async -> ProbeAnswer
    /// Probes every `interval` until one passes or the next would begin after `until`;
    /// the last answer. (A session that can repeat probes more cheaply than one task
    /// waking for each does so.)
    func probe(every interval: Duration, until: ContinuousClock.Instant, clock: any HephClock) async -> ProbeAnswer
    /// Ends what the session keeps running (a log follower).
    func close()
}

extension ReadinessSession {
    public func probe(every interval: Duration, until: ContinuousClock.Instant, clock: any HephClock) async -> ProbeAnswer {
        await probeRepeatedly(every: interval, until: until, clock: clock)
    }

    /// ``probe(every:until:clock:)`` as one ``probe()`` after another, `interval` apart by `clock`.
    func probeRepeatedly(every interval: Duration, until: ContinuousClock.Instant, clock: any HephClock) async -> ProbeAnswer {
        while true {
            let began = clock.now
            let answer = await probe()
            if answer == .ready || Task.isCancelled || began + interval > until { return answer }
            do {
                try await clock.sleep(until: began + interval)
            } catch {
                return answer
            }
        }
    }
}

extension Orchestrator {
    /// Probes with `session` until it passes (nil), `deadline` passes, or `gone` (asked
    /// once a second, and at the deadline) says why the container cannot get ready: that
    /// reason, or the last probe's answer at the deadline. The looks fall on whole seconds
    /// after `anchor`: the services of one `heph.up` look together, in one round of its
    /// shared board.
    func probeUntilReady(_ session: any ReadinessSession, probe: ReadinessProbe, deadline: ContinuousClock.Instant, anchor: ContinuousClock.Instant,
                         gone: () async throws -> String?) async rethrows -> ProbeWait {
        var last = "no probe has answered yet"
        while true {
            if Task.isCancelled { return .cancelled }
            let seconds = ((clock.now - anchor) / .seconds(1)).rounded(.down) + 1
            let nextLook = min(deadline, anchor + .seconds(seconds))
            switch await session.probe(every: probe.effectiveInterval, until: nextLook, clock: clock) {
            case .ready: return .ready
            case .notReady(let why): last = why
            }
            if let reason = try await gone() { return .gone(reason) }
            if clock.now >= deadline { return .timedOut(last) }
            // Back early (an address found unreachable, to be looked up again): not at once.
            if clock.now < nextLook { try? await clock.sleep(until: min(nextLook, clock.now + probe.effectiveInterval)) }
        }
    }
}

/// How ``Orchestrator/probeUntilReady(_:probe:deadline:gone:)`` ended.
enum ProbeWait: Equatable {
    case ready
    /// The container cannot get ready any more, and why.
    case gone(String)
    /// The deadline passed; the last probe's answer.
    case timedOut(String)
    case cancelled
}

/// Readiness where a backend does not probe itself (a swarm's services, the dry run): the
/// container's own status, healthy or running, as `heph.wait_healthy` sees it.
struct StatusReadinessSession: ReadinessSession {
    let orchestrator: any Orchestrator
    let containerID: String

    func probe() async -> ProbeAnswer {
        do {
            let status = try await orchestrator.healthCheck(containerID)
            return status == .healthy || status == .running ? .ready : .notReady(status.rawValue)
        } catch {
            return .notReady(DockerError(error).message)
        }
    }

    func close() {}
}

extension Orchestrator {
    public func readinessSession(_ containerID: String, probe: ReadinessProbe) -> any ReadinessSession {
        StatusReadinessSession(orchestrator: self, containerID: containerID)
    }
}
