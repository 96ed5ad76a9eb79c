/// The state of a managed container as heph reports it: six values, no others.
///
/// | Docker state                                 | status       |
/// |----------------------------------------------|--------------|
/// | created                                      | `created`    |
/// | running, health healthy                      | `healthy`    |
/// | running, health unhealthy                    | `unhealthy`  |
/// | running, no healthcheck or health starting   | `running`    |
/// | stopping (Podman: on its way to stopped)     | `running`    |
/// | exited, dead; stopped (Podman)               | `stopped`    |
/// | paused, restarting, removing, or gone        | `error`      |
public enum ContainerStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case created, running, stopped, error, healthy, unhealthy

    /// Maps the engine's `State.Status` and `State.Health.Status` (nil without a healthcheck).
    public init(engineState: String, health: String?) {
        switch engineState {
        case "created":
            self = .created
        case "running", "stopping":
            switch health {
            case "healthy": self = .healthy
            case "unhealthy": self = .unhealthy
            default: self = .running
            }
        case "exited", "dead", "stopped":
            self = .stopped
        default:
            self = .error
        }
    }

    /// Maps a container list entry, whose only health information is the `Status` text:
    /// `Up 3 seconds (healthy)`, `Up 1 second (unhealthy)`, `Up 2 seconds (health: starting)`.
    init(engineState: String, statusText: String) {
        let health: String? =
            if statusText.hasSuffix("(healthy)") { "healthy" }
            else if statusText.hasSuffix("(unhealthy)") { "unhealthy" }
            else { nil }
        self.init(engineState: engineState, health: health)
    }
}

/// Receives a snapshot of every managed container's status, keyed by full name.
public typealias HealthStatusCallback = @Sendable (_ statuses: [String: ContainerStatus]) -> Void
