import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Each ContainerConfig field, verified from outside: by behaviour inside the container, from
/// the host, and through `docker inspect`.
@Suite(.usesEngine) struct ContainerConfigFieldTests {
    @Test func envIsVisibleInside() async throws {
        let name = TestNames.unique("env")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, env: ["GREETING": "hello world", "EMPTY": ""], cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
        }
        #expect(try await Docker.output("exec", "heph-\(name)", "sh", "-c", #"echo "[$GREETING][${EMPTY-unset}]""#) == "[hello world][]")
    }

    @Test func publishedPortServesABindMountedFileToTheHost() async throws {
        let name = TestNames.unique("www")
        let port = Fixtures.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("served by \(name)\n".utf8).write(to: directory.appendingPathComponent("index.html"))
        defer {
            Docker.forceRemove(["heph-\(name)"])
            try? FileManager.default.removeItem(at: directory)
        }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, ports: ["\(port)": "80"], volumes: [directory.path: "/www:ro"],
                cmd: Fixtures.httpServer(serving: "/www")))
            try await orchestrator.startContainer(name)
            let info = try await orchestrator.listContainers().first { $0.name == "heph-\(name)" }
            #expect(info?.ports == ["\(port)": "80"])
            #expect(try await orchestrator.inspectContainer(name).ports == ["\(port)": "80"])
        }
        #expect(await Fixtures.httpBody(port: port, path: "/index.html") == "served by \(name)\n")
        #expect(try await Docker.output("inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}}{{end}}", "heph-\(name)")
            == "bind \(directory.path) /www false")
    }

    @Test func hostAddressesAndUDPPorts() async throws {
        let name = TestNames.unique("ports")
        let (tcp, udp) = (Fixtures.freePort(), Fixtures.freePort())
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, ports: ["127.0.0.1:\(tcp)": "80", "\(udp)": "53/udp"], cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            let expected = ["127.0.0.1:\(tcp)": "80", "\(udp)": "53/udp"]
            #expect(try await orchestrator.inspectContainer(name).ports == expected)
            #expect(try await orchestrator.listContainers().first { $0.name == "heph-\(name)" }?.ports == expected)
        }
        let published = try await Docker.output("port", "heph-\(name)")
        #expect(published.contains("80/tcp -> 127.0.0.1:\(tcp)"))
        #expect(published.contains("53/udp -> 0.0.0.0:\(udp)"))
    }

    @Test func hostnameIsSet() async throws {
        let name = TestNames.unique("host")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, hostname: "api-host", cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            #expect(try await orchestrator.inspectContainer(name).details?.hostname == "api-host")
        }
        #expect(try await Docker.output("exec", "heph-\(name)", "cat", "/etc/hostname") == "api-host")
    }

    @Test func containersOnTheNetworkReachEachOtherByShortAndFullName() async throws {
        let server = TestNames.unique("srv")
        let client = TestNames.unique("cli")
        defer { Docker.forceRemove(["heph-\(server)", "heph-\(client)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: server,
                cmd: ["sh", "-c", "trap 'exit 0' TERM; busybox mkdir -p /www; echo hello-from-\(server) > /www/index.html; httpd -f -p 80 -h /www & wait"]))
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: client, cmd: Fixtures.idle))
            try await orchestrator.startContainer(server)
            try await orchestrator.startContainer(client)
        }
        #expect(try await Docker.output("inspect", "-f", "{{.HostConfig.NetworkMode}}", "heph-\(client)") == "heph-network")
        for host in [server, "heph-\(server)"] {
            var reply = ""
            let reached = await Fixtures.eventually(timeout: .seconds(10)) {
                reply = (try? await Docker.output("exec", "heph-\(client)", "wget", "-q", "-O-", "http://\(host)/")) ?? ""
                return !reply.isEmpty
            }
            #expect(reached)
            #expect(reply == "hello-from-\(server)")
        }
    }

    @Test func namedVolumesAreCreatedLabelledAndKeepData() async throws {
        let name = TestNames.unique("vol")
        let volume = "heph-test-\(name)"
        defer {
            Docker.forceRemove(["heph-\(name)"])
            Docker.removeVolumes([volume])
        }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, volumes: [volume: "/data"],
                cmd: ["sh", "-c", "echo kept > /data/file; trap 'exit 0' TERM; sleep 3600 & wait"]))
            try await orchestrator.startContainer(name)
            try await orchestrator.removeContainer(name)
        }
        #expect(try await Docker.output("volume", "inspect", "-f", "{{index .Labels \"io.heph.managed\"}}", volume) == "true")
        #expect(try await Docker.output("run", "--rm", "-v", "\(volume):/data", Fixtures.image, "cat", "/data/file") == "kept")
    }

    @Test func commandEntrypointAndWorkdir() async throws {
        let name = TestNames.unique("cmd")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name,
                cmd: ["pwd > /cwd; echo $0 > /arg0; trap 'exit 0' TERM; sleep 3600 & wait"],
                entrypoint: ["sh", "-c"], workdir: "/srv"))
            try await orchestrator.startContainer(name)
        }
        let full = "heph-\(name)"
        #expect(await Fixtures.eventually(timeout: .seconds(5)) { (try? await Docker.output("exec", full, "cat", "/cwd")) == "/srv" })
        #expect(try await Docker.output("inspect", "-f", "{{json .Config.Entrypoint}} {{.Config.WorkingDir}}", full) == #"["sh","-c"] /srv"#)
    }

    @Test func resourceLimitsRestartPolicyAndLabels() async throws {
        let name = TestNames.unique("limits")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, cmd: Fixtures.idle, labels: ["team": "ops"],
                memory: "256m", cpus: 0.5, restart: "on-failure:3"))
        }
        let full = "heph-\(name)"
        #expect(try await Docker.output("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", full) == "268435456 500000000")
        #expect(try await Docker.output("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", full) == "on-failure 3")
        #expect(try await Docker.output("inspect", "-f", "{{index .Config.Labels \"team\"}} {{index .Config.Labels \"io.heph.managed\"}}", full) == "ops true")
    }

    @Test func healthcheckIsPassedInNanoseconds() async throws {
        let name = TestNames.unique("hc")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(
                image: Fixtures.image, name: name, cmd: Fixtures.idle,
                healthcheck: Healthcheck(test: .shell("true"), interval: 0.5, timeout: 2, retries: 4, startPeriod: 1.5)))
        }
        #expect(try await Docker.output("inspect", "-f", "{{json .Config.Healthcheck}}", "heph-\(name)")
            == #"{"Test":["CMD-SHELL","true"],"Interval":500000000,"Timeout":2000000000,"StartPeriod":1500000000,"Retries":4}"#)
    }
}
