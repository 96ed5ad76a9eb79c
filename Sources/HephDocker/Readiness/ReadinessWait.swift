extension Orchestrator {
    /// Probes the container `containerID` with `probe` every interval until one probe says
    /// ready, the container stops or goes (looked at once a second), or `timeout` passes:
    /// `.notReady` then says why, with the last probe's answer.
    public func waitReady(_ containerID: String, probe: ReadinessProbe, timeout: Duration) async -> ProbeAnswer {
        let session = readinessSession(containerID, probe: probe)
        defer { session.close() }
        let deadline = clock.now + timeout
        var nextLook = clock.now + .seconds(1)
        var last = "no probe has answered yet"
        while true {
            if Task.isCancelled { return .notReady("cancelled") }
            let began = clock.now
            switch await session.probe() {
            case .ready: return .ready
            case .notReady(let why): last = why
            }
            if clock.now >= nextLook {
                nextLook = clock.now + .seconds(1)
                let status = (try? await healthCheck(containerID)) ?? .error
                if status == .stopped || status == .error { return .notReady("\(status.rawValue) (\(probe.summary): \(last))") }
            }
            if clock.now >= deadline { return .notReady("\(probe.summary): \(last)") }
            do {
                try await clock.sleep(until: min(deadline, began + probe.effectiveInterval))
            } catch {
                return .notReady("cancelled")
            }
        }
    }
}
