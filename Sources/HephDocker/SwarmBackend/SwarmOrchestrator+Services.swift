import Foundation

extension SwarmOrchestrator {
    /// Creates the service with no task running (``startContainer(_:)`` scales it up), after
    /// making sure its network exists. Returns the service's id.
    public func createContainer(_ config: ContainerConfig) async throws -> String {
        var spec = try config.serviceSpec(endpointMode: endpointMode, project: manager.project)
        _ = try await managerNodeID()
        spec.Mode = .init(Replicated: .init(Replicas: 0))
        let network = spec.TaskTemplate.Networks.first?.Target ?? manager.project.networkEngineName
        if network == manager.project.networkEngineName {
            try await createNetwork()
        } else {
            try await requireSwarmNetwork(network)
        }
        let response = try await client.request(.POST, "/services/create", json: spec)
        if response.succeeded { return try response.decode(EngineServiceCreated.self).ID }
        if response.status == .conflict {
            throw DockerError(.conflict, "a service named \(spec.Name) exists already; remove it or give this one another name", remedy: .removeFirst(spec.Name))
        }
        throw response.failure("cannot create service \(spec.Name)")
    }

    /// Scales the service to its replicas; one that runs them already is left alone.
    public func startContainer(_ containerID: String) async throws {
        let service = try await managedService(containerID)
        guard service.desiredReplicas != service.configuredReplicas || service.labels[SwarmLabel.state] != nil else { return }
        try await updateSpec(of: service) { spec in
            spec["Mode"] = ["Replicated": ["Replicas": service.configuredReplicas]]
            var labels = spec["Labels"] as? [String: Any] ?? [:]
            labels[SwarmLabel.state] = nil
            spec["Labels"] = labels
        }
    }

    /// Scales the service to 0 and waits until its tasks have stopped. Swarm stops each
    /// within the grace period the service was created with (``stopTimeout``); `timeout`
    /// bounds the wait.
    public func stopContainer(_ containerID: String, timeout: Duration) async throws {
        let service = try await managedService(containerID)
        if service.desiredReplicas != 0 || service.labels[SwarmLabel.state] != "stopped" {
            try await updateSpec(of: service) { spec in
                spec["Mode"] = ["Replicated": ["Replicas": 0]]
                var labels = spec["Labels"] as? [String: Any] ?? [:]
                labels[SwarmLabel.state] = "stopped"
                spec["Labels"] = labels
            }
        }
        try await waitForTasks(of: service, within: timeout + .seconds(20), "stop") { tasks in
            !tasks.contains { !Self.hasEnded($0.Status.State) }
        }
    }

    /// Removes the service and waits until Swarm has removed its tasks.
    public func removeContainer(_ containerID: String) async throws {
        let service = try await managedService(containerID)
        let response = try await client.request(.DELETE, "/services/\(service.ID)")
        guard response.succeeded || response.status == .notFound else { throw response.failure("cannot remove service \(service.name)") }
        try await waitForTasks(of: service, within: .seconds(60), "be removed") { $0.isEmpty }
    }

    /// A rolling restart: Swarm replaces every task by the service's update policy. A
    /// service at 0 replicas is started instead. Returns once the update completed.
    public func restartContainer(_ containerID: String, timeout: Duration) async throws {
        let service = try await managedService(containerID)
        guard service.desiredReplicas > 0 else { return try await startContainer(service.ID) }
        try await updateSpec(of: service) { spec in
            var template = spec["TaskTemplate"] as? [String: Any] ?? [:]
            template["ForceUpdate"] = ((template["ForceUpdate"] as? Int) ?? 0) + 1
            spec["TaskTemplate"] = template
        }
        try await waitForUpdate(of: service.ID, within: timeout * service.desiredReplicas + .seconds(60))
    }

    // MARK: heph.up on a swarm

    /// A swarm publishes ports on every node and cannot bind one address; the rest of a
    /// config is checked by ``ContainerConfig/serviceSpec()``.
    public func checkSupported(_ config: ContainerConfig) throws {
        _ = try config.serviceSpec(endpointMode: endpointMode, project: manager.project)
    }

    public func fingerprint(of config: ContainerConfig) throws -> String {
        try config.serviceSpec(endpointMode: endpointMode, project: manager.project).Labels[configHashLabel] ?? ""
    }

    /// Updates the service to `config`'s spec: Swarm rolls the change out by the update
    /// policy, replacing tasks one batch at a time, instead of heph removing the service.
    public func replaceContainer(_ existing: ContainerInfo, with config: ContainerConfig) async throws -> String {
        let service = try await managedService(existing.id)
        let spec = try config.serviceSpec(endpointMode: endpointMode, project: manager.project)
        let data = try JSONEncoder().encode(spec)
        try await updateSpec(of: service) { current in
            let forced = (current["TaskTemplate"] as? [String: Any])?["ForceUpdate"]
            current = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? current
            // Keep the restart counter, or lowering it would itself roll every task.
            if let forced, var template = current["TaskTemplate"] as? [String: Any] {
                template["ForceUpdate"] = forced
                current["TaskTemplate"] = template
            }
        }
        // Ready means every task runs the new spec: until the rollout completes, the tasks
        // not yet replaced are healthy and the service would look ready too soon.
        try await waitForUpdate(of: service.ID, within: Self.longestRollout)
        return service.ID
    }

    /// Swarm replaces ended tasks unless the restart policy is `no` (condition `none`).
    public func restartsAfterExit(_ config: ContainerConfig) -> Bool {
        config.restart != "no"
    }

    // MARK: Helpers

    /// How long a rolling update may take before heph stops waiting for it.
    static let longestRollout: Duration = .seconds(600)

    /// Reads the service's spec as the engine has it, lets `change` edit it, and sends it
    /// back at the version read (the engine refuses an update made from a stale version;
    /// then it is read again, up to 5 times).
    func updateSpec(of service: EngineService, _ change: (inout [String: Any]) -> Void) async throws {
        for _ in 1...5 {
            let read = try await client.request(.GET, "/services/\(service.ID)")
            guard read.succeeded else { throw read.failure("cannot read service \(service.name)") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: read.body)) as? [String: Any],
                  var spec = object["Spec"] as? [String: Any],
                  let version = (object["Version"] as? [String: Any])?["Index"] as? Int else {
                throw DockerError(.engine, "the engine's answer about service \(service.name) could not be read")
            }
            change(&spec)
            let body = try JSONSerialization.data(withJSONObject: spec)
            let response = try await client.request(.POST, "/services/\(service.ID)/update", query: [("version", String(version))], jsonData: body)
            if response.succeeded { return }
            if response.engineMessage.contains("update out of sequence") { continue }
            throw response.failure("cannot update service \(service.name)")
        }
        throw DockerError(.conflict, "service \(service.name) kept changing while heph updated it; try again")
    }

    /// Waits until `done` holds for the service's tasks, checking every 100 ms.
    func waitForTasks(of service: EngineService, within limit: Duration, _ what: String, until done: ([EngineTask]) -> Bool) async throws {
        let met = try await clock.poll(every: .milliseconds(100), until: clock.now + limit) {
            done(try await tasks(of: [service.ID])) ? true : nil
        }
        if met == nil {
            throw DockerError(.engine, "the tasks of \(service.name) did not \(what) within \(limit.components.seconds) s")
        }
    }

    /// Waits until the service's update, just sent, completed; a paused or rolled-back one
    /// is an error with Swarm's words.
    ///
    /// The engine clears the update status when it takes an update, and sets it once the
    /// rollout begins (within milliseconds). A change no task needs (labels, replicas)
    /// rolls nothing out, and the status stays clear: after 2 s of that, there is nothing
    /// to wait for.
    func waitForUpdate(of serviceID: String, within limit: Duration) async throws {
        let began = clock.now
        var name = serviceID
        let done = try await clock.poll(every: .milliseconds(100), until: began + limit) { () -> Bool? in
            let service = try await managedService(serviceID)
            name = service.name
            switch service.UpdateStatus?.State {
            case "completed":
                return true
            case nil where clock.now - began > .seconds(2):
                return true
            case "paused", "rollback_started", "rollback_paused", "rollback_completed":
                throw DockerError(.engine, "the update of \(service.name) stopped (\(service.UpdateStatus?.State ?? "")): \(service.UpdateStatus?.Message ?? "no reason given")")
            default:
                return nil
            }
        }
        if done == nil {
            throw DockerError(.engine, "the update of \(name) did not complete within \(limit.components.seconds) s")
        }
    }
}
