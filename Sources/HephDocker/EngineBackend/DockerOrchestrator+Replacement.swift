extension DockerOrchestrator {
    /// One container per config: `replicas` other than 1 needs the Swarm backend.
    public func checkSupported(_ config: ContainerConfig) throws {
        try config.checkOneContainer(in: project)
    }

    public func fingerprint(of config: ContainerConfig) throws -> String {
        try config.fingerprint()
    }

    /// Removes `existing`, then creates and starts the new container; one that cannot start
    /// (a host port taken) is removed again, so the rerun after the fix creates it afresh.
    public func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String {
        try await removeContainer(existing.id)
        let id = try await createContainer(config)
        do {
            try await startContainer(id)
        } catch {
            // In a task of its own: a cancellation of this one must not stop the cleanup.
            if !Task.isCancelled { await Task { try? await self.removeContainer(id) }.value }
            throw error
        }
        return id
    }

    public func restartsAfterExit(_ config: ContainerConfig) -> Bool {
        config.engineRestartsAfterExit
    }
}

extension ContainerConfig {
    /// Whether one engine starts this container again after it stops: its restart policy
    /// is anything but `no` (or none).
    var engineRestartsAfterExit: Bool {
        restart.map { $0 != "no" } ?? false
    }
}

extension ContainerConfig {
    /// What the engine backend cannot do: `replicas` other than 1 needs a swarm.
    public func checkOneContainer() throws {
        if let replicas, replicas != 1 {
            throw DockerError(.invalidConfig, "config.replicas: \(replicas) tasks need the swarm backend; this engine runs one container per service", remedy: .useBackend(.swarm))
        }
    }

    /// ``checkOneContainer()``, and that its names fit the engine in `project`.
    func checkOneContainer(in project: Project) throws {
        try checkOneContainer()
        _ = try engineCreation(in: project)
    }
}
