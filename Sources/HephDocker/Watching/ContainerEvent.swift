import Foundation

/// One event of a managed container from the engine's event stream.
public struct ContainerEvent: Sendable, Hashable {
    /// What happened. Only what changes a container's status (or ends its process) is
    /// told apart; the rest is `other`.
    public enum Action: Sendable, Hashable {
        case create
        case start
        /// The process ended with this exit code.
        case die(exitCode: Int)
        /// The kernel killed a process for exceeding the memory limit (a `die` follows).
        case oom
        case destroy
        case pause
        case unpause
        /// The healthcheck's verdict changed (`health_status: healthy`).
        case health(healthy: Bool)
        case other(String)
    }

    public var action: Action
    /// The container's full id.
    public var id: String
    /// The full name, `heph-web`.
    public var name: String
    /// The engine's time of the event, nanoseconds since the Unix epoch.
    public var timeNano: Int64

    /// Unix seconds, fractional.
    public var time: Double { Double(timeNano) / 1e9 }

    public init(action: Action, id: String, name: String, timeNano: Int64) {
        self.action = action
        self.id = id
        self.name = name
        self.timeNano = timeNano
    }
}

/// An event as the engine writes it: `{"Type", "Action", "Actor": {"ID", "Attributes"}, "time", "timeNano"}`.
struct EngineEventMessage: Decodable {
    struct ActorFields: Decodable {
        var ID: String
        var Attributes: [String: String]?
    }

    var `Type`: String?
    var Action: String?
    var Actor: ActorFields?
    var time: Int64?
    var timeNano: Int64?

    /// The container event, or nil for anything else (another type, a malformed line).
    var containerEvent: ContainerEvent? {
        guard Type == "container", let action = Action, let actor = Actor else { return nil }
        let attributes = actor.Attributes ?? [:]
        let parsed: ContainerEvent.Action = switch action {
        case "create": .create
        case "start": .start
        case "die": .die(exitCode: Int(attributes["exitCode"] ?? "") ?? -1)
        case "oom": .oom
        case "destroy": .destroy
        case "pause": .pause
        case "unpause": .unpause
        case "health_status: healthy": .health(healthy: true)
        case "health_status: unhealthy": .health(healthy: false)
        default: .other(action)
        }
        return ContainerEvent(action: parsed, id: actor.ID, name: attributes["name"] ?? actor.ID,
                              timeNano: timeNano ?? (time ?? 0) * 1_000_000_000)
    }
}

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
