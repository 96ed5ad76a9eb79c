import Foundation

extension SwarmOrchestrator {
    /// What every task of the service wrote, from every node (`/services/{id}/logs`).
    /// Refused: a service's tasks come and go on many nodes; ``logs(_:tail:)`` prints what
    /// every task wrote so far.
    public func followLogs(_ containerID: String, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws {
        throw DockerError(.invalidConfig, "following a service's output is not supported on a swarm; without following, every task's output so far is shown")
    }

    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput {
        let service = try await managedService(containerID)
        let response = try await client.request(.GET, "/services/\(service.ID)/logs", query: [
            ("stdout", "1"), ("stderr", "1"), ("tail", tail.map(String.init) ?? "all"),
        ])
        guard response.succeeded else { throw response.failure("cannot read the logs of \(service.name)") }
        var streams = StreamDemultiplexer()
        streams.append(response.body)
        return streams.finish()
    }

    /// Runs `command` in the first running task of the service on the manager's node.
    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult {
        let (service, containers) = try await localTaskContainers(containerID, for: "exec")
        return try await manager.exec(inContainer: containers[0].id, named: "\(service.name).\(containers[0].slot)", command: command)
    }

    /// Sends `signal` to every running task of the service on the manager's node.
    public func killContainer(_ containerID: String, signal: String) async throws {
        try await eachLocalTask(containerID, "kill", path: "kill", query: [("signal", signal)])
    }

    /// Freezes every running task of the service on the manager's node.
    public func pauseContainer(_ containerID: String) async throws {
        try await eachLocalTask(containerID, "pause", path: "pause")
    }

    /// Thaws every paused task of the service on the manager's node.
    public func unpauseContainer(_ containerID: String) async throws {
        try await eachLocalTask(containerID, "unpause", path: "unpause")
    }

    private func eachLocalTask(_ reference: String, _ verb: String, path: String, query: [(String, String)] = []) async throws {
        let (service, containers) = try await localTaskContainers(reference, for: verb)
        for container in containers {
            let response = try await client.request(.POST, "/containers/\(container.id)/\(path)", query: query)
            guard response.succeeded else { throw response.failure("cannot \(verb) \(service.name).\(container.slot)") }
        }
    }

    /// The containers of the service's running tasks on the manager's node, by slot.
    ///
    /// - Throws: ``DockerError/Code/conflict`` when it has none there, naming the nodes
    ///   its tasks run on (heph reaches containers only through the manager's engine).
    private func localTaskContainers(_ reference: String, for verb: String) async throws -> (EngineService, [(id: String, slot: Int)]) {
        let service = try await managedService(reference)
        let node = try await managerNodeID()
        let running = try await tasks(of: [service.ID]).filter { $0.isCurrent && $0.Status.State == "running" }
        let local = running.filter { $0.NodeID == node }.compactMap { task in
            task.Status.ContainerStatus?.ContainerID.map { (id: $0, slot: task.Slot ?? 0) }
        }.sorted { $0.slot < $1.slot }
        guard local.isEmpty else { return (service, local) }
        guard !running.isEmpty else {
            throw DockerError(.conflict, "cannot \(verb) \(service.name): no task of it is running")
        }
        var nodes: [String] = []
        for task in running { nodes.append(await placement(of: task).node) }
        throw DockerError(.conflict, "cannot \(verb) \(service.name) from here: its running tasks are on \(Set(nodes).sorted().joined(separator: ", ")), and heph reaches task containers only on the manager it talks to; point DOCKER_HOST at that node's engine", remedy: .restartRolling)
    }
}
