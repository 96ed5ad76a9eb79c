import Foundation
import HephTestSupport
import Testing

/// `--context`, `DOCKER_CONTEXT` and the current context, from contexts made with the
/// docker CLI itself in a config directory of the test's own (`DOCKER_CONFIG`).
@Suite(.usesEngine) struct ContextTests {
    /// A `DOCKER_CONFIG` directory, and `docker context create NAME --docker host=HOST` in it.
    struct CLIConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("docker-config")).path
        var environment: [String: String] { ["DOCKER_CONFIG": directory, "DOCKER_HOST": "", "DOCKER_CONTEXT": ""] }

        func docker(_ arguments: String...) async throws {
            let result = try await Command.run(Docker.executable(), arguments, environment: environment)
            guard result.status == 0 else { throw CommandError(description: "docker \(arguments.joined(separator: " ")): \(result.stderr)") }
        }

        func create(_ name: String, docker endpoint: String) async throws {
            try await docker("context", "create", name, "--docker", endpoint)
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func theContextChosenTheWayTheDockerCLIChoosesIsTheOneReached() async throws {
        let config = CLIConfig()
        defer { config.remove() }
        try await config.create("here", docker: "host=unix:///var/run/docker.sock")
        try await config.create("nowhere", docker: "host=unix:///nonexistent/heph.sock")
        let unreachable = "heph: cannot reach the Docker engine at unix:///nonexistent/heph.sock"

        // --context
        #expect(try await HephBinary.run(["ps", "--context", "here"], environment: config.environment).status == 0)
        let nowhere = try await HephBinary.run(["ps", "--context", "nowhere"], environment: config.environment)
        #expect(nowhere.status == 69)
        #expect(nowhere.stderr.hasPrefix(unreachable), "\(nowhere.stderr)")
        // DOCKER_CONTEXT
        let fromVariable = try await HephBinary.run(["ps"], environment: config.environment.merging(["DOCKER_CONTEXT": "nowhere"]) { $1 })
        #expect(fromVariable.stderr.hasPrefix(unreachable), "\(fromVariable.stderr)")
        // the current context (`docker context use`) …
        try await config.docker("context", "use", "nowhere")
        let current = try await HephBinary.run(["ps"], environment: config.environment)
        #expect(current.stderr.hasPrefix(unreachable), "\(current.stderr)")
        // … which DOCKER_HOST and --host override, as in the CLI
        #expect(try await HephBinary.run(["ps"], environment: config.environment.merging(["DOCKER_HOST": "unix:///var/run/docker.sock"]) { $1 }).status == 0)
        #expect(try await HephBinary.run(["ps", "--host", "unix:///var/run/docker.sock"], environment: config.environment).status == 0)
        // and --context overrides all of them
        #expect(try await HephBinary.run(["ps", "--context", "here"], environment: config.environment.merging(["DOCKER_CONTEXT": "nowhere"]) { $1 }).status == 0)
        #expect(try await HephBinary.run(["ps", "--context", "default"], environment: config.environment.merging(["DOCKER_HOST": "unix:///var/run/docker.sock"]) { $1 }).status == 0)
    }

    @Test func aWrongContextIsACommandLineError() async throws {
        let config = CLIConfig()
        defer { config.remove() }
        let missing = try await HephBinary.run(["ps", "--context", "missing"], environment: config.environment)
        #expect(missing.status == 64)
        #expect(missing.stderr.hasPrefix("Error: context \"missing\" does not exist in \(config.directory)/contexts"), "\(missing.stderr)")
        let both = try await HephBinary.run(["ps", "--context", "missing", "--host", "unix:///var/run/docker.sock"], environment: config.environment)
        #expect(both.status == 64)
        #expect(both.stderr.hasPrefix("Error: --host and --context cannot be used together"), "\(both.stderr)")
    }

    @Test func anSSHContextGoesThroughSSH() async throws {
        let server = try await LoopbackSSHServer()
        defer { server.stop() }
        let config = CLIConfig()
        defer { config.remove() }
        let ssh = try server.environment()
        try await config.create("remote", docker: "host=\(ssh["DOCKER_HOST"] ?? "")")
        let before = server.acceptedLogins
        let result = try await HephBinary.run(["version", "--context", "remote"], environment: config.environment.merging(["PATH": ssh["PATH"] ?? ""]) { $1 })
        #expect(result.stdout.contains("at \(ssh["DOCKER_HOST"] ?? ""), API"), "\(result.stdout)\(result.stderr)")
        #expect(server.acceptedLogins > before)
    }
}
