import Foundation
import NIOCore

extension DockerOrchestrator {
    public func logs(_ containerID: String, tail: Int?) async throws -> ContainerOutput {
        let container = try await managedContainer(containerID)
        let response = try await client.request(.GET, "/containers/\(container.Id)/logs", query: [
            ("stdout", "1"), ("stderr", "1"), ("tail", tail.map(String.init) ?? "all"),
        ])
        guard response.succeeded else { throw response.failure("cannot read the logs of \(container.name)") }
        if container.Config.Tty == true {
            // With a TTY the engine sends the terminal's bytes as they are, both streams as one.
            return ContainerOutput(stdout: Array(response.body.readableBytesView))
        }
        var streams = StreamDemultiplexer()
        streams.append(response.body)
        return streams.finish()
    }

    /// Follows what the container writes (`follow=1`): `onOutput` gets each piece as it
    /// comes, after the last `tail` lines (all when nil), until the container stops or the
    /// calling task is cancelled.
    public func followLogs(_ containerID: String, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws {
        try await followLogs(of: try await managedContainer(containerID), tail: tail, onOutput)
    }

    /// ``followLogs(_:tail:_:)`` of a container already looked up (any container: the
    /// caller has checked it may read it).
    func followLogs(of container: EngineContainerInspect, tail: Int?, _ onOutput: (ContainerOutput) -> Void) async throws {
        let response = try await client.streamingRequest(.GET, "/containers/\(container.Id)/logs", query: [
            ("stdout", "1"), ("stderr", "1"), ("follow", "1"), ("tail", tail.map(String.init) ?? "all"),
        ])
        guard response.status == .ok else {
            throw try await response.collectedFailure().failure("cannot follow the logs of \(container.name)")
        }
        var streams = StreamDemultiplexer()
        do {
            for try await chunk in response.body {
                if container.Config.Tty == true {
                    onOutput(ContainerOutput(stdout: Array(chunk.readableBytesView)))
                    continue
                }
                streams.append(chunk)
                let piece = streams.take()
                if !piece.stdout.isEmpty || !piece.stderr.isEmpty { onOutput(piece) }
            }
        } catch {
            throw client.transportFailure(error, timeout: .seconds(60))
        }
        let rest = streams.finish()
        if !rest.stdout.isEmpty || !rest.stderr.isEmpty { onOutput(rest) }
    }

    public func exec(_ containerID: String, command: [String]) async throws -> ExecResult {
        onAction("exec")
        let container = try await managedContainer(containerID)
        guard container.State.Status == "running" else {
            throw DockerError(.conflict, "cannot exec in \(container.name): it is \(container.State.Status), not running")
        }
        return try await exec(inContainer: container.Id, named: container.name, command: command)
    }

    /// Runs `command` in the running container `id` (any container: the caller has checked
    /// it may touch it), named `name` in errors.
    func exec(inContainer id: String, named name: String, command: [String]) async throws -> ExecResult {
        let created = try await client.request(.POST, "/containers/\(id)/exec", json: EngineExecCreate(Cmd: command))
        guard created.succeeded else { throw created.failure("cannot exec in \(name)") }
        let execID = try created.decode(EngineCreated.self).Id
        // Without an `Upgrade` header the engine answers 200 and streams the frames until the
        // command ends, then closes the connection: a body delimited by the close.
        let started = try await client.streamingRequest(.POST, "/exec/\(execID)/start", json: EngineExecStart(), timeout: .seconds(60))
        guard started.status == .ok else {
            throw try await started.collectedFailure().failure("cannot exec in \(name)")
        }
        var streams = StreamDemultiplexer()
        do {
            for try await chunk in started.body { streams.append(chunk) }
        } catch {
            throw client.transportFailure(error, timeout: .seconds(60))
        }
        let output = streams.finish()
        let inspected = try await client.request(.GET, "/exec/\(execID)/json")
        guard inspected.succeeded else { throw inspected.failure("cannot read the exit code of an exec in \(name)") }
        let state = try inspected.decode(EngineExecInspect.self)
        return ExecResult(exitCode: state.ExitCode ?? -1, output: output)
    }
}

/// `POST /containers/{id}/exec` body.
struct EngineExecCreate: Encodable, Sendable {
    var AttachStdout = true
    var AttachStderr = true
    var Cmd: [String]
}

/// `POST /exec/{id}/start` body.
struct EngineExecStart: Encodable, Sendable {
    var Detach = false
    var Tty = false
}

/// `GET /exec/{id}/json`, the part heph reads.
struct EngineExecInspect: Decodable, Sendable {
    var Running: Bool
    var ExitCode: Int?
}
