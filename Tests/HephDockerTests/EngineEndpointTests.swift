import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `DOCKER_HOST` as the Docker CLI reads it, and a clear failure when nothing answers.
@Suite struct EngineEndpointTests {
    @Test(arguments: [
        ([:], "unix:///var/run/docker.sock"),
        (["DOCKER_HOST": ""], "unix:///var/run/docker.sock"),
        (["DOCKER_HOST": "unix:///run/user/1000/docker.sock"], "unix:///run/user/1000/docker.sock"),
        (["DOCKER_HOST": "tcp://10.0.0.5:2375"], "tcp://10.0.0.5:2375"),
        (["DOCKER_HOST": "tcp://engine.example"], "tcp://engine.example:2375"),
        (["DOCKER_HOST": "engine.example:4243"], "tcp://engine.example:4243"),
        (["DOCKER_HOST": "tcp://[::1]:2375/"], "tcp://[::1]:2375"),
        (["DOCKER_HOST": "ssh://me@engine.example"], "ssh://me@engine.example"),
        (["DOCKER_HOST": "ssh://engine.example:2222/"], "ssh://engine.example:2222"),
        (["DOCKER_HOST": "ssh://me@[::1]:22"], "ssh://me@[::1]:22"),
    ] as [([String: String], String)])
    func parses(environment: [String: String], expected: String) throws {
        #expect(try EngineEndpoint(environment: environment).description == expected)
    }

    @Test func tlsUsesTheCertificateDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("certs"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(file).path, contents: Data())
        }
        let endpoint = try EngineEndpoint(environment: ["DOCKER_HOST": "tcp://engine.example", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": directory.path])
        #expect(endpoint.description == "tcp://engine.example:2376")
        guard case .tcp(_, _, let tls?) = endpoint.transport else {
            Issue.record("expected TLS")
            return
        }
        #expect(tls.verify)
        #expect(tls.caPath == directory.appendingPathComponent("ca.pem").path)
        #expect(tls.certificatePath == directory.appendingPathComponent("cert.pem").path)
    }

    @Test(arguments: [
        (["DOCKER_HOST": "npipe:////./pipe/docker_engine"], #"DOCKER_HOST=npipe:////./pipe/docker_engine: the scheme "npipe" is not supported; use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST"#),
        (["DOCKER_HOST": "ssh://me@engine/var/run/docker.sock"], "DOCKER_HOST=ssh://me@engine/var/run/docker.sock: a path is not supported in an ssh URL; the remote docker finds its own engine (write ssh://USER@HOST[:PORT])"),
        (["DOCKER_HOST": "ssh://@engine"], "DOCKER_HOST=ssh://@engine: the user name before @ is empty"),
        (["DOCKER_HOST": "ssh://me@"], "DOCKER_HOST=ssh://me@: no host name; use ssh://USER@HOST"),
        (["DOCKER_HOST": "ssh://-oProxyCommand=x"], "DOCKER_HOST=ssh://-oProxyCommand=x: a host name cannot start with -"),
        (["DOCKER_HOST": "unix://relative.sock"], "DOCKER_HOST=unix://relative.sock: the socket path must be absolute, such as unix:///var/run/docker.sock"),
        // A socket's path without unix:// is not a host name to be told about tcp://.
        (["DOCKER_HOST": "/var/run/docker.sock"], "DOCKER_HOST=/var/run/docker.sock: a socket path needs the unix:// scheme; write DOCKER_HOST=unix:///var/run/docker.sock"),
        (["DOCKER_HOST": "/run/user/1000/docker.sock"], "DOCKER_HOST=/run/user/1000/docker.sock: a socket path needs the unix:// scheme; write DOCKER_HOST=unix:///run/user/1000/docker.sock"),
        (["DOCKER_HOST": "docker.sock"], "DOCKER_HOST=docker.sock: a socket path needs the unix:// scheme and an absolute path, such as DOCKER_HOST=unix:///var/run/docker.sock"),
        (["DOCKER_HOST": "tcp://:2375"], "DOCKER_HOST=tcp://:2375: no host name; use tcp://HOST:PORT"),
        (["DOCKER_HOST": "tcp://engine:99999"], #"DOCKER_HOST=tcp://engine:99999: the port "99999" is not a number in 1…65535"#),
        (["DOCKER_HOST": "tcp://engine", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/nonexistent"],
         "DOCKER_TLS_VERIFY is set but /nonexistent/ca.pem cannot be read; set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem"),
    ] as [([String: String], String)])
    func rejects(environment: [String: String], message: String) {
        #expect(throws: DockerError.self) { try EngineEndpoint(environment: environment) }
        do {
            _ = try EngineEndpoint(environment: environment)
        } catch let error as DockerError {
            #expect(error.code == .invalidConfig)
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aMissingSocketIsEngineUnreachableAtOnce() async throws {
        let started = ContinuousClock.now
        let error = await dockerError {
            try await Fixtures.withOrchestrator(environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"]) { orchestrator in
                try await orchestrator.client.ping()
            }
        }
        // At once, not after the answer timeout (60 s): the message below says the socket is
        // missing, not that something timed out. The bound leaves room for a suite starting
        // up, which can stall every task for seconds.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(error?.code == .engineUnreachable)
        #expect(error?.message == "cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such file or directory")
    }

    @Test func aClosedPortIsEngineUnreachable() async throws {
        let port = Fixtures.freePort()
        let error = await dockerError {
            try await Fixtures.withOrchestrator(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"]) { orchestrator in
                _ = try await orchestrator.listContainers()
            }
        }
        #expect(error?.code == .engineUnreachable)
        #expect(error?.message == "cannot reach the Docker engine at tcp://127.0.0.1:\(port): connection refused")
    }

    @Test(.usesEngine) func theRealEngineAnswersAndTheVersionIsNegotiated() async throws {
        try await Fixtures.withOrchestrator { orchestrator in
            try await orchestrator.client.ping()
            let version = try await orchestrator.client.apiVersion()
            #expect(version <= EngineClient.maximumAPIVersion)
            #expect(version >= EngineClient.minimumAPIVersion)
            let advertised = try await Docker.output("version", "-f", "{{.Server.APIVersion}}")
            #expect(version == min(try #require(EngineAPIVersion(parsing: advertised)), EngineClient.maximumAPIVersion))
        }
    }

    @Test func closingTwiceIsFine() async throws {
        let client = try EngineClient(endpoint: EngineEndpoint(environment: [:]))
        try await client.close()
        try await client.close()
    }
}
