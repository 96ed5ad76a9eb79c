import Foundation
import HephTestSupport
import Testing

/// `heph run --swarm`: scripts on a Docker Swarm made by the test (``SwarmCluster``: private
/// engines in network namespaces of their own; the shared engine never enters swarm mode).
///
/// The services use `--endpoint-mode dnsrr`: this machine's kernel has no IPVS, which
/// Swarm's virtual addresses (the default, `vip`) need, so names resolve to task addresses
/// and ports are published on the nodes that run a task.
///
/// One at a time, with the engine to themselves: a swarm's healthchecks and task starts on
/// two cores beside a dozen other tests took over a minute in a fresh-clone run, past
/// heph.up's 60 s (alone, the suite takes under one).
@Suite(.ownsEngine) struct SwarmTests {
    private static let stack = HephBinary.repositoryRoot + "/examples/stack.lua"
    private static let fixtures = HephBinary.repositoryRoot + "/Tests/Fixtures"

    @Test func theThreeTierStackRunsReactsRerunsAndTearsDownOnAOneNodeSwarm() async throws {
        try await SwarmCluster.with(nodes: 1) { swarm in
            let environment = ["DOCKER_HOST": swarm.host, "HEPH_STACK_ONCE": "1"]
            let heph = { (arguments: [String]) in try await HephBinary.run(arguments, environment: environment) }

            // Up: every tier a service, each healthy with its one task.
            let first = try await heph(["run", "--swarm", "--endpoint-mode", "dnsrr", Self.stack, "8090"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("the stack is up"), "\(first.stdout)")
            let listed = try await heph(["ps", "--swarm", "--json"])
            let services = try JSONDecoder().decode([ListedService].self, from: Data(listed.stdout.utf8))
            #expect(services.map(\.name) == ["heph-stack-api", "heph-stack-db", "heph-stack-web"])
            #expect(services.allSatisfy { $0.status == "healthy" && $0.replicas == .init(running: 1, desired: 1) }, "\(listed.stdout)")
            #expect(services.first { $0.name == "heph-stack-web" }?.ports == ["8090": "80"])
            // The overlay network, attachable, with the managed label.
            let network = try await swarm.nodes[0].docker("network", "inspect", "-f", "{{.Driver}} {{.Attachable}} {{index .Labels \"io.heph.managed\"}}", "heph-network")
            #expect(network.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "overlay true true")

            // A task turning unhealthy: the hook sees it, its stop and exit, and Swarm's
            // replacement task through to healthy, each with the node it ran on.
            let node = swarm.nodeNames[0]
            let reaction = try await heph(["run", "--swarm", Self.fixtures + "/swarm-task-health.lua", "stack-db"])
            #expect(reaction.status == 0, "\(reaction.stdout)\n\(reaction.stderr)")
            let lines = reaction.stdout.split(separator: "\n").map(String.init)
            #expect(lines.prefix(3) == [
                "heph-stack-db.1 broken healthy -> unhealthy on \(node)",
                "heph-stack-db.1 broken unhealthy -> stopped on \(node)",
                "heph-stack-db.1 broken exit",
            ], "\(reaction.stdout)")
            #expect(lines.last == "heph-stack-db.1 other running -> healthy on \(node)", "\(reaction.stdout)")
            // Swarm names the node once it assigns the task, which may be after it is created.
            #expect(lines.contains { $0.hasPrefix("heph-stack-db.1 other nil -> created on") }, "\(reaction.stdout)")

            // Rerun: nothing changes (the same services, each unchanged), once the tiers that
            // the broken db took down with it are healthy again.
            let recovered = await Fixtures.eventually(timeout: .seconds(90)) {
                let statuses = try? await heph(["ps", "--swarm", "--json"]).stdout
                return statuses.map { (try? JSONDecoder().decode([ListedService].self, from: Data($0.utf8)))?.allSatisfy { $0.status == "healthy" } ?? false } ?? false
            }
            #expect(recovered)
            let again = try await heph(["run", "--swarm", "--endpoint-mode", "dnsrr", "--progress", Self.stack, "8090"])
            #expect(again.status == 0, "\(again.stderr)")
            for tier in ["stack-db", "stack-api", "stack-web"] {
                #expect(again.stderr.contains("heph.up: \(tier) unchanged"), "\(again.stderr)")
            }
            let ids = { (output: String) in output.split(separator: "\n").filter { $0.hasPrefix("stack-") }.map { $0.split(separator: " ").last.map(String.init) ?? "" } }
            #expect(ids(again.stdout) == ids(first.stdout))

            // Down: no service, no network.
            let down = try await heph(["down", "--swarm"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout == "removed 3 services (heph-stack-api, heph-stack-db, heph-stack-web), network heph-network\n")
            #expect(try await swarm.nodes[0].docker("service", "ls", "-q").stdout.isEmpty)
            #expect(try await swarm.nodes[0].docker("network", "ls", "-q", "--filter", "label=io.heph.managed=true").stdout.isEmpty)
        }
    }

    /// A task on the manager's node is probed by heph itself (here from a probe container
    /// on the overlay network: the manager is an engine in a namespace of its own).
    @Test func readyIsProbedPerTaskOnTheManagersNode() async throws {
        try await SwarmCluster.with(nodes: 1) { swarm in
            let environment = ["DOCKER_HOST": swarm.host, "HEPH_SYSTEM_IMAGE": Fixtures.image]
            let served = try await HephBinary.run(["run", "--swarm", "--endpoint-mode", "dnsrr", Self.fixtures + "/swarm-ready.lua"], environment: environment)
            #expect(served.stdout.contains("UP\n"), "\(served.stdout)\n\(served.stderr)")
            let never = try await HephBinary.run(["run", "--swarm", "--endpoint-mode", "dnsrr", Self.fixtures + "/swarm-ready.lua", "never"], environment: environment)
            #expect(never.stdout.contains("FAILED") && never.stdout.contains("ready probe (tcp port 81): task container "), "\(never.stdout)\n\(never.stderr)")
            #expect(never.stdout.contains("connection refused"), "\(never.stdout)")
            _ = try await HephBinary.run(["down", "--swarm"], environment: environment)
        }
    }

    @Test func aChangedServiceRollsOutAsAnUpdateOfTheSameService() async throws {
        try await SwarmCluster.with(nodes: 1) { swarm in
            let environment = ["DOCKER_HOST": swarm.host]
            let name = TestNames.unique("roll")
            let script = Self.fixtures + "/swarm-service.lua"
            let first = try await HephBinary.run(["run", "--swarm", "--endpoint-mode", "dnsrr", script, name, "v1", "2"], environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            let second = try await HephBinary.run(["run", "--swarm", "--endpoint-mode", "dnsrr", "--progress", script, name, "v2", "2"], environment: environment)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr.contains("heph.up: \(name) replacing"), "\(second.stderr)")
            // The same service, updated in place: Swarm rolled the change out.
            let serviceLine = { (output: String) in output.split(separator: "\n").first { $0.hasPrefix("service ") }.map(String.init) ?? "" }
            let firstID = serviceLine(first.stdout).split(separator: " ")[1]
            #expect(serviceLine(second.stdout) == "service \(firstID) healthy 2/2", "\(second.stdout)")
            let state = try await swarm.nodes[0].docker("service", "inspect", "-f", "{{.UpdateStatus.State}} {{json .Spec.TaskTemplate.ContainerSpec.Env}}", "heph-\(name)")
            #expect(state.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == #"completed ["BODY=v2"]"#)
            let down = try await HephBinary.run(["down", "--swarm"], environment: environment)
            #expect(down.stdout == "removed 1 service (heph-\(name)), network heph-network\n", "\(down.stderr)")
        }
    }

    @Test func twoReplicasWithAPlacementConstraintSpreadOverTwoNodes() async throws {
        try await SwarmCluster.with(nodes: 2) { swarm in
            for node in swarm.nodeNames { try await swarm.label(node: node, "heph-tier=app") }
            let environment = ["DOCKER_HOST": swarm.host]
            let name = TestNames.unique("spread")
            let result = try await HephBinary.run(["run", "--swarm", "--endpoint-mode", "dnsrr", Self.fixtures + "/swarm-service.lua", name, "hello", "2", "placed"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = Set(result.stdout.split(separator: "\n").map(String.init))
            let (a, b) = (swarm.nodeNames[0], swarm.nodeNames[1])
            // One task per node, each healthy; the hooks saw each start, with its node.
            let placed = lines.filter { $0.hasPrefix("task ") }
            #expect(placed == ["task 1 \(a) healthy", "task 2 \(b) healthy"] || placed == ["task 1 \(b) healthy", "task 2 \(a) healthy"], "\(result.stdout)")
            let started = Set(lines.filter { $0.hasPrefix("started ") }.compactMap { $0.split(separator: " ").last.map(String.init) })
            #expect(started == [a, b], "\(result.stdout)")
            let down = try await HephBinary.run(["down", "--swarm"], environment: environment)
            #expect(down.status == 0, "\(down.stderr)")
            #expect(try await swarm.nodes[0].docker("service", "ls", "-q").stdout.isEmpty)
        }
    }

    @Test func projectsKeepServicesApartOnASwarmAndEachBackendRemovesOnlyItsOwn() async throws {
        try await SwarmCluster.with(nodes: 1) { swarm in
            let environment = ["DOCKER_HOST": swarm.host]
            let heph = { (arguments: [String], input: String?) in try await HephBinary.run(arguments, environment: environment, input: input) }
            let script = Self.fixtures + "/swarm-service.lua"
            // One script's service in the default project and in projects a and b, and the
            // engine backend's container (on the manager) in project c.
            for project in ["default", "a", "b"] {
                let run = try await heph(["run", "--swarm", "--endpoint-mode", "dnsrr", "-p", project, script, "web", project], nil)
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout.contains(" healthy 1/1\n"), "\(run.stdout)")
            }
            // Run again in a project: the same service, unchanged.
            let again = try await heph(["run", "--swarm", "--endpoint-mode", "dnsrr", "--progress", "-p", "a", script, "web", "a"], nil)
            #expect(again.stderr.contains("heph.up: web unchanged"), "\(again.stderr)")
            let plain = try await heph(["run", "-p", "c", "-"], #"heph.up{ services = { web = { image = "heph/busybox:latest", cmd = { "sleep", "600" } } } }"#)
            #expect(plain.status == 0, "\(plain.stderr)")
            let listed = try await heph(["ps", "--swarm", "--all", "--json"], nil)
            let services = try JSONDecoder().decode([ListedService].self, from: Data(listed.stdout.utf8))
            #expect(services.map { "\($0.project ?? "") \($0.name)" } == ["a heph_a_web", "b heph_b_web", "default heph-web"], "\(listed.stdout)")
            let overlay = try await swarm.nodes[0].docker("network", "inspect", "-f", #"{{.Driver}} {{index .Labels "io.heph.project"}}"#, "heph_a_network")
            #expect(overlay.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "overlay a")
            #expect(try await swarm.nodes[0].docker("service", "inspect", "-f", #"{{index .Spec.Labels "io.heph.project"}}"#, "heph_b_web").stdout == "b\n")

            // The engine backend's down leaves the swarm's services and overlays alone, and
            // says which projects it left.
            let engineDown = try await heph(["down"], nil)
            #expect(engineDown.stdout == "nothing to remove\nleft alone: 1 container of other projects: c (1); heph down -p NAME removes one project's, heph down --all every project's\n", "\(engineDown.stderr)")
            #expect(try await swarm.nodes[0].docker("network", "inspect", "heph-network").status == 0)

            // One project's services; then every project's containers, then services.
            let downA = try await heph(["down", "--swarm", "-p", "a"], nil)
            #expect(downA.stdout == "removed 1 service (heph_a_web), network heph_a_network\n", "\(downA.stderr)")
            #expect(try await swarm.nodes[0].docker("service", "ls", "--format", "{{.Name}}").stdout.split(separator: "\n").sorted() == ["heph-web", "heph_b_web"])
            let downAll = try await heph(["down", "--all"], nil)
            #expect(downAll.stdout == "removed 1 container (heph_c_web), network heph_c_network\n", "\(downAll.stderr)")
            #expect(try await swarm.nodes[0].docker("service", "ls", "-q").stdout.split(separator: "\n").count == 2)
            let swarmAll = try await heph(["down", "--swarm", "--all"], nil)
            #expect(swarmAll.stdout.hasPrefix("removed 2 services (heph-web, heph_b_web), network "), "\(swarmAll.stdout)\(swarmAll.stderr)")
            #expect(try await swarm.nodes[0].docker("service", "ls", "-q").stdout.isEmpty)
            #expect(try await swarm.nodes[0].docker("network", "ls", "-q", "--filter", "label=io.heph.managed=true").stdout.isEmpty)
        }
    }

    @Test func theSwarmBackendOnAnEngineOutsideASwarmSaysHowToMakeOne() async throws {
        let result = try await HephBinary.run(["run", "--swarm", "-"], input: "heph.list_containers()")
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not part of a swarm (its state is inactive); make one with `docker swarm init --advertise-addr ADDRESS`"), "\(result.stderr)")
    }

    /// `heph ps --swarm --json`, one entry.
    private struct ListedService: Decodable {
        struct Replicas: Decodable, Equatable {
            var running: Int
            var desired: Int
        }

        var name: String
        var status: String
        var ports: [String: String]
        var replicas: Replicas?
        var project: String?
    }
}

/// `heph.config.backend`: chosen before the first engine call, checked, and refused after.
@Suite(.usesEngine) struct BackendChoiceTests {
    @Test func anUnknownBackendIsNamedWithTheChoices() async throws {
        let result = try await HephBinary.run(["run", "-"], input: "heph.config.backend = 'k8s'\nprint(pcall(heph.list_containers))")
        #expect(result.stdout == "false\theph.config.backend: \"k8s\" is not a backend; use \"engine\" (one Docker engine) or \"swarm\" (a Docker Swarm, through a manager)\n", "\(result.stderr)")
    }

    @Test func theBackendCannotChangeAfterTheFirstEngineCall() async throws {
        let result = try await HephBinary.run(["run", "-"], input: """
            print(heph.config.backend)
            heph.list_containers()
            heph.config.backend = "swarm"
            print(pcall(heph.list_containers))
            """)
        #expect(result.stdout == "engine\nfalse\theph.config.backend: the engine backend is in use already (the first engine call chose it); choose the backend before any engine call (heph.config.backend = \"swarm\" at the top of the script, or heph run --swarm)\n", "\(result.stderr)")
    }

    @Test func swarmFromTheScriptReachesTheSwarmBackend() async throws {
        let result = try await HephBinary.run(["run", "-"], input: "heph.config.backend = 'swarm'\nprint(pcall(heph.list_containers))")
        #expect(result.stdout.hasPrefix("false\theph.list_containers: the engine at "), "\(result.stdout)")
        #expect(result.stdout.contains("is not part of a swarm"), "\(result.stdout)")
        let flagged = try await HephBinary.run(["run", "--swarm", "-"], input: "print(heph.config.backend)")
        #expect(flagged.stdout == "swarm\n")
    }
}
