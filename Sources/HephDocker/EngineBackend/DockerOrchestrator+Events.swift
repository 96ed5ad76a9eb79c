import Foundation

extension DockerOrchestrator {
    /// Streams the events of managed containers to `onEvent` until the engine ends the
    /// stream (returns) or the connection fails (throws). `onConnected` runs once the engine
    /// has accepted the stream, before the first event. Cancel the task to stop.
    public func streamEvents(onConnected: () async -> Void = {}, _ onEvent: (ContainerEvent) -> Void) async throws {
        let filter = managedFilter(["type": ["container"]])
        if try await onPodman() { return try await streamPodmanEvents(filter: filter, onConnected: onConnected, onEvent) }
        try await streamEngineEvents(filter: filter, onConnected: onConnected) { message in
            if owns(message.Actor?.Attributes), let event = message.containerEvent { onEvent(event) }
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

    /// What the engine's own event log (its last 256 events of any kind) holds from
    /// `since` to `until` (both included; the engine's Unix nanoseconds; `until` must be
    /// past, or the engine waits for it), oldest first, and the engine's time from the
    /// answer.
    func loggedEvents(since: Int64, until: Int64) async throws -> (events: [LoggedEvent], engineDate: Double?) {
        let query = [("since", Self.engineSeconds(since)), ("until", Self.engineSeconds(until))]
        let response = try await client.request(.GET, "/events", query: query, timeout: .seconds(10))
        guard response.succeeded else { throw response.failure("cannot read the engine's event log") }
        var lines = LineSplitter()
        var all = lines.append(response.body)
        if let last = lines.finish() { all.append(last) }
        let events = all.compactMap { line -> LoggedEvent? in
            guard let message = try? JSONDecoder().decode(EngineEventMessage.self, from: Data(buffer: line)) else { return nil }
            return LoggedEvent(message, owned: owns)
        }
        return (events, response.engineDate)
    }

    /// `1796030667.000000123`: nanoseconds as the engine's `since`/`until` take them, exactly.
    static func engineSeconds(_ nanoseconds: Int64) -> String {
        let (seconds, rest) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let fraction = String(rest)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}

/// One event of the engine's log, as the periodic poll reads it.
struct LoggedEvent: Equatable {
    /// When the engine logged it (Unix nanoseconds).
    var timeNano: Int64
    /// What makes it this event among those of the same nanosecond.
    var key: String
    /// The managed container of the orchestrator's projects it concerns, if it concerns one.
    var managedContainer: String?

    /// The event of `message`; `owned` tells a container the orchestrator sees by its labels.
    init?(_ message: EngineEventMessage, owned: ([String: String]?) -> Bool) {
        guard let time = message.timeNano ?? message.time.map({ $0 * 1_000_000_000 }) else { return nil }
        let actor = message.Actor
        timeNano = time
        key = "\(message.Type ?? "") \(message.Action ?? "") \(actor?.ID ?? "")"
        managedContainer = message.Type == "container" && owned(actor?.Attributes) ? actor?.ID : nil
    }
}
