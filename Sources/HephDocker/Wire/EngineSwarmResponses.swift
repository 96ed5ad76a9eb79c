// Engine answers about Swarm that heph reads: services, tasks, nodes, and the engine's own
// place in the swarm. Only the fields heph uses are declared.

/// `GET /info`, the `Swarm` part.
struct EngineSwarmInfo: Decodable, Sendable {
    struct SwarmFields: Decodable, Sendable {
        /// `active`, `inactive`, `pending`, `error`, `locked`.
        var LocalNodeState: String
        var ControlAvailable: Bool?
        var NodeID: String?
    }

    var Swarm: SwarmFields?
}

/// One object of `GET /services` or `GET /services/{id}`.
struct EngineService: Decodable, Sendable {
    struct VersionFields: Decodable, Sendable {
        var Index: UInt64
    }

    struct UpdateStatusFields: Decodable, Sendable {
        /// `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`, `rollback_completed`.
        var State: String?
        var Message: String?
    }

    /// The spec as the engine answers it: it leaves empty fields out, so every one is optional.
    struct SpecFields: Decodable, Sendable {
        struct TaskTemplateFields: Decodable, Sendable {
            var ContainerSpec: ContainerSpecFields?
        }

        struct ContainerSpecFields: Decodable, Sendable {
            var Image: String?
            var Hostname: String?
            var Healthcheck: HealthcheckFields?
        }

        struct HealthcheckFields: Decodable, Sendable {
            var Test: [String]?
        }

        struct PortFields: Decodable, Sendable {
            var `Protocol`: String?
            var TargetPort: Int?
            var PublishedPort: Int?
        }

        struct EndpointSpecFields: Decodable, Sendable {
            var Ports: [PortFields]?
        }

        var Name: String
        var Labels: [String: String]?
        var TaskTemplate: TaskTemplateFields?
        var Mode: EngineServiceSpec.Mode?
        var EndpointSpec: EndpointSpecFields?
    }

    var ID: String
    var Version: VersionFields
    var Spec: SpecFields
    var UpdateStatus: UpdateStatusFields?

    var name: String { Spec.Name }
    var labels: [String: String] { Spec.Labels ?? [:] }
    /// The script's name (`heph-web` in every project).
    var scriptName: String { Project.scriptName(name, labels: labels) }
    /// The tasks it runs now (0 while stopped).
    var desiredReplicas: Int { Spec.Mode?.Replicated?.Replicas ?? 0 }
    /// The tasks it runs when started.
    var configuredReplicas: Int { labels[SwarmLabel.replicas].flatMap { Int($0) } ?? max(desiredReplicas, 1) }
    var hasHealthcheck: Bool {
        guard let test = Spec.TaskTemplate?.ContainerSpec?.Healthcheck?.Test?.first else { return false }
        return test != "NONE"
    }
}

/// One object of `GET /tasks`.
struct EngineTask: Decodable, Sendable {
    struct StatusFields: Decodable, Sendable {
        var Timestamp: String?
        /// `new`, `pending`, `assigned`, `accepted`, `preparing`, `ready`, `starting`,
        /// `running`, `complete`, `shutdown`, `failed`, `rejected`, `remove`, `orphaned`.
        var State: String
        var Message: String?
        var Err: String?
        var ContainerStatus: ContainerStatusFields?
    }

    struct ContainerStatusFields: Decodable, Sendable {
        var ContainerID: String?
        var ExitCode: Int?
    }

    var ID: String
    var ServiceID: String
    var Slot: Int?
    var NodeID: String?
    var Status: StatusFields
    var DesiredState: String

    /// Whether Swarm still wants this task (not one it is shutting down or keeps as history).
    var isCurrent: Bool { !["shutdown", "remove", "orphaned"].contains(DesiredState) }
    /// The container ended because its healthcheck failed (Swarm then replaces it).
    var failedHealthcheck: Bool { Status.Err?.contains("unhealthy container") ?? false }
}

/// One object of `GET /nodes`.
struct EngineNode: Decodable, Sendable {
    struct DescriptionFields: Decodable, Sendable {
        var Hostname: String?
    }

    var ID: String
    var Description: DescriptionFields?
}

/// `POST /services/create` answer.
struct EngineServiceCreated: Decodable, Sendable {
    var ID: String
}
