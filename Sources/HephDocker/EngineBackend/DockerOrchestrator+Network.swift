extension DockerOrchestrator {
    @discardableResult
    public func createNetwork() async throws -> String {
        onAction("create_network")
        let task = networkCreation.withLock { inFlight in
            if let inFlight { return inFlight }
            let task = Task { try await self.findOrCreateNetwork(driver: "bridge") }
            inFlight = task
            return task
        }
        let result = await task.result
        networkCreation.withLock { inFlight in
            if inFlight == task { inFlight = nil }
        }
        let id = try result.get()
        defaultNetworkSeen.withLock { $0 = true }
        return id
    }

    public func removeNetwork() async throws {
        onAction("remove_network")
        forgetNetwork()
        for network in try await managedNetworks() where network.Name == project.networkEngineName {
            try await remove(network: network)
        }
    }

    /// The id of the project's managed network (``Project/networkEngineName``), made with `driver` (`attachable`, for an overlay)
    /// when missing, trying `attempts` times (an overlay can take a moment to be listed).
    /// `check` vets the network found (the swarm backend refuses a bridge).
    func findOrCreateNetwork(driver: String, attachable: Bool? = nil, attempts: Int = 1, check: (EngineNetwork) throws -> Void = { _ in }) async throws -> String {
        for _ in 1...max(attempts, 1) {
            if let existing = try await managedNetwork() {
                try check(existing)
                return existing.Id
            }
            let body = EngineNetworkCreate(Name: project.networkEngineName, Driver: driver, CheckDuplicate: true, Labels: project.labels, Attachable: attachable)
            let response = try await client.request(.POST, "/networks/create", json: body)
            // A conflict is a create that raced ours: the look below finds the winner.
            guard response.succeeded || response.status == .conflict else {
                throw response.failure("cannot create network \(project.networkEngineName)")
            }
        }
        // Look again rather than trust our own id: another process may have raced us past
        // CheckDuplicate, and the look settles which network every process keeps.
        guard let kept = try await managedNetwork() else {
            throw DockerError(.engine, "network \(project.networkEngineName) was created but has disappeared; another process may be tearing down")
        }
        try check(kept)
        return kept.Id
    }

    /// Makes sure a container can join `name` (the engine's name): the project's network is
    /// created when missing (looked up once per process, unless this process removes it);
    /// any other must exist.
    func ensureNetwork(_ name: String) async throws {
        if name == project.networkEngineName {
            if !defaultNetworkSeen.withLock({ $0 }) { try await createNetwork() }
            return
        }
        _ = try await existingNetwork(name, hint: "create it first")
    }

    /// The network `name`, which must exist: `config.networkName` names it, and `hint` says
    /// how to make it.
    func existingNetwork(_ name: String, hint: String) async throws -> EngineNetwork {
        let response = try await client.request(.GET, "/networks/\(name)")
        if response.status == .notFound {
            throw DockerError(.notFound, "config.networkName: network \(quoted(name)) does not exist; \(hint) (only \(networkName) is made for you)")
        }
        guard response.succeeded else { throw response.failure("cannot inspect network \(name)") }
        return try response.decode(EngineNetwork.self)
    }

    /// Forgets that the project's network was seen, so the next create looks again.
    func forgetNetwork() {
        defaultNetworkSeen.withLock { $0 = false }
    }

    /// The project's managed network (``Project/networkEngineName``), or nil.
    ///
    /// The engine's `CheckDuplicate` is not atomic, so processes creating the network at the
    /// same moment can make several. Whoever sees several settles on the same one by a rule
    /// that does not depend on timing — the one with containers attached, else the oldest,
    /// else the smallest id — and removes the empty others.
    ///
    /// - Throws: ``DockerError/Code/conflict`` when a network of that name exists without
    ///   the managed label: heph will neither use nor replace someone else's network.
    func managedNetwork() async throws -> EngineNetwork? {
        let networkName = project.networkEngineName
        let response = try await client.request(.GET, "/networks", query: [("filters", #"{"name":["\#(networkName)"]}"#)])
        guard response.succeeded else { throw response.failure("cannot list networks") }
        // The name filter matches substrings; only the exact name counts.
        let named = try response.decode([EngineNetwork].self).filter { $0.Name == networkName }
        let managed = named.filter { $0.Labels?[managedLabel] == "true" }
        if managed.count > 1 { return try await settleDuplicates(managed) }
        if let only = managed.first { return only }
        if !named.isEmpty {
            throw DockerError(.conflict, "a network named \(networkName) exists but is not managed by heph (it has no \(managedLabel)=true label); remove it (docker network rm \(networkName)) so heph can make its own")
        }
        return nil
    }

    private func settleDuplicates(_ networks: [EngineNetwork]) async throws -> EngineNetwork? {
        // The list leaves `Containers` empty; only inspect fills it.
        var inspected: [EngineNetwork] = []
        for network in networks {
            let response = try await client.request(.GET, "/networks/\(network.Id)")
            if response.succeeded { inspected.append(try response.decode(EngineNetwork.self)) }
        }
        let ordered = inspected.sorted { lhs, rhs in
            let (lhsUsed, rhsUsed) = (!(lhs.Containers ?? [:]).isEmpty, !(rhs.Containers ?? [:]).isEmpty)
            if lhsUsed != rhsUsed { return lhsUsed }
            return (lhs.createdAt, lhs.Id) < (rhs.createdAt, rhs.Id)
        }
        guard let kept = ordered.first else { return nil }
        for extra in ordered.dropFirst() where (extra.Containers ?? [:]).isEmpty {
            logger.debug("removing duplicate \(extra.Name) \(extra.Id); keeping \(kept.Id)")
            // Failing here is fine: another process may have removed it first.
            _ = try? await client.request(.DELETE, "/networks/\(extra.Id)")
        }
        return kept
    }

    /// Removes every managed network `matching` with `remove` (which says whether the
    /// network went), recording each failure; returns the names removed.
    func removeManagedNetworks(
        matching: (EngineNetwork) -> Bool = { _ in true },
        _ failures: inout TeardownFailures,
        remove: (EngineNetwork) async throws -> Bool
    ) async throws -> [String] {
        let networks: [EngineNetwork]
        do {
            networks = try await managedNetworks()
        } catch let error as DockerError {
            failures.record("networks", error.message)
            return []
        }
        var removed: [String] = []
        for network in networks where matching(network) {
            try await failures.attempt("network \(network.Name)") {
                if try await remove(network) { removed.append(network.Name) }
            }
        }
        return removed
    }

    /// Every network carrying the managed label, of the projects in ``scope``.
    func managedNetworks() async throws -> [EngineNetwork] {
        let response = try await client.request(.GET, "/networks", query: [("filters", managedFilter())])
        guard response.succeeded else { throw response.failure("cannot list networks") }
        return try response.decode([EngineNetwork].self).filter { owns($0.Labels) }
    }

    /// Removes one network; one that is already gone counts as removed.
    ///
    /// - Throws: ``DockerError/Code/conflict`` while containers are attached; an engine
    ///   error naming moby/moby#43286 when none is and the engine still refuses.
    func remove(network: EngineNetwork) async throws {
        if case .keptByStaleCount(let why) = try await delete(network) { throw DockerError(.engine, why) }
    }

    /// Removes `network` for a teardown: true when it went; false when the engine keeps it
    /// for endpoints no container holds (logged as a warning: the containers are gone, and
    /// the network, heph's own and empty, is used again by the next bring-up).
    func removeForTeardown(_ network: EngineNetwork) async throws -> Bool {
        switch try await delete(network) {
        case .removed: return true
        case .keptByStaleCount(let why):
            logger.warning("\(why)")
            return false
        }
    }

    private enum NetworkDeletion {
        case removed
        /// Docker 20.10 can lose count of a network's endpoints when many containers on it
        /// stop at once (moby/moby#43286): it then refuses to remove the network, with no
        /// container attached, until dockerd restarts.
        case keptByStaleCount(String)
    }

    private func delete(_ network: EngineNetwork) async throws -> NetworkDeletion {
        // Podman 4 checks whether containers use a network only when it is removed by name
        // (by id it removes one in use); its names are unique, as dockerd's are not.
        let podman = try await client.kind() == .podman
        let key = podman ? network.Name : network.Id
        var response = try await client.request(.DELETE, "/networks/\(key)")
        // Endpoints released a moment late are not the defect: try twice more, 200 ms apart.
        for _ in 0..<2 where response.engineMessage.contains("active endpoints") {
            try await clock.sleep(for: .milliseconds(200))
            response = try await client.request(.DELETE, "/networks/\(key)")
        }
        if podman, response.status == .conflict {
            let attached = try? await client.request(.GET, "/networks/\(key)").decode(EngineNetwork.self)
            let names = (attached?.Containers ?? [:]).values.map(\.Name).sorted()
            throw DockerError(.conflict, "network \(network.Name) still has containers attached (\(names.isEmpty ? "unknown" : names.joined(separator: ", "))); remove them first (Podman counts stopped containers too)")
        }
        if response.succeeded || response.status == .notFound { return .removed }
        if response.engineMessage.contains("active endpoints") {
            let attached = try? await client.request(.GET, "/networks/\(network.Id)").decode(EngineNetwork.self)
            let names = (attached?.Containers ?? [:]).values.map(\.Name).sorted()
            if attached != nil, names.isEmpty {
                return .keptByStaleCount("network \(network.Name) stays: no container is attached to it, yet the engine counts endpoints on it and refuses to remove it (a Docker engine defect, moby/moby#43286, seen when many containers on one network stop at once); it can be removed once dockerd restarts, and is used again meanwhile")
            }
            throw DockerError(.conflict, "network \(network.Name) still has containers attached (\(names.isEmpty ? "unknown" : names.joined(separator: ", "))); remove them first")
        }
        throw response.failure("cannot remove network \(network.Name)")
    }
}
