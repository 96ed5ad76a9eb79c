import Foundation

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
        case "kill": .kill(signal: Int(attributes["signal"] ?? "") ?? 9)
        case "stop": .stop
        case "restart": .restart
        // Podman says `remove`.
        case "destroy", "remove": .destroy
        case "pause": .pause
        case "unpause": .unpause
        case "health_status: healthy": .health(healthy: true)
        case "health_status: unhealthy": .health(healthy: false)
        default: .other(action)
        }
        let engineName = attributes["name"] ?? actor.ID
        return ContainerEvent(action: parsed, id: actor.ID, name: Project.scriptName(engineName, labels: attributes), dockerName: engineName,
                              timeNano: timeNano ?? (time ?? 0) * 1_000_000_000)
    }
}
