// Engine API responses, decoded. Property names are the engine's JSON names, so the types
// decode without CodingKeys; only the fields heph reads are declared.

/// `{"message": "…"}`, the body of every engine error.
struct EngineErrorBody: Decodable, Sendable {
    var message: String
}

/// `{"Id": "…"}`, the answer to a create.
struct EngineCreated: Decodable, Sendable {
    var Id: String
}

/// One entry of `GET /containers/json`.
struct EngineContainerSummary: Decodable, Sendable {
    struct Port: Decodable, Sendable {
        var IP: String?
        var PrivatePort: Int
        var PublicPort: Int?
        var `Type`: String
    }

    var Id: String
    var Names: [String]
    var Image: String
    var State: String
    var Status: String
    var Ports: [Port]?
    var Labels: [String: String]?
}

/// `GET /containers/{id}/json`.
struct EngineContainerInspect: Decodable, Sendable {
    struct StateFields: Decodable, Sendable {
        var Status: String
        var ExitCode: Int
        var OOMKilled: Bool
        var StartedAt: String?
        var FinishedAt: String?
        var Health: HealthFields?
        /// The container's process, in the engine host's pid namespace (0 when not running).
        var Pid: Int?
    }

    struct HealthFields: Decodable, Sendable {
        var Status: String
        var FailingStreak: Int
        var Log: [ProbeFields]?
    }

    struct ProbeFields: Decodable, Sendable {
        var Start: String
        var ExitCode: Int
        var Output: String
    }

    struct ConfigFields: Decodable, Sendable {
        var Image: String
        var Hostname: String
        var Labels: [String: String]?
        var Tty: Bool?
        var Healthcheck: HealthcheckFields?
    }

    /// The container's healthcheck (durations in nanoseconds; 0 or absent: the default).
    struct HealthcheckFields: Decodable, Sendable {
        var Test: [String]?
        var Interval: Int64?
        var Timeout: Int64?
    }

    struct HostConfigFields: Decodable, Sendable {
        var PortBindings: [String: [EnginePortBinding]?]?
    }

    struct NetworkSettingsFields: Decodable, Sendable {
        var Networks: [String: NetworkEndpointFields]?
    }

    struct NetworkEndpointFields: Decodable, Sendable {
        var NetworkID: String?
        var IPAddress: String?
        var GlobalIPv6Address: String?
    }

    var Id: String
    var Name: String
    var RestartCount: Int
    var State: StateFields
    var Config: ConfigFields
    var HostConfig: HostConfigFields
    var NetworkSettings: NetworkSettingsFields?
}

/// One entry of `GET /networks`, and `GET /networks/{id}`.
struct EngineNetwork: Decodable, Sendable {
    struct Endpoint: Decodable, Sendable {
        var Name: String
    }

    var Id: String
    var Name: String
    var Created: String?
    var Labels: [String: String]?
    var Containers: [String: Endpoint]?
    /// `bridge`, `overlay`, …
    var Driver: String?
    /// `local` or `swarm`.
    var Scope: String?
    /// The driver's options (`com.docker.network.bridge.name`).
    var Options: [String: String]?

    /// Creation time in Unix seconds (0 when unknown), to order networks of the same name.
    var createdAt: Double { Created.flatMap(EngineTimestamp.unixSeconds) ?? 0 }
}

/// `GET /volumes`.
struct EngineVolumeList: Decodable, Sendable {
    struct Volume: Decodable, Sendable {
        var Name: String
        var Labels: [String: String]?
    }

    var Volumes: [Volume]?
}
