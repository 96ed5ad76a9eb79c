extension Orchestrator {
    /// Probes the container `containerID` with `probe` every interval until one probe says
    /// ready, the container stops or goes (looked at once a second), or `timeout` passes:
    /// `.notReady` then says why, with the last probe's answer.
    public func waitReady(_ containerID: String, probe: ReadinessProbe, timeout: Duration) async -> ProbeAnswer {
        let session = readinessSession(containerID, probe: probe)
        defer { session.close() }
        let outcome = await probeUntilReady(session, probe: probe, deadline: clock.now + timeout, anchor: clock.now) {
            let status = (try? await healthCheck(containerID)) ?? .error
            return status == .stopped || status == .error ? status.rawValue : nil
        }
        switch outcome {
        case .ready: return .ready
        case .gone(let status): return .notReady("\(status) (\(probe.summary))")
        case .timedOut(let last): return .notReady("\(probe.summary): \(last)")
        case .cancelled: return .notReady("cancelled")
        }
    }
}
