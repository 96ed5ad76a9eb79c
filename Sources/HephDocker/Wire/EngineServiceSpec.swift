// The body of `POST /services/create` and `/services/{id}/update`: a Swarm service spec.
// Property names are the Engine API's JSON names; durations are nanoseconds.

/// A service spec, the part heph sets.
struct EngineServiceSpec: Encodable, Sendable, Hashable {
    var Name: String
    var Labels: [String: String]
    var TaskTemplate: TaskTemplate
    var Mode: Mode
    var UpdateConfig: UpdateConfig?
    var EndpointSpec: EndpointSpec

    struct TaskTemplate: Encodable, Sendable, Hashable {
        var ContainerSpec: ContainerSpec
        var Resources: Resources?
        var RestartPolicy: RestartPolicy
        var Placement: Placement?
        var Networks: [NetworkAttachment]
        /// Bumped to make Swarm replace every task though nothing else changed (a restart).
        var ForceUpdate: Int?
    }

    struct ContainerSpec: Encodable, Sendable, Hashable {
        var Image: String
        var Labels: [String: String]
        var Command: [String]?
        var Args: [String]?
        var Hostname: String?
        var Env: [String]
        var Dir: String?
        var Mounts: [EngineMount]
        var Healthcheck: EngineHealthConfig?
        var StopGracePeriod: Int64
    }

    struct Resources: Encodable, Sendable, Hashable {
        var Limits: Limits
    }

    struct Limits: Encodable, Sendable, Hashable {
        var NanoCPUs: Int64?
        var MemoryBytes: Int64?
    }

    struct RestartPolicy: Encodable, Sendable, Hashable {
        /// `none`, `on-failure` or `any`.
        var Condition: String
        var Delay: Int64?
        var MaxAttempts: Int?
        var Window: Int64?
    }

    struct Placement: Encodable, Sendable, Hashable {
        var Constraints: [String]?
        var Preferences: [Preference]?
        var MaxReplicas: Int?
    }

    struct Preference: Encodable, Sendable, Hashable {
        var Spread: Spread
    }

    struct Spread: Encodable, Sendable, Hashable {
        var SpreadDescriptor: String
    }

    struct NetworkAttachment: Encodable, Sendable, Hashable {
        var Target: String
        var Aliases: [String]
    }

    /// Also read back from the engine (``EngineService``).
    struct Mode: Codable, Sendable, Hashable {
        var Replicated: Replicated?
    }

    struct Replicated: Codable, Sendable, Hashable {
        var Replicas: Int
    }

    struct UpdateConfig: Encodable, Sendable, Hashable {
        var Parallelism: Int
        var Delay: Int64?
        var FailureAction: String?
        var Monitor: Int64?
        var Order: String?
    }

    struct EndpointSpec: Encodable, Sendable, Hashable {
        var Mode: String
        var Ports: [PortConfig]
    }

    struct PortConfig: Encodable, Sendable, Hashable {
        var `Protocol`: String
        var TargetPort: Int
        var PublishedPort: Int
        var PublishMode: String
    }
}
