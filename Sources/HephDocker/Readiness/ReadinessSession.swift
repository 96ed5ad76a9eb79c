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
    /// Ends what the session keeps running (a log follower).
    func close()
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
