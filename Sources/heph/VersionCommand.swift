import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// `heph version`: heph's version, the Lua it embeds, and the engine it would talk to.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print heph's version, its Lua, and the Docker engine's version.",
        discussion: """
            The engine line says where the engine is (DOCKER_HOST or --host) and what it \
            runs (Docker's engine or Podman's service, docs/engines.md), or why it cannot be reached; the command succeeds either way. \
            `heph --version` prints heph's version alone.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.setUpLogging()
        print("heph \(hephVersion)")
        print(LuaRuntime.luaRelease)
        do {
            let endpoint = try EngineEndpoint(environment: global.engineEnvironment)
            let line = try await DockerOrchestrator.withOrchestrator(endpoint: endpoint, direct: true) { orchestrator in
                let version = try await orchestrator.client.engineVersion()
                let spoken = try await orchestrator.client.apiVersion()
                let engine = try await orchestrator.client.kind() == .podman ? "Podman" : "Docker engine"
                return "\(engine) \(version.Version) at \(endpoint), API \(version.ApiVersion) (heph speaks \(spoken))"
            }
            print(line)
        } catch let error as DockerError {
            print("Docker engine: \(error.explained)")
        }
    }
}
