/// Why a container changed: what `ev.cause` says (operations.md §7).
///
/// The engine's events tell most of it: `kill` events before a `die` (a signal from
/// outside), the `stop` after it (a stop request), `oom` before it (the kernel). What only
/// a poll saw has no event behind it, so its cause is ``unknown`` — unless heph lost the
/// engine and found the container stopped when it came back (``engine``).
public enum TransitionCause: String, Sendable, Hashable, CaseIterable, Codable {
    /// The process exited on its own.
    case crash
    /// The kernel killed it for its memory.
    case oom
    /// A signal from outside heph ended it (`docker kill`, `docker rm -f`).
    case killed
    /// Stopped from outside: the engine saw a stop request (`docker stop`, another heph's `heph down`).
    case stopped
    case paused, unpaused
    /// It is gone.
    case removed
    /// Started again after it had exited: from outside (`docker start`, `docker restart`) or
    /// by the engine's restart policy.
    case restarted
    /// The healthcheck changed its verdict.
    case health
    /// Its first start.
    case started
    case created
    /// This heph process asked for it (`ev.expected`); set where expectations are known.
    case heph
    /// The engine stopped it while shutting down (heph lost the engine meanwhile).
    case engine
    /// Seen only by a poll: the engine's events did not say.
    case unknown
}

/// The engine's own state of a container, beside heph's six statuses: what `ev.state` and
/// ContainerInfo's `state` say. `gone` is a container that no longer exists.
public enum ContainerState: String, Sendable, Hashable, CaseIterable, Codable {
    case created, running, paused, restarting, removing, exited, dead, gone

    /// The engine's `State.Status` (a list's `State`). Podman's extra words map to the
    /// nearest: `configured`, `initialized` → created; `stopping` → running (as dockerd's state
    /// stays until the process ends); `stopped` → exited; anything unknown → dead.
    public init(engine: String) {
        if let known = ContainerState(rawValue: engine) {
            self = known
            return
        }
        switch engine {
        case "configured", "initialized": self = .created
        case "stopping": self = .running
        case "stopped": self = .exited
        default: self = .dead
        }
    }
}
