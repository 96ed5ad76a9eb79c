import HephDocker
import HephTestSupport
import Synchronization
import Testing

/// The simulated engine (`heph test`'s world), on a manual clock: the transitions a watcher
/// reports from it, in order, for what heph does and for faults from outside.
@Suite struct SimulatedEngineTests {
    /// A watched world: an orchestrator in `project` over a fresh engine, and every
    /// transition the watcher reports, as `name previous→status` (`exit N`, `oom`).
    final class World: Sendable {
        let clock = ManualClock(epochSeconds: 1_700_000_000)
        let engine: SimulatedEngine
        let orchestrator: SimulatedOrchestrator
        let seen = Recorder<String>()
        let watcher: ContainerWatcher

        init(project: Project = .default, engine: SimulatedEngine? = nil) async {
            self.engine = engine ?? SimulatedEngine(clock: clock)
            orchestrator = SimulatedOrchestrator(engine: self.engine, project: project)
            let seen = seen
            watcher = orchestrator.makeWatcher(pollInterval: .seconds(5), onTransition: { transition in
                seen.append(Self.describe(transition))
            }, onNotice: { _ in })!
            watcher.start()
            await watcher.waitUntilWatching()
        }

        deinit {
            watcher.stop()
        }

        /// Waits (real time, briefly) until the container `id` is `status`: what an advance
        /// woke has run.
        func until(_ id: String, is status: ContainerStatus) async -> Bool {
            await Fixtures.eventually(timeout: .seconds(5)) { (try? await self.orchestrator.healthCheck(id)) == status }
        }

        static func describe(_ transition: ContainerTransition) -> String {
            let previous = transition.previous?.rawValue ?? "nil"
            switch transition.kind {
            case .status(let status): return "\(transition.name) \(previous)→\(status.rawValue)"
            case .exited(let code, let oom): return "\(transition.name) exit \(code)\(oom ? " oom" : "")"
            case .removed: return "\(transition.name) \(previous)→removed"
            }
        }

        /// Waits (real time, briefly) until the watcher has reported `count` transitions.
        func expect(_ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) async {
            _ = await Fixtures.eventually(timeout: .seconds(5)) { seen.all.count >= expected.count }
            #expect(seen.all == expected, sourceLocation: sourceLocation)
        }

        /// Moves virtual time on in steps, letting what each step wakes run.
        func advance(by duration: Duration, steps: Int = 1) async {
            for _ in 0..<steps {
                clock.advance(by: duration / steps)
                for _ in 0..<20 { await Task.yield() }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }

        func id(_ name: String) -> String { orchestrator.id(of: name)! }
    }

    static let healthy = ContainerConfig(image: "heph/busybox:latest", name: "web",
                                         healthcheck: Healthcheck(test: .shell("true"), interval: 1))

    @Test func aContainerLivesAndDiesAsOnTheEngine() async throws {
        let world = await World()
        let id = try await world.orchestrator.createContainer(Self.healthy)
        try await world.orchestrator.startContainer("web")
        #expect(try await world.orchestrator.healthCheck("web") == .running)
        await world.advance(by: .seconds(1))
        #expect(await world.until(id, is: .healthy))
        world.engine.kill(id)
        let details = try #require(try await world.orchestrator.inspectContainer("heph-web").details)
        #expect(details.exitCode == 137 && details.engineState == "exited")
        world.engine.remove(id)
        await world.expect([
            "heph-web nil→created", "heph-web created→running", "heph-web running→healthy",
            "heph-web healthy→stopped", "heph-web exit 137",
            "heph-web stopped→removed",
        ])
        #expect(world.orchestrator.actions.map(\.op) == ["create_container", "start_container"])
        #expect(world.orchestrator.actions.map(\.at) == [1_700_000_000, 1_700_000_000])
    }

    @Test func faultsFromOutsideGiveTheirOwnTransitions() async throws {
        let world = await World()
        let id = try await world.orchestrator.createContainer(Self.healthy)
        try await world.orchestrator.startContainer(id)
        await world.advance(by: .seconds(1))
        #expect(await world.until(id, is: .healthy))
        // What the probes find: unhealthy after three failing ones (the default retries),
        // healthy again at the next passing one.
        world.engine.setHealth(id, healthy: false)
        await world.advance(by: .seconds(2), steps: 2)
        #expect(try await world.orchestrator.healthCheck(id) == .healthy)
        await world.advance(by: .seconds(1))
        #expect(await world.until(id, is: .unhealthy))
        #expect(try await world.orchestrator.inspectContainer(id).details?.health?.failingStreak == 3)
        world.engine.setHealth(id, healthy: true)
        await world.advance(by: .seconds(1))
        #expect(await world.until(id, is: .healthy))
        world.engine.pause(id, true)
        world.engine.pause(id, false)
        world.engine.oom(id)
        try await world.orchestrator.startContainer(id)
        world.engine.stop(id)
        await world.expect([
            "heph-web nil→created", "heph-web created→running", "heph-web running→healthy",
            "heph-web healthy→unhealthy", "heph-web unhealthy→healthy",
            "heph-web healthy→error", "heph-web error→healthy",
            "heph-web healthy→stopped", "heph-web exit 137 oom",
            "heph-web stopped→running", "heph-web running→stopped", "heph-web exit 0",
        ])
    }

    @Test func theRestartPolicyStartsACrashedContainerAgainAndCountsIt() async throws {
        let world = await World()
        var config = Self.healthy
        config.restart = "on-failure"
        config.healthcheck = nil
        let id = try await world.orchestrator.createContainer(config)
        try await world.orchestrator.startContainer(id)
        world.engine.crash(id, exitCode: 3)
        await world.advance(by: .milliseconds(100))
        #expect(await world.until(id, is: .running))
        world.engine.crash(id, exitCode: 0)  // a clean exit: on-failure leaves it
        // A die with no kill before it is held 0.2 s for a kill logged late
        // (TransitionTracker.killEventWait): time moves in steps, so the watcher's hold has
        // begun before the clock passes it.
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(20))
            await world.advance(by: .milliseconds(100))
        }
        await world.expect([
            "heph-web nil→created", "heph-web created→running",
            "heph-web running→stopped", "heph-web exit 3", "heph-web stopped→running",
            "heph-web running→stopped", "heph-web exit 0",
        ])
        #expect(try await world.orchestrator.inspectContainer(id).details?.restartCount == 1)
    }

    @Test func aKillIsAManualStopThatTheRestartPolicyLeaves() async throws {
        let world = await World()
        var config = Self.healthy
        config.restart = "always"
        config.healthcheck = nil
        let id = try await world.orchestrator.createContainer(config)
        try await world.orchestrator.startContainer(id)
        world.engine.kill(id)
        try await world.orchestrator.killContainer(id, signal: "SIGKILL")  // stopped already: nothing
        await world.advance(by: .seconds(5))
        #expect(try await world.orchestrator.healthCheck(id) == .stopped)
        #expect(try await world.orchestrator.inspectContainer(id).details?.restartCount == 0)
    }

    @Test func anOutageWithARestartIsSeenByThePollOnceTheEngineIsBack() async throws {
        let world = await World()
        var config = Self.healthy
        config.healthcheck = nil
        let id = try await world.orchestrator.createContainer(config)
        try await world.orchestrator.startContainer(id)
        await world.expect(["heph-web nil→created", "heph-web created→running"])
        world.engine.down(for: .seconds(10), restarting: true)
        await #expect(throws: DockerError.self) { try await world.orchestrator.listContainers() }
        // The watcher reconnects with backoff and polls: once the engine is back, the
        // container is seen stopped, with the exit code inspect gives.
        await world.advance(by: .seconds(20), steps: 40)
        await world.expect([
            "heph-web nil→created", "heph-web created→running", "heph-web running→stopped", "heph-web exit 0",
        ])
        #expect(try await world.orchestrator.healthCheck(id) == .stopped)
    }

    @Test func projectsShareTheEngineAndSeeOnlyTheirOwn() async throws {
        let defaultWorld = await World()
        let staging = await World(project: try Project("staging"), engine: defaultWorld.engine)
        _ = try await defaultWorld.orchestrator.createContainer(Self.healthy)
        let stagingID = try await staging.orchestrator.createContainer(Self.healthy)
        #expect(try await defaultWorld.orchestrator.listContainers().map(\.dockerName) == ["heph-web"])
        #expect(try await staging.orchestrator.listContainers().map { "\($0.name) \($0.dockerName)" } == ["heph-web heph_staging_web"])
        await #expect(throws: DockerError.self) { try await defaultWorld.orchestrator.startContainer(stagingID) }
        try await staging.orchestrator.startContainer("heph_staging_web")
        await staging.expect(["heph-web nil→created", "heph-web created→running"])
        await defaultWorld.expect(["heph-web nil→created"])
        try await staging.orchestrator.teardownAll()
        #expect(try await defaultWorld.orchestrator.listContainers().count == 1)
        #expect(staging.orchestrator.actions.map(\.op) == ["create_container", "start_container", "remove_container", "remove_network"])
    }
}
