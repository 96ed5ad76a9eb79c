/// The probe containers of one orchestrator: one per network whose containers heph cannot
/// reach itself (``LocalBridges``), made on first need and held as a lease is
/// (``HeldContainer``): it runs the system image, carries the role `probe` (so lists and
/// teardowns never see it) and goes when this process releases it or ends in any way.
actor ProbeContainerPool {
    private var held: [String: Task<HeldContainer, any Error>] = [:]

    /// The probe container on `network`, made or made again when needed.
    func container(on network: String, client: EngineClient, project: Project) async throws -> HeldContainer {
        if let task = held[network] {
            if let container = try? await task.value, container.isHeld { return container }
            held[network] = nil
        }
        let task = Task {
            let identity = WatcherIdentity.current
            let name = RoleObject.probe.engineName(project: project, instance: identity.instance) + "." + network
            for _ in 0..<2 {
                if let container = try await HeldContainer.hold(client, name: name, labels: RoleObject.probe.labels(project: project, identity: identity),
                                                                timing: .registry, network: network) {
                    return container
                }
                // This process's own, ended but not yet removed: its name is free in a moment.
                _ = try? await EngineLane.asControl { try await client.request(.DELETE, "/containers/\(name)", query: [("force", "1")]) }
            }
            throw DockerError(.conflict, "cannot make the probe container \(name): the name stays taken")
        }
        held[network] = task
        return try await task.value
    }

    /// Lets every probe container go (the orchestrator closing).
    func releaseAll() async {
        let tasks = held.values
        held = [:]
        for task in tasks { await (try? task.value)?.release() }
    }
}
