import HephDocker
import HephTestSupport
import Testing

/// Health from a real healthcheck: a probe that reads `/ready`, flipped from outside by
/// removing the file.
@Suite(.usesEngine) struct HealthTests {
    static func probed(_ name: String) -> ContainerConfig {
        ContainerConfig(
            image: Fixtures.image, name: name,
            cmd: ["sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait"],
            // A generous timeout: on a loaded engine a probe's exec can take seconds to start,
            // and a timed-out first probe would read as unhealthy before healthy.
            healthcheck: Healthcheck(test: .exec(["cat", "/ready"]), interval: 1, timeout: 10, retries: 1))
    }

    @Test func runningThenHealthyThenUnhealthyAndPollingDeliversEachTransition() async throws {
        let name = TestNames.unique("health")
        let full = "heph-\(name)"
        defer { Docker.forceRemove([full]) }
        let seen = Recorder<ContainerStatus>()
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(Self.probed(name))
            let poller = orchestrator.startHealthPolling(interval: .milliseconds(200)) { statuses in
                if let status = statuses[full] { seen.append(status) }
            }
            defer { poller.stop() }
            try await orchestrator.startContainer(name)
            #expect(await Fixtures.eventually(timeout: .seconds(15)) { (try? await orchestrator.healthCheck(name)) == .healthy })
            try await Docker.output("exec", full, "busybox", "rm", "/ready")
            #expect(await Fixtures.eventually(timeout: .seconds(15)) { (try? await orchestrator.healthCheck(name)) == .unhealthy })
            #expect(await Fixtures.eventually(timeout: .seconds(2)) { seen.all.last == .unhealthy })

            let health = try #require(try await orchestrator.inspectContainer(name).details?.health)
            #expect(health.status == "unhealthy")
            #expect(health.failingStreak >= 1)
            #expect(health.log.last?.exitCode != 0)
            #expect(health.log.contains { $0.exitCode == 0 && $0.output == "ok\n" })
            #expect(health.log.allSatisfy { $0.at > 1_700_000_000 })
        }
        // Each status once, in order: consecutive repeats collapsed.
        let transitions = seen.all.reduce(into: [ContainerStatus]()) { result, status in
            if result.last != status { result.append(status) }
        }
        #expect(transitions == [.created, .running, .healthy, .unhealthy])
    }

    @Test func aSnapshotCoversEveryManagedContainerAndStopEndsPolling() async throws {
        let names = [TestNames.unique("snap-a"), TestNames.unique("snap-b")]
        defer { Docker.forceRemove(names.map { "heph-\($0)" }) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: names[0], cmd: Fixtures.idle))
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: names[1], cmd: Fixtures.idle))
            try await orchestrator.startContainer(names[1])
            let snapshots = Recorder<[String: ContainerStatus]>()
            let poller = orchestrator.startHealthPolling(interval: .milliseconds(100)) { snapshots.append($0) }
            #expect(await Fixtures.eventually(timeout: .seconds(5)) { snapshots.all.count >= 3 })
            poller.stop()
            let first = try #require(snapshots.all.first)
            #expect(first["heph-\(names[0])"] == .created)
            #expect(first["heph-\(names[1])"] == .running)
            #expect(first.keys.allSatisfy { $0.hasPrefix("heph-") })
            // sleeping is the behaviour under test: a callback already under way when stop()
            // returned may still land, and then five intervals pass without one.
            try await Task.sleep(for: .milliseconds(300))
            let countAfterStop = snapshots.all.count
            try await Task.sleep(for: .milliseconds(500))  // sleeping is the behaviour under test
            #expect(snapshots.all.count == countAfterStop)
        }
    }

    @Test func pollingReportsAnUnreachableEngineInsteadOfSwallowingIt() async throws {
        let errors = Recorder<DockerError>()
        let snapshots = Recorder<[String: ContainerStatus]>()
        try await Fixtures.withOrchestrator(environment: ["DOCKER_HOST": "unix:///nonexistent/heph-test.sock"]) { orchestrator in
            let poller = orchestrator.startHealthPolling(interval: .milliseconds(100), onError: { errors.append($0) }) { snapshots.append($0) }
            #expect(await Fixtures.eventually(timeout: .seconds(5)) { errors.all.count >= 2 })
            poller.stop()
        }
        #expect(errors.all.first?.code == .engineUnreachable)
        #expect(errors.all.first?.message == "cannot reach the Docker engine at unix:///nonexistent/heph-test.sock: no such file or directory")
        #expect(snapshots.all.first == [:])
    }

    @Test func aContainerThatExitedIsStoppedAndOneThatIsGoneIsError() async throws {
        let name = TestNames.unique("gone")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: ["true"]))
            try await orchestrator.startContainer(name)
            #expect(await Fixtures.eventually(timeout: .seconds(5)) { (try? await orchestrator.healthCheck(name)) == .stopped })
            try await Docker.output("rm", "-f", "heph-\(name)")
            #expect(try await orchestrator.healthCheck(name) == .error)
        }
    }

    @Test func pausedIsError() async throws {
        let name = TestNames.unique("paused")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            try await Docker.output("pause", "heph-\(name)")
            #expect(try await orchestrator.healthCheck(name) == .error)
            #expect(try await orchestrator.healthSnapshot()["heph-\(name)"] == .error)
            // A paused container can still be removed.
            try await orchestrator.removeContainer(name)
        }
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
    }
}
