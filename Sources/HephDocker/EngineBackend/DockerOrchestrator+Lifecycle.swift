extension DockerOrchestrator {
    public func restartContainer(_ containerID: String, timeout: Duration) async throws {
        onAction("restart_container")
        let container = try await managedContainer(containerID)
        let seconds = max(0, Int((timeout / .seconds(1)).rounded(.up)))
        // The engine's restart is a stop (waiting up to `t`) then a start, under one id.
        let response = try await client.request(.POST, "/containers/\(container.Id)/restart", query: [("t", String(seconds))], timeout: .seconds(seconds + 30))
        guard response.succeeded else { throw response.failure("cannot restart \(container.name)") }
        try await trackHealthOnPodman(container.Id)
    }

    public func killContainer(_ containerID: String, signal: String) async throws {
        onAction("kill_container")
        let container = try await managedContainer(containerID)
        let response = try await client.request(.POST, "/containers/\(container.Id)/kill", query: [("signal", signal)])
        guard response.succeeded else { throw response.failure("cannot kill \(container.name)") }
    }

    public func pauseContainer(_ containerID: String) async throws {
        onAction("pause_container")
        let container = try await managedContainer(containerID)
        let response = try await client.request(.POST, "/containers/\(container.Id)/pause")
        guard response.succeeded else { throw response.failure("cannot pause \(container.name)") }
    }

    public func unpauseContainer(_ containerID: String) async throws {
        onAction("unpause_container")
        let container = try await managedContainer(containerID)
        let response = try await client.request(.POST, "/containers/\(container.Id)/unpause")
        guard response.succeeded else { throw response.failure("cannot unpause \(container.name)") }
    }
}
