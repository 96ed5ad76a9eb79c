// The body of `POST /services/create` and `/services/{id}/update`: a Swarm service spec.
// Property names are the Engine API's JSON names; durations are nanoseconds.

/// A service spec, the part heph sets.
struct EngineServiceSpec: Codable, Sendable, Hashable {
    var Name: String
    var Labels: [String: String]
    var TaskTemplate: TaskTemplate
    var Mode: Mode
    var UpdateConfig: UpdateConfig?
    var EndpointSpec: EndpointSpec

    struct TaskTemplate: Codable, Sendable, Hashable {
        var ContainerSpec: ContainerSpec
        var Resources: Resources?
        var RestartPolicy: RestartPolicy
        var Placement: Placement?
        var Networks: [NetworkAttachment]
        /// Bumped to make Swarm replace every task though nothing else changed (a restart).
        var ForceUpdate: Int?
    }

    struct ContainerSpec: Codable, Sendable, Hashable {
        var Image: String
        var Labels: [String: String]
        var Command: [String]?
        var Args: [String]?
        var Hostname: String?
        var Env: [String]
        var Dir: String?
        var Mounts: [Mount]
        var Healthcheck: Healthcheck?
        var StopGracePeriod: Int64
    }

    struct Mount: Codable, Sendable, Hashable {
        var `Type`: String
        var Source: String
        var Target: String
        var ReadOnly: Bool
        var VolumeOptions: VolumeOptions?
    }

    struct VolumeOptions: Codable, Sendable, Hashable {
        var Labels: [String: String]
    }

    struct Healthcheck: Codable, Sendable, Hashable {
        var Test: [String]
        var Interval: Int64
        var Timeout: Int64
        var Retries: Int
        var StartPeriod: Int64
    }

    struct Resources: Codable, Sendable, Hashable {
        var Limits: Limits
    }

    struct Limits: Codable, Sendable, Hashable {
        var NanoCPUs: Int64?
        var MemoryBytes: Int64?
    }

    struct RestartPolicy: Codable, Sendable, Hashable {
        /// `none`, `on-failure` or `any`.
        var Condition: String
        var Delay: Int64?
        var MaxAttempts: Int?
        var Window: Int64?
    }

    struct Placement: Codable, Sendable, Hashable {
        var Constraints: [String]?
        var Preferences: [Preference]?
        var MaxReplicas: Int?
    }

    struct Preference: Codable, Sendable, Hashable {
        var Spread: Spread
    }

    struct Spread: Codable, Sendable, Hashable {
        var SpreadDescriptor: String
    }

    struct NetworkAttachment: Codable, Sendable, Hashable {
        var Target: String
        var Aliases: [String]
    }

    struct Mode: Codable, Sendable, Hashable {
        var Replicated: Replicated?
    }

    struct Replicated: Codable, Sendable, Hashable {
        var Replicas: Int
    }

    struct UpdateConfig: Codable, Sendable, Hashable {
        var Parallelism: Int
        var Delay: Int64?
        var FailureAction: String?
        var Monitor: Int64?
        var Order: String?
    }

    struct EndpointSpec: Codable, Sendable, Hashable {
        var Mode: String
        var Ports: [PortConfig]
    }

    struct PortConfig: Codable, Sendable, Hashable {
        var `Protocol`: String
        var TargetPort: Int
        var PublishedPort: Int
        var PublishMode: String
    }
}
