import Foundation

/// One event of a managed container from the engine's event stream.
public struct ContainerEvent: Sendable, Hashable {
    /// What happened. Only what changes a container's status, ends its process, or says
    /// why is told apart; the rest is `other`.
    public enum Action: Sendable, Hashable {
        case create
        case start
        /// The process ended with this exit code.
        case die(exitCode: Int)
        /// A signal sent from outside the container's process (`docker kill`, or the first
        /// step of `docker stop`): comes before the `die` it causes.
        case kill(signal: Int)
        /// A stop request ended: comes after the `die` it caused.
        case stop
        /// `docker restart` ended: comes after the `start`.
        case restart
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
    /// The script's name, `heph-web` (the same in every project).
    public var name: String
    /// The engine's name: `heph-web`, or `heph_P_web` in project `P`.
    public var dockerName: String
    /// The engine's time of the event, nanoseconds since the Unix epoch.
    public var timeNano: Int64

    /// Unix seconds, fractional.
    public var time: Double { Double(timeNano) / 1e9 }

    public init(action: Action, id: String, name: String, dockerName: String? = nil, timeNano: Int64) {
        self.action = action
        self.id = id
        self.name = name
        self.dockerName = dockerName ?? name
        self.timeNano = timeNano
    }
}
