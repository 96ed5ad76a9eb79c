import HephDocker
import Testing

/// What `up` checks before anything reaches the engine.
@Suite struct TopologyValidationTests {
    static func service(_ name: String, _ dependsOn: [String] = []) -> (String, Topology.Service) {
        (name, Topology.Service(config: ContainerConfig(image: "heph/busybox:latest", name: name), dependsOn: dependsOn))
    }

    static func topology(_ services: (String, Topology.Service)...) -> Topology {
        Topology(services: Dictionary(uniqueKeysWithValues: services))
    }

    @Test func orderPutsEveryServiceAfterItsDependencies() throws {
        let order = try Self.topology(Self.service("c", ["b"]), Self.service("b", ["a"]), Self.service("a"), Self.service("d")).validatedOrder()
        #expect(order == ["a", "b", "c", "d"])
    }

    @Test func aCycleIsNamedInTheOrderItRuns() {
        let error = #expect(throws: DockerError.self) {
            try Self.topology(Self.service("a", ["b"]), Self.service("b", ["c"]), Self.service("c", ["a"])).validatedOrder()
        }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message == "dependency cycle: a -> b -> c -> a")
        #expect(throws: DockerError.self) { try Self.topology(Self.service("a", ["a"])).validatedOrder() }
    }

    @Test func anUnknownDependencyNamesTheServiceAndTheKnownOnes() {
        let error = #expect(throws: DockerError.self) {
            try Self.topology(Self.service("web", ["dbb"]), Self.service("db")).validatedOrder()
        }
        #expect(error?.message == #"services.web.depends_on: unknown service "dbb"; the services are "db", "web""#)
    }

    @Test func aBadConfigIsNamedByItsService() {
        var (name, service) = Self.service("web")
        service.config.ports = ["abc": "80"]
        let error = #expect(throws: DockerError.self) { try Topology(services: [name: service]).validatedOrder() }
        #expect(error?.message.hasPrefix("services.web.ports: ") == true)
    }

    @Test func twoServicesCannotShareAContainer() {
        let error = #expect(throws: DockerError.self) {
            try Self.topology(Self.service("web"), Self.service("heph-web")).validatedOrder()
        }
        #expect(error?.message.contains("would both be the container heph-web") == true)
    }

    @Test func dependentsComeInDependencyOrder() {
        let topology = Self.topology(Self.service("c", ["b", "a"]), Self.service("b", ["a"]), Self.service("a"), Self.service("d"))
        #expect(topology.dependents(of: "a") == ["b", "c"])
        #expect(topology.dependents(of: "b") == ["c"])
        #expect(topology.dependents(of: "d") == [])
    }

    @Test func theFingerprintFollowsTheConfig() throws {
        var config = ContainerConfig(image: "heph/busybox:latest", name: "web", env: ["A": "1"])
        let first = try config.fingerprint()
        #expect(first.count == 16)
        #expect(try config.fingerprint() == first)
        config.env["A"] = "2"
        #expect(try config.fingerprint() != first)
    }
}
