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

    /// What the engine's own event log (its last 256 events of any kind) holds between
    /// `since` and `until` (the engine's Unix seconds; `until` must be past, or the engine
    /// waits for it): the ids of the managed containers it names, how many events of any
    /// kind it holds in that span, and the engine's time from the answer.
    func loggedEvents(since: Double, until: Double) async throws -> (managedContainers: Set<String>, total: Int, engineDate: Double?) {
        let query = [("since", String(format: "%.9f", since)), ("until", String(format: "%.9f", until))]
        let response = try await client.request(.GET, "/events", query: query, timeout: .seconds(10))
        guard response.succeeded else { throw response.failure("cannot read the engine's event log") }
        var managed = Set<String>()
        var total = 0
        var lines = LineSplitter()
        var all = lines.append(response.body)
        if let last = lines.finish() { all.append(last) }
        for line in all where line.readableBytes > 0 {
            total += 1
            guard let message = try? JSONDecoder().decode(EngineEventMessage.self, from: Data(buffer: line)),
                  message.Type == "container", let actor = message.Actor,
                  actor.Attributes?[managedLabel] == "true" else { continue }
            managed.insert(actor.ID)
        }
        return (managed, total, response.engineDate)
    }
}
