/// The connection to a Docker engine.
public protocol DockerAPI: Sendable {
    /// Succeeds when the engine answers; throws ``DockerError`` with
    /// ``DockerError/Code/engineUnreachable`` when it cannot be reached.
    func ping() async throws
    /// Releases the connection. Calling it twice is not an error.
    func close() async throws
}
