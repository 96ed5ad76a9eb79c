import HephDocker

/// The ``DockerError`` `body` throws, or nil when it throws nothing (or something else).
public func dockerError(_ body: () async throws -> Void) async -> DockerError? {
    do {
        try await body()
        return nil
    } catch let error as DockerError {
        return error
    } catch {
        return nil
    }
}
