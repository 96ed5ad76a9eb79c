extension SwarmOrchestrator {
    /// Creates the project's managed network as an attachable overlay (so plain containers,
    /// such as a test's probe, can join it too), or returns the existing one's id.
    ///
    /// - Throws: ``DockerError/Code/conflict`` when `heph-network` exists as a bridge (the
    ///   engine backend's), which no service can join.
    @discardableResult
    public func createNetwork() async throws -> String {
        _ = try await managerNodeID()
        return try await manager.findOrCreateNetwork(driver: "overlay", attachable: true, attempts: 2) { existing in
            guard existing.Scope == "swarm" else {
                throw DockerError(.conflict, "\(existing.Name) on this engine is a \(existing.Driver ?? "local") network, made by heph; services need an overlay", remedy: .tearDownEngineBackendFirst)
            }
        }
    }

    public func removeNetwork() async throws {
        for network in try await manager.managedNetworks() where network.Name == manager.project.networkEngineName {
            try await removeSoon(network)
        }
    }

    /// Makes sure a service can join `name`: it exists and is swarm-scoped.
    func requireSwarmNetwork(_ name: String) async throws {
        let network = try await manager.existingNetwork(name, hint: "create it first as an overlay")
        guard network.Scope == "swarm" else {
            throw DockerError(.invalidConfig, "config.networkName: \(quoted(name)) is a \(network.Driver ?? "local") network; a service needs a swarm-scoped one (an overlay)")
        }
    }

    /// Removes every managed service of the orchestrator's projects, waits until Swarm
    /// removed their tasks, then removes their managed overlay networks. Every removal is attempted; the error names each failure.
    ///
    /// - Throws: ``DockerError/Code/invalidConfig`` for `removingVolumes`: a service's named
    ///   volumes live on each node it ran on, out of reach from the manager.
    @discardableResult
    public func teardownAll(removingVolumes: Bool) async throws -> TeardownReport {
        if removingVolumes {
            throw DockerError(.invalidConfig, "a service's named volumes live on each node it ran on; remove them there (docker volume rm)")
        }
        let services = try await managedServices()
        var report = TeardownReport()
        var failures = TeardownFailures()
        for service in services {
            let response = try await client.request(.DELETE, "/services/\(service.ID)")
            if response.succeeded || response.status == .notFound {
                report.containers.append(service.name)
            } else {
                failures.record(service.name, response.engineMessage)
            }
        }
        do {
            // The overlay is in use until Swarm has removed the services' tasks.
            _ = try await clock.poll(every: .milliseconds(100), until: clock.now + .seconds(60)) {
                try await tasks(of: Set(services.map(\.ID))).isEmpty ? true : nil
            }
            report.networks = try await manager.removeManagedNetworks(matching: { $0.Scope == "swarm" }, &failures) { try await removeSoon($0); return true }
        } catch let error as DockerError {
            failures.record("networks", error.message)
        }
        try failures.check()
        return report
    }

    /// Removes `network`, retrying for a few seconds while the containers of removed tasks
    /// still detach from it.
    private func removeSoon(_ network: EngineNetwork) async throws {
        let removed = try await clock.poll(every: .milliseconds(200), until: clock.now + .seconds(15)) { () -> Bool? in
            do {
                try await manager.remove(network: network)
                return true
            } catch let error as DockerError where error.code == .conflict {
                return nil
            }
        }
        // The last try: its error says what still holds the network.
        if removed == nil { try await manager.remove(network: network) }
    }
}
