extension DockerOrchestrator {
    /// Stops and removes every managed container of ``scope`` (in parallel), then its
    /// managed bridge networks (a swarm's overlay is the swarm backend's to remove), then —
    /// only when `removingVolumes` — its managed named volumes.
    ///
    /// Works from the engine's labels, not from memory, so it removes what any earlier heph
    /// process made in the project, and nothing of another project. A failure does not stop the rest: every container, network and volume
    /// is attempted, and the error thrown at the end names each one that failed.
    @discardableResult
    public func teardownAll(removingVolumes: Bool) async throws -> TeardownReport {
        let containers = try await managedSummaries()
        defer { MemoryRelease.afterBurst() }
        var report = TeardownReport()
        var failures = TeardownFailures()
        await withTaskGroup(of: (String, DockerError?).self) { group in
            for container in containers {
                let name = ContainerInfo(summary: container).dockerName
                group.addTask {
                    do {
                        try await self.remove(id: container.Id, name: name, state: container.State)
                        return (name, nil)
                    } catch {
                        return (name, DockerError(error))
                    }
                }
            }
            for await (name, error) in group {
                if let error { failures.record(name, error.message) } else { report.containers.append(name) }
            }
        }
        report.containers.sort()
        forgetNetwork()
        report.networks = try await removeManagedNetworks(matching: { $0.Scope != "swarm" }, &failures) { try await removeForTeardown($0) }
        if removingVolumes {
            do {
                report.volumes = try await removeManagedVolumes(failures: &failures)
            } catch let error as DockerError {
                failures.record("volumes", error.message)
            }
            do {
                report.states = try await client.removeStates(project: scope == .all ? nil : project).sorted()
            } catch {
                failures.record("state", DockerError(error).message)
            }
        }
        try failures.check()
        return report
    }

    /// Removes every named volume carrying the managed label, of the projects in ``scope``;
    /// returns the names removed and appends each failure.
    private func removeManagedVolumes(failures: inout TeardownFailures) async throws -> [String] {
        let response = try await client.request(.GET, "/volumes", query: [("filters", managedFilter())])
        guard response.succeeded else { throw response.failure("cannot list volumes") }
        var removed: [String] = []
        for volume in try response.decode(EngineVolumeList.self).Volumes ?? [] where owns(volume.Labels) {
            let deletion = try await client.request(.DELETE, "/volumes/\(volume.Name)")
            if deletion.succeeded || deletion.status == .notFound {
                removed.append(volume.Name)
            } else {
                failures.record("volume \(volume.Name)", deletion.engineMessage)
            }
        }
        return removed.sorted()
    }
}
