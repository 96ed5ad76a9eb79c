extension SwarmOrchestrator {
    /// Creates the managed ``networkName`` as an attachable overlay (so plain containers,
    /// such as a test's probe, can join it too), or returns the existing one's id.
    ///
    /// - Throws: ``DockerError/Code/conflict`` when `heph-network` exists as a bridge (the
    ///   engine backend's), which no service can join.
    @discardableResult
    public func createNetwork() async throws -> String {
        _ = try await managerNodeID()
        for _ in 1...2 {
            if let existing = try await engine.managedNetwork() {
                guard existing.Scope == "swarm" else {
                    throw DockerError(.conflict, "\(networkName) on this engine is a \(existing.Driver ?? "local") network, made by heph without --swarm; services need an overlay: run `heph down` (without --swarm) first")
                }
                return existing.Id
            }
            let body = EngineNetworkCreate(Name: networkName, Driver: "overlay", CheckDuplicate: true, Labels: [managedLabel: "true"], Attachable: true)
            let response = try await client.request(.POST, "/networks/create", json: body)
            // A conflict is a create that raced ours: look again.
            guard response.succeeded || response.status == .conflict else { throw response.failure("cannot create network \(networkName)") }
        }
        guard let kept = try await engine.managedNetwork() else {
            throw DockerError(.engine, "network \(networkName) was created but has disappeared; another process may be tearing down")
        }
        return kept.Id
    }

    public func removeNetwork() async throws {
        for network in try await engine.managedNetworks() where network.Name == networkName {
            try await removeSoon(network)
        }
    }

    /// Makes sure a service can join `name`: it exists and is swarm-scoped.
    func requireSwarmNetwork(_ name: String) async throws {
        let response = try await client.request(.GET, "/networks/\(name)")
        if response.status == .notFound {
            throw DockerError(.notFound, "config.networkName: network \(quoted(name)) does not exist; create it first as an overlay (only \(networkName) is made for you)")
        }
        guard response.succeeded else { throw response.failure("cannot inspect network \(name)") }
        let network = try response.decode(EngineNetwork.self)
        guard network.Scope == "swarm" else {
            throw DockerError(.invalidConfig, "config.networkName: \(quoted(name)) is a \(network.Driver ?? "local") network; a service needs a swarm-scoped one (an overlay)")
        }
    }

    /// Removes every managed service, waits until Swarm removed their tasks, then removes
    /// the managed networks. Every removal is attempted; the error names each failure.
    @discardableResult
    public func teardownAll() async throws -> TeardownReport {
        let services = try await managedServices()
        var report = TeardownReport()
        var failures: [String] = []
        for service in services {
            let response = try await client.request(.DELETE, "/services/\(service.ID)")
            if response.succeeded || response.status == .notFound {
                report.containers.append(service.name)
            } else {
                failures.append("\(service.name): \(response.engineMessage)")
            }
        }
        do {
            let deadline = ContinuousClock.now + .seconds(60)
            while !(try await tasks(of: Set(services.map(\.ID)))).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            for network in try await engine.managedNetworks() where network.Scope == "swarm" {
                do {
                    try await removeSoon(network)
                    report.networks.append(network.Name)
                } catch let error as DockerError {
                    failures.append("network \(network.Name): \(error.message)")
                }
            }
        } catch let error as DockerError {
            failures.append("networks: \(error.message)")
        }
        guard failures.isEmpty else {
            throw DockerError(.engine, "teardown could not remove everything: \(failures.sorted().joined(separator: "; "))")
        }
        return report
    }

    /// Removes `network`, retrying for a few seconds while the containers of removed tasks
    /// still detach from it.
    private func removeSoon(_ network: EngineNetwork) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                return try await engine.remove(network: network)
            } catch let error as DockerError where error.code == .conflict && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
