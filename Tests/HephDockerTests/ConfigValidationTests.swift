import HephDocker
import HephTestSupport
import Testing

/// Every invalid field is rejected with a message naming it, before any request: the
/// orchestrator here points at a socket that does not exist, so an attempted request would
/// surface as `engineUnreachable` instead of the expected `invalidConfig`.
@Suite struct ConfigValidationTests {
    static let image = Fixtures.image

    static func config(_ change: (inout ContainerConfig) -> Void) -> ContainerConfig {
        var config = ContainerConfig(image: image, name: "valid")
        change(&config)
        return config
    }

    static let cases: [(ContainerConfig, String)] = [
        (config { $0.image = "" }, #"config.image: missing; name an image, such as "heph/busybox:latest""#),
        (config { $0.image = "heph/busy box" }, #"config.image: "heph/busy box" is not an image reference: it contains white space or a control character"#),
        (config { $0.image = "Heph/Busybox" }, #"config.image: "Heph/Busybox" is not an image reference: it has "Heph" in its repository name; repository names are lowercase"#),
        (config { $0.image = "busybox:-x" }, #"config.image: "busybox:-x" is not an image reference: it has a tag "-x" that is not [A-Za-z0-9_][A-Za-z0-9_.-]* (at most 128 characters)"#),
        (config { $0.image = String(repeating: "a", count: 300) }, #"config.image: ""# + String(repeating: "a", count: 48) + #"…" is not an image reference: it has a repository name of 300 characters; at most 255 are allowed"#),
        (config { $0.name = "" }, #"config.name: missing; give the container a name, such as "web""#),
        (config { $0.name = "a/b" }, #"config.name: "a/b" is not a container name; use letters, digits, "_", "." and "-", starting with a letter or digit"#),
        (config { $0.name = "-web" }, #"config.name: "-web" is not a container name; use letters, digits, "_", "." and "-", starting with a letter or digit"#),
        (config { $0.name = String(repeating: "n", count: 70) }, #"config.name: the full name "heph-"# + String(repeating: "n", count: 43) + #"…" has 75 characters; at most 63 are allowed (it is a DNS name)"#),
        (config { $0.name = "web\n" }, #"config.name: "web\n" is not a container name; use letters, digits, "_", "." and "-", starting with a letter or digit"#),
        (config { $0.env = ["": "x"] }, "config.env: a variable name is empty"),
        (config { $0.env = ["A=B": "x"] }, #"config.env: variable name "A=B" contains "=""#),
        (config { $0.env = ["A": "x\u{0}y"] }, #"config.env: variable "A" contains a NUL byte"#),
        (config { $0.ports = ["abc": "80"] }, #"config.ports: host port "abc" is not a number in 1…65535"#),
        (config { $0.ports = ["0": "80"] }, #"config.ports: host port "0" is not a number in 1…65535"#),
        (config { $0.ports = ["70000": "80"] }, #"config.ports: host port "70000" is not a number in 1…65535"#),
        (config { $0.ports = ["8080": "http"] }, #"config.ports: container port "http" (published on "8080") is not a number in 1…65535"#),
        (config { $0.ports = ["8080": "80/sctp"] }, #"config.ports: container port "80/sctp" (published on "8080") has protocol "sctp"; use tcp or udp"#),
        (config { $0.ports = ["1.2.3:8080": "80"] }, #"config.ports: host address "1.2.3" in "1.2.3:8080" is not an IPv4 address (write IPv6 as "[::1]:8080")"#),
        // Compose's HOST:CONTAINER as the key: the entry meant, not a complaint about an address.
        (config { $0.ports = ["8080:80": "80"] }, #"config.ports: the key "8080:80" is compose's HOST:CONTAINER; here the key is the host port and the value the container port: write [8080] = 80"#),
        (config { $0.ports = ["127.0.0.1:8080:53/udp": "53"] }, #"config.ports: the key "127.0.0.1:8080:53/udp" is compose's HOST:CONTAINER; here the key is the host port and the value the container port: write ["127.0.0.1:8080"] = "53/udp""#),
        (config { $0.volumes = ["data/x": "/data"] }, #"config.volumes: host path "data/x" is relative; use an absolute path ("/srv/data") or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"#),
        (config { $0.volumes = ["": "/data"] }, "config.volumes: a host path is empty; use an absolute path or a volume name"),
        (config { $0.volumes = ["/srv": "data"] }, #"config.volumes: container path "data" (for "/srv") must be absolute, such as "/data""#),
        (config { $0.volumes = ["/srv": "/data:rx"] }, #"config.volumes: container path "/data:rx" (for "/srv") has mode "rx"; use ro or rw"#),
        (config { $0.volumes = ["/a": "/data", "/b": "/data:ro"] }, #"config.volumes: container path "/data" is mounted twice (from "/a" and "/b")"#),
        (config { $0.hostname = "-bad-" }, #"config.hostname: "-bad-" is not a hostname; use letters, digits and "-" in dot-separated parts of 1 to 63 characters"#),
        (config { $0.networkName = "my net" }, #"config.networkName: "my net" is not a network name; use letters, digits, "_", "." and "-", starting with a letter or digit"#),
        (config { $0.cmd = [] }, "config.cmd: is empty; leave it out to use the image's own"),
        (config { $0.entrypoint = ["sh", "a\u{0}"] }, "config.entrypoint[2]: contains a NUL byte"),
        (config { $0.workdir = "srv" }, #"config.workdir: "srv" must be an absolute path, such as "/srv""#),
        (config { $0.labels = ["io.heph.managed": "false"] }, #"config.labels: "io.heph.managed" is reserved for heph (names starting with "io.heph.")"#),
        (config { $0.labels = ["": "x"] }, "config.labels: a label name is empty"),
        (config { $0.memory = "lots" }, #"config.memory: "lots" is not a size; use bytes or a number with k, m or g, such as "256m""#),
        (config { $0.memory = "1k" }, #"config.memory: "1k" is below the engine's minimum of 6m"#),
        (config { $0.cpus = 0 }, "config.cpus: 0 is not a CPU count; use a number from 0.01 up, such as 0.5"),
        (config { $0.cpus = .nan }, "config.cpus: nan is not a CPU count; use a number from 0.01 up, such as 0.5"),
        (config { $0.restart = "sometimes" }, #"config.restart: "sometimes" is not a restart policy; use no, on-failure, on-failure:N, always or unless-stopped"#),
        (config { $0.healthcheck = Healthcheck(test: .shell(" ")) }, "config.healthcheck.test: is empty; give a shell command or an array"),
        (config { $0.healthcheck = Healthcheck(test: .exec([])) }, "config.healthcheck.test: is empty; give a shell command or an array"),
        (config { $0.healthcheck = Healthcheck(test: .shell("true"), interval: -1) }, "config.healthcheck.interval: -1 is out of range; use seconds from 0.001 to 86400 (0 = the engine's default)"),
        (config { $0.healthcheck = Healthcheck(test: .shell("true"), timeout: 1e300) }, "config.healthcheck.timeout: 1e+300 is out of range; use seconds from 0.001 to 86400 (0 = the engine's default)"),
        (config { $0.healthcheck = Healthcheck(test: .shell("true"), retries: -1) }, "config.healthcheck.retries: -1 is negative; use a whole number ≥ 0 (0 = the engine's default of 3)"),
    ]

    @Test(arguments: cases)
    func rejectedBeforeAnyRequest(config: ContainerConfig, message: String) async throws {
        let error = await dockerError {
            try await Fixtures.withOrchestrator(environment: ["DOCKER_HOST": "unix:///nonexistent/heph-test.sock"]) { orchestrator in
                _ = try await orchestrator.createContainer(config)
            }
        }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message == message)
        #expect(throws: DockerError.self) { try config.validate() }
    }

    @Test func validConfigPassesWithEveryField() throws {
        let config = ContainerConfig(
            image: "registry.example:5000/team/app:1.2", name: "heph-web",
            env: ["B": "2", "A": "1"], ports: ["8080": "80", "127.0.0.1:8081": "80", "[::1]:5353": "53/udp"],
            volumes: ["/srv": "/data:ro", "cache": "/cache"], hostname: "web.local", networkName: "heph-network",
            cmd: ["httpd"], entrypoint: ["/bin/sh", "-c"], workdir: "/srv", labels: ["team": "ops"],
            memory: "256m", cpus: 0.5, restart: "on-failure:3",
            healthcheck: Healthcheck(test: .shell("true"), interval: 0.5, timeout: 1, retries: 2, startPeriod: 0)
        )
        try config.validate()
    }
}
