extension DockerOrchestrator {
    public func createContainer(_ config: ContainerConfig) async throws -> String {
        onAction("create_container")
        let neutral = try config.neutralCreation()
        try config.validateSwarmServiceOptions()
        try config.checkOneContainer()
        var creation = try neutral.placed(in: project, foreignVolumes: [])
        if !project.isDefault, !creation.namedVolumes.isEmpty {
            creation = try neutral.placed(in: project, foreignVolumes: try await foreignVolumes(creation.namedVolumes))
        }
        // The engine accepts a container on a missing network and fails only at start, so
        // make sure the network is there first.
        try await ensureNetwork(creation.network)
        var pulled = false
        let body = if try await onPodman() { try await preparedForPodman(creation.body) } else { creation.body }
        while true {
            let response = try await client.request(.POST, "/containers/create", query: [("name", creation.fullName)], json: body)
            if response.succeeded { return try response.decode(EngineCreated.self).Id }
            if response.status == .notFound, response.engineMessage.lowercased().hasPrefix("no such image"), !pulled {
                try await pullImage(creation.image, as: config.image)
                pulled = true
                continue
            }
            throw createFailure(response, creation)
        }
    }

    public func startContainer(_ containerID: String) async throws {
        onAction("start_container")
        let container = try await managedContainer(containerID)
        var response = try await client.request(.POST, "/containers/\(container.Id)/start")
        // "network heph-network not found": removed behind this process's back (another
        // heph's teardown). "… is ambiguous": processes raced to create it, and their
        // creates may still be landing. Either way, settle the network and try again.
        var attempt = 0
        while !response.succeeded, response.engineMessage.hasPrefix("network \(project.networkEngineName) "), attempt < Self.networkSettleAttempts {
            attempt += 1
            forgetNetwork()
            try await createNetwork()
            response = try await client.request(.POST, "/containers/\(container.Id)/start")
            if !response.succeeded { try await clock.sleep(for: .milliseconds(100 * attempt)) }
        }
        guard response.succeeded else {
            var failure = response.failure("cannot start \(container.name)")
            if response.engineMessage.contains("port is already allocated") || response.engineMessage.contains("address already in use") {
                failure.code = .conflict
            }
            throw failure
        }
        try await trackHealthOnPodman(container.Id)
    }

    /// How often a start settles the network and retries (backing off 0.1 s, 0.2 s, …).
    static let networkSettleAttempts = 8

    public func stopContainer(_ containerID: String, timeout: Duration) async throws {
        onAction("stop_container")
        let container = try await managedContainer(containerID)
        try await stop(id: container.Id, name: container.name, timeout: timeout)
    }

    public func removeContainer(_ containerID: String) async throws {
        onAction("remove_container")
        let container = try await managedContainer(containerID)
        try await remove(id: container.Id, name: container.name, state: container.State.Status)
    }

    public func listContainers() async throws -> [ContainerInfo] {
        try await managedSummaries().map(ContainerInfo.init(summary:)).sorted { $0.name < $1.name }
    }

    public func inspectContainer(_ containerID: String) async throws -> ContainerInfo {
        ContainerInfo(inspect: try await managedContainer(containerID))
    }

    public func healthCheck(_ containerID: String) async throws -> ContainerStatus {
        do {
            let container = try await managedContainer(containerID)
            return ContainerStatus(engineState: container.State.Status, health: container.State.Health?.Status)
        } catch let error as DockerError where error.code == .notFound {
            return .error
        }
    }

    /// `POST /containers/{id}/stop?t=N`: the engine answers only once the container has
    /// stopped, so the request may wait N seconds plus a margin.
    func stop(id: String, name: String, timeout: Duration) async throws {
        let seconds = max(0, Int((timeout / .seconds(1)).rounded(.up)))
        let response = try await client.request(.POST, "/containers/\(id)/stop", query: [("t", String(seconds))], timeout: .seconds(seconds + 30))
        guard response.succeeded else {
            throw response.failure("cannot stop \(name)")
        }
    }

    /// Stops a container that runs (gracefully, ``stopTimeout``), then removes it. A
    /// container that is gone meanwhile counts as removed.
    func remove(id: String, name: String, state: String) async throws {
        if ["running", "paused", "restarting"].contains(state) {
            // A failed graceful stop is not fatal: the forced removal below still ends it.
            do { try await stop(id: id, name: name, timeout: stopTimeout) } catch let error as DockerError {
                logger.debug("graceful stop of \(name) failed, removing by force: \(error)")
            }
        }
        let response = try await client.request(.DELETE, "/containers/\(id)", query: [("force", "1")])
        if response.succeeded || response.status == .notFound { return }
        if response.status == .conflict, response.engineMessage.contains("already in progress") { return }
        throw response.failure("cannot remove \(name)")
    }

    /// Which of the named volumes `names` (as a config writes them) exist already and are not
    /// heph's: a project mounts those as written, and its own as `heph_P_NAME`.
    private func foreignVolumes(_ names: [String]) async throws -> Set<String> {
        var foreign: Set<String> = []
        for name in Set(names) {
            let response = try await client.request(.GET, "/volumes/\(name)")
            if response.status == .notFound { continue }
            guard response.succeeded else { throw response.failure("cannot inspect volume \(name)") }
            if try response.decode(EngineVolumeList.Volume.self).Labels?[managedLabel] != "true" { foreign.insert(name) }
        }
        return foreign
    }

    /// Turns a failed create into words: a taken name, a missing bind source, a missing network.
    private func createFailure(_ response: EngineResponse, _ creation: ContainerCreation) -> DockerError {
        let message = response.engineMessage
        if response.status == .conflict {
            return DockerError(.conflict, "a container named \(creation.fullName) already exists; remove it first or choose another name")
        }
        if let range = message.range(of: "bind source path does not exist: ") {
            let path = message[range.upperBound...]
            return DockerError(.invalidConfig, "config.volumes: host path \(quoted(path)) does not exist on the engine's host; create it first (bind mounts are never created for you)")
        }
        return response.failure("cannot create \(creation.fullName)")
    }
}
