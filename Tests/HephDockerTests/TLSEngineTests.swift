import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` against a dockerd of the test's own listening
/// on a loopback TLS port (and demanding a client certificate), with certificates the test
/// makes.
@Suite(.usesEngine) struct TLSEngineTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, in Docker's layout.
    struct Certificates {
        let directory: URL
        var path: String { directory.path }
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

        init(_ name: String) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique(name))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: directory.appendingPathComponent("server.ext"))
            try Data("extendedKeyUsage=clientAuth\n".utf8).write(to: directory.appendingPathComponent("client.ext"))
            try await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca-key.pem"), "-out", file("ca.pem"), "-days", "1", "-subj", "/CN=heph-test-ca")
            for (role, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=heph-test-client")] {
                try await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("\(role)-key.pem"), "-out", file("\(role).csr"), "-subj", subject)
                try await openssl("x509", "-req", "-in", file("\(role).csr"), "-CA", file("ca.pem"), "-CAkey", file("ca-key.pem"), "-CAcreateserial",
                                  "-out", file("\(role).pem"), "-days", "1", "-extfile", file("\(role).ext"))
            }
            // Docker's names for the client's files.
            try FileManager.default.copyItem(atPath: file("client.pem"), toPath: file("cert.pem"))
            try FileManager.default.copyItem(atPath: file("client-key.pem"), toPath: file("key.pem"))
        }

        private func openssl(_ arguments: String...) async throws {
            let result = try await Command.run("/usr/bin/openssl", arguments)
            guard result.status == 0 else { throw CommandError(description: "openssl \(arguments.first ?? "") failed: \(result.stderr)") }
        }

        func remove() {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// A listener on a free loopback port for a private dockerd, with the server's
    /// certificate and key from `certificates`, demanding a client certificate signed by
    /// their CA.
    static func listener(_ certificates: Certificates) -> PrivateEngine.TLSListener {
        PrivateEngine.TLSListener(
            port: Fixtures.freePort(), caFile: certificates.file("ca.pem"),
            certificateFile: certificates.file("server.pem"), keyFile: certificates.file("server-key.pem"))
    }

    /// The error of a verified-TLS ping to 127.0.0.1:`port` with the client files in `certificates`.
    static func pingError(port: Int, certificates: Certificates) async -> DockerError? {
        await dockerError {
            try await Fixtures.withOrchestrator(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certificates.path]) {
                try await $0.client.ping()
            }
        }
    }

    @Test func verifiedTLSWithAClientCertificateReachesTheEngine() async throws {
        let certificates = try await Certificates("tls")
        defer { certificates.remove() }
        let listener = Self.listener(certificates)
        try await PrivateEngine.with(tls: listener) { engine in
            let environment = ["DOCKER_HOST": "tcp://127.0.0.1:\(listener.port)", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certificates.path]
            let name = TestNames.unique("tls")
            try await Fixtures.withOrchestrator(environment: environment) { orchestrator in
                #expect(orchestrator.client.endpoint.description == "tcp://127.0.0.1:\(listener.port)")
                try await orchestrator.client.ping()
                let id = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
                #expect(try await orchestrator.listContainers().contains { $0.id == id })
            }
            // It reached that engine, not the shared one.
            #expect(try await engine.containerNames() == ["heph-\(name)"])
        }
    }

    @Test func aDockerContextWithTLSMaterialReachesTheEngine() async throws {
        let certificates = try await Certificates("tls-context")
        defer { certificates.remove() }
        let listener = Self.listener(certificates)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("docker-config")).path
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await PrivateEngine.with(tls: listener) { engine in
            // The docker CLI copies the files into its store; heph reads them from there.
            let endpoint = "host=tcp://127.0.0.1:\(listener.port),ca=\(certificates.file("ca.pem")),cert=\(certificates.file("cert.pem")),key=\(certificates.file("key.pem"))"
            let made = try await Command.run(Docker.executable(), ["context", "create", "tls-engine", "--docker", endpoint], environment: ["DOCKER_CONFIG": config])
            #expect(made.status == 0, "\(made.stderr)")
            let environment = try DockerContext.engineEnvironment(context: "tls-engine", host: nil, environment: ["DOCKER_CONFIG": config])
            #expect(environment["DOCKER_HOST"] == "tcp://127.0.0.1:\(listener.port)")
            #expect(environment["DOCKER_TLS_VERIFY"] == "1")
            let name = TestNames.unique("ctx")
            try await Fixtures.withOrchestrator(environment: environment) { orchestrator in
                _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            }
            #expect(try await engine.containerNames() == ["heph-\(name)"])
        }
    }

    @Test func aClientCertificateFromAnotherAuthorityIsRefusedByTheEngine() async throws {
        let certificates = try await Certificates("tls-engine")
        let stranger = try await Certificates("tls-client")
        defer {
            certificates.remove()
            stranger.remove()
        }
        let listener = Self.listener(certificates)
        try await PrivateEngine.with(tls: listener) { _ in
            // The client trusts the engine's CA but presents a certificate the engine's CA did not sign.
            try FileManager.default.removeItem(atPath: stranger.file("ca.pem"))
            try FileManager.default.copyItem(atPath: certificates.file("ca.pem"), toPath: stranger.file("ca.pem"))
            let error = await Self.pingError(port: listener.port, certificates: stranger)
            #expect(error?.code == .engineUnreachable)
            #expect(error?.message.hasPrefix("cannot reach the Docker engine at tcp://127.0.0.1:\(listener.port)") == true, "\(String(describing: error))")
        }
    }

    @Test func aServerSignedByAnotherAuthorityIsRefused() async throws {
        let certificates = try await Certificates("tls-server")
        let stranger = try await Certificates("tls-stranger")
        defer {
            certificates.remove()
            stranger.remove()
        }
        let listener = Self.listener(certificates)
        try await PrivateEngine.with(tls: listener) { _ in
            // The client trusts only the stranger's CA, so the engine's certificate must fail.
            let error = await Self.pingError(port: listener.port, certificates: stranger)
            #expect(error?.code == .engineUnreachable)
            #expect(error?.message == "cannot reach the Docker engine at tcp://127.0.0.1:\(listener.port): TLS handshake failed: certificate verify failed")
        }
    }
}
