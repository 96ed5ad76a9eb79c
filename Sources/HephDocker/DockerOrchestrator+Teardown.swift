extension DockerOrchestrator {
    @discardableResult
    public func teardownAll() async throws -> TeardownReport {
        try await teardownAll(removingVolumes: false)
    }

    /// Stops and removes every managed container (in parallel), then every managed network,
    /// then — only when `removingVolumes` — every managed named volume.
    ///
    /// Works from the engine's labels, not from memory, so it removes what any earlier heph
    /// process made. A failure does not stop the rest: every container, network and volume
    /// is attempted, and the error thrown at the end names each one that failed.
    @discardableResult
    public func teardownAll(removingVolumes: Bool) async throws -> TeardownReport {
        let containers = try await managedSummaries()
        var report = TeardownReport()
        var failures: [String] = []
        await withTaskGroup(of: (String, DockerError?).self) { group in
            for container in containers {
                let name = ContainerInfo(summary: container).name
                group.addTask {
                    do {
                        try await self.remove(id: container.Id, name: name, state: container.State)
                        return (name, nil)
                    } catch {
                        return (name, error as? DockerError ?? DockerError(.engine, "\(error)", underlying: error))
                    }
                }
            }
            for await (name, error) in group {
                if let error { failures.append("\(name): \(error.message)") } else { report.containers.append(name) }
            }
        }
        report.containers.sort()
        forgetNetwork()
        do {
            for network in try await managedNetworks() {
                do {
                    try await remove(network: network)
                    report.networks.append(network.Name)
                } catch let error as DockerError {
                    failures.append("network \(network.Name): \(error.message)")
                }
            }
        } catch let error as DockerError {
            failures.append("networks: \(error.message)")
        }
        if removingVolumes {
            do {
                report.volumes = try await removeManagedVolumes(failures: &failures)
            } catch let error as DockerError {
                failures.append("volumes: \(error.message)")
            }
        }
        guard failures.isEmpty else {
            throw DockerError(.engine, "teardown could not remove everything: \(failures.sorted().joined(separator: "; "))")
        }
        return report
    }

    /// Removes every named volume carrying the managed label; returns the names removed and
    /// appends each failure.
    private func removeManagedVolumes(failures: inout [String]) async throws -> [String] {
        let response = try await client.request(.GET, "/volumes", query: [("filters", Self.managedFilter())])
        guard response.succeeded else { throw response.failure("cannot list volumes") }
        var removed: [String] = []
        for volume in try response.decode(EngineVolumeList.self).Volumes ?? [] {
            let deletion = try await client.request(.DELETE, "/volumes/\(volume.Name)")
            if deletion.succeeded || deletion.status == .notFound {
                removed.append(volume.Name)
            } else {
                failures.append("volume \(volume.Name): \(deletion.engineMessage)")
            }
        }
        return removed.sorted()
    }
}
