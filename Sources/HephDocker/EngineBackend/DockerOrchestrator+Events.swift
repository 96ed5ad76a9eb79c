import Foundation

extension DockerOrchestrator {
    /// Streams the events of managed containers to `onEvent` until the engine ends the
    /// stream (returns) or the connection fails (throws). `onConnected` runs once the engine
    /// has accepted the stream, before the first event. Cancel the task to stop.
    public func streamEvents(onConnected: () async -> Void = {}, _ onEvent: (ContainerEvent) -> Void) async throws {
        try await streamEngineEvents(filter: Self.managedFilter(["type": ["container"]]), onConnected: onConnected) { message in
            if let event = message.containerEvent { onEvent(event) }
        }
    }

    /// Streams every event `filter` (a `filters` query value) selects, as the engine
    /// writes it; see ``streamEvents(onConnected:_:)``.
    func streamEngineEvents(filter: String, onConnected: () async -> Void, _ onMessage: (EngineEventMessage) -> Void) async throws {
        let response = try await client.streamingRequest(.GET, "/events", query: [("filters", filter)], timeout: .seconds(30))
        guard response.status == .ok else {
            throw try await response.collectedFailure().failure("cannot follow the engine's events")
        }
        await onConnected()
        var lines = LineSplitter()
        do {
            for try await chunk in response.body {
                for line in lines.append(chunk) {
                    if let message = try? JSONDecoder().decode(EngineEventMessage.self, from: Data(buffer: line)) {
                        onMessage(message)
                    }
                }
            }
        } catch {
            throw client.transportFailure(error, timeout: .seconds(30))
        }
    }
}
