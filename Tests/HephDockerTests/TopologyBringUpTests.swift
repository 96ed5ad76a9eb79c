import Foundation
import HephDocker
import HephTestSupport
import Synchronization
import Testing

/// `up` against the real engine: order, parallelism, idempotency, failures. The order and
/// parallelism are read from start times, so these tests have the engine to themselves.
@Suite(.ownsEngine) struct TopologyBringUpTests {
    /// A service that becomes healthy `delay` seconds after it starts (its healthcheck
    /// looks for a file its command writes then).
    static func service(_ name: String, readyAfter delay: Double = 0, env: [String: String] = [:], dependsOn: [String] = []) -> Topology.Service {
        Topology.Service(
            config: ContainerConfig(
                image: Fixtures.image, name: name, env: env,
                cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep \(delay); echo ok > /ready; sleep 3600 & wait"],
                healthcheck: Healthcheck(test: .exec(["cat", "/ready"]), interval: 0.2, retries: 1)
            ),
            dependsOn: dependsOn
        )
    }

    /// Unix seconds at which each container last started.
    static func startedAt(_ names: [String]) async throws -> [String: Double] {
        try await Fixtures.withOrchestrator { orchestrator async throws in
            var result: [String: Double] = [:]
            for name in names { result[name] = try await orchestrator.inspectContainer(name).details?.startedAt }
            return result
        }
    }

    @Test func dependenciesFirstAndIndependentServicesInParallel() async throws {
        let (a, b, c, d) = (TestNames.unique("a"), TestNames.unique("b"), TestNames.unique("c"), TestNames.unique("d"))
        defer { Docker.forceRemove([a, b, c, d].map { "heph-\($0)" }) }
        let topology = Topology(services: [
            a: Self.service(a, readyAfter: 2),
            b: Self.service(b, dependsOn: [a]),
            c: Self.service(c, dependsOn: [b]),
            d: Self.service(d),
        ])
        let steps = Mutex<[ServiceProgress]>([])
        let result = try await Fixtures.withOrchestrator { orchestrator async throws in
            try await orchestrator.up(topology) { step in steps.withLock { $0.append(step) } }
        }
        #expect(Set(result.keys) == [a, b, c, d])
        #expect(result.values.allSatisfy { $0.status == .healthy })
        let started = try await Self.startedAt([a, b, c, d])
        let readyA = try #require(steps.withLock { $0 }.first { $0.service == a && $0.step == .ready })
        let readyB = try #require(steps.withLock { $0 }.first { $0.service == b && $0.step == .ready })
        // B starts only once A is ready (A needs 2 s), C only once B is.
        #expect(started[b]! - started[a]! >= 2)
        #expect(steps.withLock { $0 }.firstIndex { $0.service == b && $0.step == .started }! > steps.withLock { $0 }.firstIndex { $0 == readyA }!)
        #expect(steps.withLock { $0 }.firstIndex { $0.service == c && $0.step == .started }! > steps.withLock { $0 }.firstIndex { $0 == readyB }!)
        // D, independent, starts while A is still becoming ready.
        #expect(abs(started[d]! - started[a]!) < 1.5)
    }

    @Test func runningItAgainChangesNothingAndAChangeRecreatesAndRestartsDependents() async throws {
        let (db, api, web) = (TestNames.unique("db"), TestNames.unique("api"), TestNames.unique("web"))
        defer { Docker.forceRemove([db, api, web].map { "heph-\($0)" }) }
        var topology = Topology(services: [
            db: Self.service(db),
            api: Self.service(api, dependsOn: [db]),
            web: Self.service(web, dependsOn: [api]),
        ])
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let first = try await orchestrator.up(topology)
            let started = try await Self.startedAt([db, api, web])
            let second = try await orchestrator.up(topology)
            #expect(second.mapValues(\.id) == first.mapValues(\.id))
            #expect(try await Self.startedAt([db, api, web]) == started)

            // api's env changes: api is recreated, web (which depends on it) restarted, db untouched.
            topology.services[api] = Self.service(api, env: ["VERSION": "2"], dependsOn: [db])
            let steps = Mutex<[ServiceProgress.Step]>([])
            let third = try await orchestrator.up(topology) { step in
                if step.service == web { steps.withLock { $0.append(step.step) } }
            }
            #expect(third[db]!.id == first[db]!.id)
            #expect(third[api]!.id != first[api]!.id)
            #expect(third[web]!.id == first[web]!.id)
            #expect(steps.withLock { $0 } == [.restarting, .ready])
            let restarted = try await Self.startedAt([db, web])
            #expect(restarted[db] == started[db])
            #expect(restarted[web]! > started[web]!)
            #expect(try await Docker.output("inspect", "-f", "{{range .Config.Env}}{{.}} {{end}}", "heph-\(api)").contains("VERSION=2"))

            // Stopped from outside: started again, same id.
            try await Docker.output("stop", "-t", "1", "heph-\(db)")
            let fourth = try await orchestrator.up(topology)
            #expect(fourth[db]!.id == first[db]!.id)
            #expect(try await orchestrator.healthCheck(db) == .healthy)
        }
    }

    @Test func aCycleOrUnknownDependencyCreatesNothing() async throws {
        let (a, b) = (TestNames.unique("cyc-a"), TestNames.unique("cyc-b"))
        defer { Docker.forceRemove(["heph-\(a)", "heph-\(b)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let cycle = Topology(services: [a: Self.service(a, dependsOn: [b]), b: Self.service(b, dependsOn: [a])])
            let error = await #expect(throws: DockerError.self) { try await orchestrator.up(cycle) }
            #expect(error?.message == "dependency cycle: \([a, b].sorted().joined(separator: " -> ")) -> \([a, b].sorted()[0])")
            let unknown = Topology(services: [a: Self.service(a, dependsOn: ["nope"]), b: Self.service(b)])
            await #expect(throws: DockerError.self) { try await orchestrator.up(unknown) }
        }
        #expect(try await Docker.output("ps", "-a", "--filter", "name=\(a)", "--filter", "name=\(b)", "--format", "{{.Names}}").isEmpty)
    }

    @Test func aTimeoutNamesEveryServiceNotReadyWithItsLastHealthcheck() async throws {
        let (sick, after, fine) = (TestNames.unique("sick"), TestNames.unique("after"), TestNames.unique("fine"))
        defer { Docker.forceRemove([sick, after, fine].map { "heph-\($0)" }) }
        var sickService = Self.service(sick)
        sickService.config.cmd = Fixtures.idle
        sickService.config.healthcheck = Healthcheck(test: .shell("echo no database here; exit 1"), interval: 0.3, retries: 100)
        let topology = Topology(services: [
            sick: sickService,
            after: Self.service(after, dependsOn: [sick]),
            fine: Self.service(fine),
        ], timeout: .seconds(8))
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: DockerError.self) { try await orchestrator.up(topology) }
            #expect(ContinuousClock.now - started < .seconds(14))
            #expect(error?.code == .notReady)
            let lines = error?.message.split(separator: "\n").map(String.init) ?? []
            #expect(lines.first == "2 of 3 services are not ready:")
            #expect(lines.contains { $0 == "  \(sick): not ready after 8 s: running (health: starting); last healthcheck (exit 1): \"no database here\"" })
            // Not started, rather than "not ready after 8 s": what the timeout caught was the other.
            #expect(lines.contains("  \(after): not started, as it depends on \(sick) (not ready after 8 s)"), "\(lines)")
            #expect(try await orchestrator.healthCheck(fine) == .healthy)
        }
    }

    @Test func aServiceThatExitsFailsAtOnceWithItsOutput() async throws {
        let (crash, next) = (TestNames.unique("crash"), TestNames.unique("next"))
        defer { Docker.forceRemove(["heph-\(crash)", "heph-\(next)"]) }
        var crashing = Self.service(crash)
        crashing.config.cmd = ["sh", "-c", "echo cannot open config >&2; exit 3"]
        let topology = Topology(services: [crash: crashing, next: Self.service(next, dependsOn: [crash])], timeout: .seconds(60))
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: DockerError.self) { try await orchestrator.up(topology) }
            #expect(ContinuousClock.now - started < .seconds(20))  // not the 60 s timeout
            #expect(error?.message.contains("heph-\(crash) exited with code 3 before it was ready; its last output: cannot open config") == true)
            #expect(try await Docker.run("inspect", "heph-\(next)").status != 0)
        }
    }

    /// A failed pull is said to be one, with the fixes, at once; the service that depends on
    /// it is "not started", never "not ready after 120 s" (issue 21).
    @Test func aFailedPullSaysSoAndItsDependentIsNotStartedRatherThanTimedOut() async throws {
        let (db, api) = (TestNames.unique("nopull"), TestNames.unique("waits"))
        defer { Docker.forceRemove(["heph-\(db)", "heph-\(api)"]) }
        var unpullable = Self.service(db)
        unpullable.config.image = "heph-test/no-such-image:1"
        let topology = Topology(services: [db: unpullable, api: Self.service(api, dependsOn: [db])])
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let started = ContinuousClock.now
            let error = await #expect(throws: DockerError.self) { try await orchestrator.up(topology) }
            #expect(ContinuousClock.now - started < .seconds(30))  // the pull's failure, not the 120 s timeout
            #expect(error?.code == .imagePull)
            let lines = error?.message.split(separator: "\n").map(String.init) ?? []
            #expect(lines.first == "2 of 2 services are not ready:")
            #expect(lines.contains {
                $0.hasPrefix(#"  \#(db): image "heph-test/no-such-image:1" is not available locally and could not be pulled: "#)
                    && $0.hasSuffix("; build it on this engine (docker build -t heph-test/no-such-image:1 DIR) or load it (docker load -i FILE), or check the name and that its registry can be reached")
            }, "\(lines)")
            #expect(lines.contains("  \(api): not started, as it depends on \(db) (its image could not be pulled)"), "\(lines)")
            #expect(error?.message.contains("not ready after") == false)
        }
        for name in [db, api] { #expect(try await Docker.run("inspect", "heph-\(name)").status != 0) }
    }

    @Test func aTakenPortAMissingBindSourceOrAnUnpullableImageNamesTheServiceAndLeavesNoHalfMadeContainer() async throws {
        let (web, data, pull, fine) = (TestNames.unique("port"), TestNames.unique("bind"), TestNames.unique("pull"), TestNames.unique("fine"))
        let holder = "heph-\(TestNames.unique("holder"))"  // foreign: heph never touches it
        let port = Fixtures.freePort()
        defer { Docker.forceRemove(["heph-\(web)", "heph-\(data)", "heph-\(pull)", "heph-\(fine)", holder]) }
        try await Docker.output("run", "-d", "--name", holder, "-p", "\(port):80", Fixtures.image, "sleep", "3600")
        var taken = Self.service(web)
        taken.config.ports = ["\(port)": "80"]
        var missing = Self.service(data)
        missing.config.volumes = ["/nonexistent/heph-\(data)": "/data"]
        var unpullable = Self.service(pull)
        unpullable.config.image = "heph/not-here:\(pull)"
        let topology = Topology(services: [web: taken, data: missing, pull: unpullable, fine: Self.service(fine)], timeout: .seconds(30))
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let error = await #expect(throws: DockerError.self) { try await orchestrator.up(topology) }
            let lines = error?.message.split(separator: "\n").map(String.init) ?? []
            #expect(lines.first == "3 of 4 services are not ready:")
            #expect(lines.contains { $0.hasPrefix("  \(web): cannot start heph-\(web): ") && $0.contains("port is already allocated") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("  \(data): config.volumes: host path \"/nonexistent/heph-\(data)\" does not exist") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("  \(pull): image \"heph/not-here:\(pull)\" is not available locally and could not be pulled: ") }, "\(lines)")
            #expect(try await orchestrator.healthCheck(fine) == .healthy)
        }
        // Neither failed service leaves a container behind; the foreign holder is untouched.
        for name in [web, data, pull] { #expect(try await Docker.run("inspect", "heph-\(name)").status != 0) }
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", holder) == "running")
    }
}
